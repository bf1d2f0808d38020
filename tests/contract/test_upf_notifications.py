"""What the UPF sends and answers validates against ``TS29564_Nupf_EventExposure.yaml``: every notification variant
(per flow / session / application x volume / throughput / trends; PERIODIC and ONE_TIME; any UE, a UE named by
SUPI or by IPv4 / IPv6 address), the Subscribe response and its errors.

The reports come from the real pipeline: a synthetic UE population (TCP, UDP and ICMP flows, a scanning bot) and an
IPv6 UE go through the data plane's session table and accounting, then the reporting tick.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from typing import Any

import httpx
import orjson
import pytest

from nwdaf.lib.dataplane.batch import PacketBatch
from nwdaf.lib.dataplane.synthetic import Scenario, SyntheticUe
from nwdaf.nf.upf.config import UpfConfig
from nwdaf.nf.upf.reporting import reporting_tick
from nwdaf.nf.upf.service import UpfService, create_upf_service, process_batch
from nwdaf.nf.upf.state import DataClock
from nwdaf.platform.models.openapi import SpecValidator
from nwdaf.platform.sbi import SbiClient, create_sbi_app

pytestmark = pytest.mark.contract

EE = "TS29564_Nupf_EventExposure.yaml#/components/schemas/"
PROBLEM = "TS29571_CommonData.yaml#/components/schemas/ProblemDetails"
LEVELS = ("PER_FLOW", "PER_SESSION", "PER_APPLICATION")
VARIANTS = [
    ("USER_DATA_USAGE_MEASURES", ["VOLUME_MEASUREMENT"]),
    ("USER_DATA_USAGE_MEASURES", ["THROUGHPUT_MEASUREMENT"]),
    ("USER_DATA_USAGE_MEASURES", ["VOLUME_MEASUREMENT", "THROUGHPUT_MEASUREMENT"]),
    ("USER_DATA_USAGE_TRENDS", ["VOLUME_MEASUREMENT"]),
    ("USER_DATA_USAGE_TRENDS", ["THROUGHPUT_MEASUREMENT"]),
    ("USER_DATA_USAGE_TRENDS", ["VOLUME_MEASUREMENT", "THROUGHPUT_MEASUREMENT"]),
]
V6_UE = "2001:db8:0:1::5"
V6_SUPI = "imsi-001010000000099"
SECONDS = 3


def _population() -> Scenario:
    """The UEs of the run (deterministic: the tests look up who was targeted)."""
    return Scenario.build(benign=6, attackers={"scan": 1, "icmp_flood": 1}, seed=3)


def _bot() -> SyntheticUe:
    return next(ue for ue in _population().ues if ue.attack == "scan")


def _body(event: str, measures: list[str], level: str, tag: str = "", **overrides: Any) -> dict[str, Any]:
    """A subscription; its correlation id is ``EVENT/LEVEL/MEASURES[/TAG]``."""
    return {"subscription": {
        "eventList": [{"type": event, "measurementTypes": measures, "granularityOfMeasurement": level}],
        "eventNotifyUri": "http://nwdaf.test/notify",
        "notifyCorrelationId": f"{event}/{level}/{'+'.join(measures)}" + (f"/{tag}" if tag else ""),
        "eventReportingMode": {"trigger": "PERIODIC", "repPeriod": 1},
        "nfId": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "anyUe": True, **overrides,
    }}


def _targeted() -> dict[str, dict[str, Any]]:
    """The variants besides any-UE PERIODIC ones, by tag: ONE_TIME, and UEs named by SUPI, IPv4 and IPv6."""
    bot, volume = _bot(), ["VOLUME_MEASUREMENT"]
    return {
        "one-time": _body("USER_DATA_USAGE_MEASURES", ["VOLUME_MEASUREMENT", "THROUGHPUT_MEASUREMENT"], "PER_FLOW",
                          "one-time", eventReportingMode={"trigger": "ONE_TIME"}),
        "supi": _body("USER_DATA_USAGE_MEASURES", volume, "PER_FLOW", "supi", anyUe=False, supi=bot.supi),
        "ipv4": _body("USER_DATA_USAGE_TRENDS", ["VOLUME_MEASUREMENT", "THROUGHPUT_MEASUREMENT"], "PER_APPLICATION",
                      "ipv4", anyUe=False, ueIpAddress={"ipv4Addr": bot.ip}),
        "ipv6": _body("USER_DATA_USAGE_MEASURES", volume, "PER_SESSION", "ipv6", anyUe=False,
                      ueIpAddress={"ipv6Addr": V6_UE}),
        "ipv6-prefix": _body("USER_DATA_USAGE_MEASURES", volume, "PER_FLOW", "ipv6-prefix", anyUe=False,
                             ueIpAddress={"ipv6Prefix": "2001:db8:0:1::/64"}),
    }


def _tag(note: dict[str, Any]) -> str:
    return "/".join(str(note["correlationId"]).split("/")[3:])


def _v6_packets(t0: int) -> PacketBatch:
    n = 6
    return PacketBatch.from_lists(
        ts_ns=[t0 + i * 100_000_000 for i in range(n)], src=[V6_UE, "2001:db8:ff::1"] * 3,
        dst=["2001:db8:ff::1", V6_UE] * 3, sport=[50000, 443] * 3, dport=[443, 50000] * 3, proto=[17] * n,
        length=[1200] * n)


@pytest.fixture(scope="module")
def notifications() -> list[dict[str, Any]]:
    """Every variant's notifications over three seconds of traffic."""
    return asyncio.run(_collect())


async def _collect() -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        received.append(orjson.loads(request.content))
        return httpx.Response(204)

    svc = create_upf_service(UpfConfig(notify_backoff_s=0.0), SbiClient(transport=httpx.MockTransport(handler)))
    svc.ctx.clock = DataClock(live=False)
    scenario = _population()
    scenario.establish(svc.ctx.sessions)
    svc.ctx.sessions.establish(V6_SUPI, 1, ue_ipv6_prefix="2001:db8:0:1::/64")
    transport = httpx.ASGITransport(app=create_sbi_app("upf", svc.routers()))
    bodies = [_body(e, m, lv) for (e, m), lv in itertools.product(VARIANTS, LEVELS)] + list(_targeted().values())
    async with httpx.AsyncClient(transport=transport, base_url="http://upf.test") as api:
        for body in bodies:
            assert (await api.post("/nupf-ee/v1/ee-subscriptions", json=body)).status_code == 201
        await _run(svc, scenario)
    await svc.ctx.notifier.close_all()
    return received


async def _run(svc: UpfService, scenario: Scenario) -> None:
    for second in range(SECONDS):
        process_batch(svc.ctx, scenario.window(second, second + 1))
        process_batch(svc.ctx, _v6_packets(scenario.start_ns + second * 10**9))
        await reporting_tick(svc.ctx)
        for channel in svc.ctx.notifier.channels.values():
            await asyncio.wait_for(channel.wait_idle(), 10)
    await asyncio.gather(*svc.ctx.closing)  # the ONE_TIME channel closes once its report is delivered


def test_every_variant_was_reported(notifications: list[dict[str, Any]]) -> None:
    correlations = {n["correlationId"] for n in notifications}
    expected = {f"{e}/{lv}/{'+'.join(m)}" for (e, m), lv in itertools.product(VARIANTS, LEVELS)}
    expected |= {b["subscription"]["notifyCorrelationId"] for b in _targeted().values()}
    assert correlations == expected


def test_request_bodies_validate_against_the_yaml(spec: SpecValidator) -> None:
    for body in [_body(e, m, lv) for (e, m), lv in itertools.product(VARIANTS, LEVELS)] + list(
            _targeted().values()):
        assert spec.errors(body, EE + "CreateEventSubscription") == [], body["subscription"]["notifyCorrelationId"]


def test_every_notification_validates_against_the_yaml(
    spec: SpecValidator, notifications: list[dict[str, Any]]
) -> None:
    assert notifications
    for note in notifications:
        assert spec.errors(note, EE + "NotificationData") == [], note["correlationId"]


def test_each_variant_carries_exactly_its_measurements(notifications: list[dict[str, Any]]) -> None:
    want = {"VOLUME_MEASUREMENT": "volumeMeasurement"}
    for note in notifications:
        event, level, measures, *_ = note["correlationId"].split("/")
        names = {want[m] for m in measures.split("+") if m in want}
        if "THROUGHPUT_MEASUREMENT" in measures:
            names.add("throughputStatisticsMeasurement" if event.endswith("TRENDS") else "throughputMeasurement")
        key = {"PER_FLOW": "flowInfo", "PER_APPLICATION": "appId"}.get(level)
        for item in note["notificationItems"]:
            assert item["eventType"] == event
            for m in item.get("userDataUsageMeasurements", []):
                assert set(m) - {"flowInfo", "appId"} == names
                assert (key in m) if key else not ({"flowInfo", "appId"} & set(m))


def test_ipv6_and_icmp_flows_are_reported(notifications: list[dict[str, Any]]) -> None:
    items = [i for n in notifications for i in n["notificationItems"]]
    assert any(i.get("ueIpv6Prefix") == "2001:db8:0:1::/64" for i in items)
    descriptions = {m["flowInfo"]["flowDescription"] for i in items for m in i.get("userDataUsageMeasurements", [])
                    if "flowInfo" in m}
    assert any(d.startswith("permit out 1 from ") for d in descriptions), "ICMP flows have no ports"
    assert any(d.startswith("permit out 17 from 2001:db8:ff::1 443 to 2001:db8:0:1::5") for d in descriptions)


def test_one_time_reports_once_periodic_every_tick(notifications: list[dict[str, Any]]) -> None:
    per_tag = Counter(_tag(n) for n in notifications)
    assert per_tag["one-time"] == 1
    assert per_tag["supi"] == per_tag["ipv4"] == per_tag["ipv6"] == SECONDS
    (once,) = [n for n in notifications if _tag(n) == "one-time"]
    first_tick = {n["notificationItems"][0]["timeStamp"] for n in notifications if _tag(n) == "supi"}
    assert once["notificationItems"][0]["timeStamp"] == min(first_tick), "the report after the first tick"
    assert {i["ueIpv4Addr"] for i in once["notificationItems"] if "ueIpv4Addr" in i} == {
        ue.ip for ue in _population().ues}, "a ONE_TIME any-UE report names every UE"


@pytest.mark.parametrize(("tag", "key", "value"), [
    ("supi", "supi", None), ("ipv4", "ueIpv4Addr", None), ("ipv6", "supi", V6_SUPI),
    ("ipv6-prefix", "ueIpv6Prefix", "2001:db8:0:1::/64"),
])
def test_targeted_subscriptions_report_their_ue_only(
    notifications: list[dict[str, Any]], tag: str, key: str, value: str | None
) -> None:
    bot = _bot()
    want = value or {"supi": bot.supi, "ueIpv4Addr": bot.ip}[key]
    items = [i for n in notifications if _tag(n) == tag for i in n["notificationItems"]]
    assert items
    assert {i.get(key) for i in items} == {want}
    assert all(i.get("userDataUsageMeasurements") for i in items), "the targeted UE had traffic every second"


async def test_subscribe_response_and_errors_validate(spec: SpecValidator) -> None:
    svc = create_upf_service(UpfConfig(), SbiClient(transport=httpx.MockTransport(lambda r: httpx.Response(204))))
    transport = httpx.ASGITransport(app=create_sbi_app("upf", svc.routers()))
    async with httpx.AsyncClient(transport=transport, base_url="http://upf.test") as api:
        body = _body("USER_DATA_USAGE_MEASURES", ["VOLUME_MEASUREMENT"], "PER_FLOW")
        assert spec.errors(body, EE + "CreateEventSubscription") == []
        created = await api.post("/nupf-ee/v1/ee-subscriptions", json=body)
        assert spec.errors(created.json(), EE + "CreatedEventSubscription") == []
        body["subscription"]["eventList"][0]["type"] = "TSC_MNGT_INFO"
        bad = await api.post("/nupf-ee/v1/ee-subscriptions", json=body)
        missing = await api.delete("/nupf-ee/v1/ee-subscriptions/nope")
    await svc.ctx.notifier.close_all()
    for problem in (bad, missing):
        assert spec.errors(problem.json(), PROBLEM) == []


def test_application_related_info_validates(spec: SpecValidator) -> None:
    from nwdaf.lib.dataplane.sessions import SessionTable
    from nwdaf.nf.upf.appinfo import DomainObserver
    from nwdaf.nf.upf.reports import EventSpec, ReportContext, event_items, pack
    from nwdaf.nf.upf.usage import Level, Usage
    from nwdaf.platform.models.upf_ee import DnProtocol, EventType, MeasurementType, NotificationItem

    table = SessionTable()
    table.establish("imsi-001010000000001", 1, ue_ipv4="10.45.0.2")
    seen = DomainObserver()
    seen.add("10.45.0.2", 1_700_000_000_100_000_000, "www.example.com", DnProtocol.DNS_QNAME)
    seen.add("10.45.0.2", 1_700_000_000_200_000_000, "api.example.org", DnProtocol.TLS_SNI)
    seen.add("10.45.0.2", 1_700_000_009_000_000_000, "later.example.net", None)  # after the window
    event = EventSpec(EventType.USER_DATA_USAGE_MEASURES, frozenset({MeasurementType.APPLICATION_RELATED_INFO}),
                      Level.SESSION)
    ctx = ReportContext(1_700_000_000 * 10**9, 1_700_000_001 * 10**9, table.sessions, frozenset({0}), seen)
    items = list(event_items(event, Usage.empty(1), ctx, 10))
    (note,) = pack(items, "app", 10)
    assert spec.errors(note, EE + "NotificationData") == []
    info = note["notificationItems"][0]["userDataUsageMeasurements"][0]["applicationRelatedInformation"]
    assert [d["domainName"] for d in info["domainInfoList"]] == ["www.example.com", "api.example.org"]
    assert NotificationItem.model_validate(note["notificationItems"][0]).supi == "imsi-001010000000001"
