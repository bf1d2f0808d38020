"""Reports built from the data plane's period snapshots, tick by tick (no timers: the test drives the ticks)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from tests.unit.nf.upf.helpers import Subscriber, packets, session_body, subscription

from nwdaf.lib.dataplane.batch import PacketBatch
from nwdaf.nf.upf.processor import create_subscription, delete_subscription, modify_subscription
from nwdaf.nf.upf.reporting import reporting_tick
from nwdaf.nf.upf.service import UpfService, process_batch
from nwdaf.nf.upf.state import DataClock
from nwdaf.platform.models.common import PatchItem
from nwdaf.platform.models.upf_ee import CreateEventSubscription

pytestmark = pytest.mark.unit

SEC = 10**9
T0 = 1_700_000_000 * SEC
UE_A, UE_B, SERVER = "10.60.0.11", "10.60.0.12", "10.61.0.10"


async def _sessions(api: httpx.AsyncClient) -> None:
    for supi, ip in (("imsi-001010000000001", UE_A), ("imsi-001010000000002", UE_B)):
        assert (await api.post("/nupf-n4/v1/pdu-sessions", json=session_body(supi, ip))).status_code == 201


async def _subscribe(upf: UpfService, **overrides: Any) -> str:
    created = await create_subscription(upf.ctx, CreateEventSubscription.model_validate(subscription(**overrides)))
    return str(created.subscriptionId)


async def _tick(upf: UpfService) -> None:
    assert await reporting_tick(upf.ctx)
    for channel in list(upf.ctx.notifier.channels.values()):
        await asyncio.wait_for(channel.wait_idle(), 5)


def _event(type_: str = "USER_DATA_USAGE_MEASURES", level: str = "PER_SESSION", *measures: str,
           **extra: Any) -> dict[str, Any]:
    return {"type": type_, "granularityOfMeasurement": level,
            "measurementTypes": list(measures or ("VOLUME_MEASUREMENT",)), **extra}


def _items(subscriber: Subscriber, *, idle: bool = False) -> list[dict[str, Any]]:
    """Reported items with measurements (``idle``: those of UEs without traffic, which carry none)."""
    return [item for note in subscriber.received for item in note["notificationItems"]
            if ("userDataUsageMeasurements" not in item) == idle]


def _feed(upf: UpfService, *batches: PacketBatch) -> None:
    for batch in batches:
        process_batch(upf.ctx, batch)


async def test_per_session_volume_reports_every_targeted_ue(
    api: httpx.AsyncClient, upf: UpfService, subscriber: Subscriber
) -> None:
    await _sessions(api)
    await _subscribe(upf)
    _feed(upf, packets(UE_A, SERVER, 5, t0_ns=T0), packets(UE_A, SERVER, 3, t0_ns=T0, length=500, uplink=False))
    await _tick(upf)
    assert len(subscriber.received) == 1
    note = subscriber.received[0]
    assert note["correlationId"] == "corr-1"
    by_ue = {item["ueIpv4Addr"]: item for item in note["notificationItems"]}
    a = by_ue[UE_A]
    assert (a["eventType"], a["supi"], a["dnn"], a["snssai"]) == (
        "USER_DATA_USAGE_MEASURES", "imsi-001010000000001", "internet", {"sst": 1, "sd": "000001"})
    assert a["userDataUsageMeasurements"] == [{"volumeMeasurement": {
        "totalVolume": "6.5 kB", "ulVolume": "5 kB", "dlVolume": "1.5 kB",
        "totalNbOfPackets": 8, "ulNbOfPackets": 5, "dlNbOfPackets": 3}}]
    idle = by_ue[UE_B]["userDataUsageMeasurements"][0]["volumeMeasurement"]
    assert (idle["totalVolume"], idle["totalNbOfPackets"]) == ("0 B", 0)


async def test_per_flow_and_per_application_entries(
    api: httpx.AsyncClient, upf: UpfService, subscriber: Subscriber
) -> None:
    await _sessions(api)
    await _subscribe(upf, eventList=[_event(level="PER_FLOW"), _event(level="PER_APPLICATION")])
    _feed(upf, packets(UE_A, SERVER, 2, t0_ns=T0, dport=80), packets(UE_A, SERVER, 4, t0_ns=T0, dport=443))
    await _tick(upf)
    items = _items(subscriber)
    assert {i["ueIpv4Addr"] for i in items} == {UE_A}, "per flow/app: measurements only for UEs with traffic"
    idle = _items(subscriber, idle=True)
    assert [(i["ueIpv4Addr"], i["eventType"]) for i in idle] == [(UE_B, "USER_DATA_USAGE_MEASURES")] * 2
    flows = {m["flowInfo"]["flowDescription"]: m["volumeMeasurement"]["totalNbOfPackets"]
             for m in items[0]["userDataUsageMeasurements"]}
    assert flows == {f"permit out 6 from {SERVER} 80 to {UE_A} 40000": 2,
                     f"permit out 6 from {SERVER} 443 to {UE_A} 40000": 4}
    assert all(m["flowInfo"]["flowDirection"] == "BIDIRECTIONAL" for m in items[0]["userDataUsageMeasurements"])
    apps = {m["appId"]: m["volumeMeasurement"]["totalVolume"] for m in items[1]["userDataUsageMeasurements"]}
    assert apps == {"http": "2 kB", "https": "4 kB"}


async def test_throughput_is_the_rate_over_the_window(
    api: httpx.AsyncClient, upf: UpfService, subscriber: Subscriber
) -> None:
    await _sessions(api)
    await _subscribe(upf, supi="imsi-001010000000001", anyUe=False,
                     eventList=[_event("USER_DATA_USAGE_MEASURES", "PER_SESSION", "THROUGHPUT_MEASUREMENT")])
    _feed(upf, packets(UE_A, SERVER, 5, t0_ns=T0, step_ns=SEC // 4))  # 5 kB over exactly one second
    await _tick(upf)
    (item,) = _items(subscriber)
    assert item["startTime"] == "2023-11-14T22:13:20Z"
    assert item["timeStamp"] == "2023-11-14T22:13:21Z"
    assert item["userDataUsageMeasurements"][0]["throughputMeasurement"] == {
        "ulThroughput": "40 Kbps", "dlThroughput": "0 bps", "ulPacketThroughput": "5 pps",
        "dlPacketThroughput": "0 pps"}


async def test_trends_average_over_active_intervals_and_peak_across_ticks(
    api: httpx.AsyncClient, upf: UpfService, subscriber: Subscriber
) -> None:
    await _sessions(api)
    trends = _event("USER_DATA_USAGE_TRENDS", "PER_SESSION", "THROUGHPUT_MEASUREMENT")
    await _subscribe(upf, supi="imsi-001010000000001", anyUe=False, eventList=[trends],
                     eventReportingMode={"trigger": "PERIODIC", "repPeriod": 2})
    _feed(upf, packets(UE_A, SERVER, 4, t0_ns=T0, step_ns=SEC // 8))
    await _tick(upf)
    assert subscriber.received == [], "a 2 s period waits for two ticks"
    _feed(upf, packets(UE_A, SERVER, 2, t0_ns=T0 + SEC, step_ns=SEC // 8))
    await _tick(upf)
    (item,) = _items(subscriber)
    stats = item["userDataUsageMeasurements"][0]["throughputStatisticsMeasurement"]
    # 6 kB in two one-second sub-intervals (4 kB, then 2 kB): average 24 kbit/s, peak 32 kbit/s.
    assert (stats["ulAverageThroughput"], stats["ulPeakThroughput"]) == ("24 Kbps", "32 Kbps")
    assert (stats["ulAveragePacketThroughput"], stats["ulPeakPacketThroughput"]) == ("3 pps", "4 pps")
    assert stats["dlPeakThroughPut"] == "0 bps"


async def test_filters_restrict_the_rows(api: httpx.AsyncClient, upf: UpfService, subscriber: Subscriber) -> None:
    await _sessions(api)
    only_https = _event(level="PER_FLOW", trafficFilters=[{"flowDescription": "permit out 6 from 10.61.0.0/24 443 "
                                                                              "to assigned"}])
    only_http = _event(level="PER_APPLICATION", appIds=["http"])
    await _subscribe(upf, eventList=[only_https, only_http])
    _feed(upf, packets(UE_A, SERVER, 2, t0_ns=T0, dport=80), packets(UE_B, "10.62.0.1", 3, t0_ns=T0, dport=443),
          packets(UE_B, SERVER, 4, t0_ns=T0, dport=443))
    await _tick(upf)
    flow_item, app_item = _items(subscriber)
    assert [m["flowInfo"]["flowDescription"] for m in flow_item["userDataUsageMeasurements"]] == [
        f"permit out 6 from {SERVER} 443 to {UE_B} 40000"]
    assert [(app_item["ueIpv4Addr"], m["appId"]) for m in app_item["userDataUsageMeasurements"]] == [(UE_A, "http")]


async def test_modify_changes_the_period_in_ticks(
    api: httpx.AsyncClient, upf: UpfService, subscriber: Subscriber
) -> None:
    await _sessions(api)
    sub_id = await _subscribe(upf)
    for k in range(2):
        _feed(upf, packets(UE_A, SERVER, 1, t0_ns=T0 + k * SEC))
        await _tick(upf)
    assert len(subscriber.received) == 2
    patch = [PatchItem.model_validate({"op": "replace", "path": "/eventReportingMode/repPeriod", "value": 3})]
    await modify_subscription(upf.ctx, sub_id, patch)
    for k in range(2, 8):
        _feed(upf, packets(UE_A, SERVER, 1, t0_ns=T0 + k * SEC))
        await _tick(upf)
    assert len(subscriber.received) == 4, "six more ticks at a 3 s period: two more reports"
    last = subscriber.received[-1]["notificationItems"][0]
    spans = [(n["notificationItems"][0]["startTime"], n["notificationItems"][0]["timeStamp"])
             for n in subscriber.received]
    assert all(spans[i][1] == spans[i + 1][0] for i in range(3)), "windows are contiguous: nothing is lost"
    a = next(i for n in subscriber.received[-1:] for i in n["notificationItems"] if i["ueIpv4Addr"] == UE_A)
    assert a["userDataUsageMeasurements"][0]["volumeMeasurement"]["totalNbOfPackets"] == 3
    assert last["eventType"] == "USER_DATA_USAGE_MEASURES"


async def test_max_reports_and_one_time_end_the_subscription(
    api: httpx.AsyncClient, upf: UpfService, subscriber: Subscriber
) -> None:
    await _sessions(api)
    limited = await _subscribe(upf, eventReportingMode={"trigger": "PERIODIC", "repPeriod": 1, "maxReports": 2})
    once = await _subscribe(upf, eventReportingMode={"trigger": "ONE_TIME"}, notifyCorrelationId="once")
    for k in range(4):
        _feed(upf, packets(UE_A, SERVER, 1, t0_ns=T0 + k * SEC))
        await _tick(upf)
    await asyncio.gather(*upf.ctx.closing)
    by_corr = [n["correlationId"] for n in subscriber.received]
    assert (by_corr.count("corr-1"), by_corr.count("once")) == (2, 1)
    assert limited not in upf.ctx.subscriptions
    assert once not in upf.ctx.subscriptions
    assert upf.ctx.notifier.totals().delivered == 3


async def test_expiry_ends_the_subscription_without_a_report(
    api: httpx.AsyncClient, upf: UpfService, subscriber: Subscriber
) -> None:
    await _sessions(api)
    expiry = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    sub_id = await _subscribe(upf, eventReportingMode={"trigger": "PERIODIC", "repPeriod": 1, "expiry": expiry})
    upf.ctx.subscriptions[sub_id].expiry = datetime.now(UTC) - timedelta(seconds=1)
    _feed(upf, packets(UE_A, SERVER, 1, t0_ns=T0))
    await _tick(upf)
    assert sub_id not in upf.ctx.subscriptions
    assert subscriber.received == []


async def test_muted_subscription_counts_reports_but_sends_none(
    api: httpx.AsyncClient, upf: UpfService, subscriber: Subscriber
) -> None:
    await _sessions(api)
    sub_id = await _subscribe(upf, eventReportingMode={"trigger": "PERIODIC", "repPeriod": 1,
                                                       "notifFlag": "DEACTIVATE"})
    _feed(upf, packets(UE_A, SERVER, 1, t0_ns=T0))
    await _tick(upf)
    assert subscriber.received == []
    assert upf.ctx.subscriptions[sub_id].muted_reports == 1


async def test_large_reports_are_split(api: httpx.AsyncClient, make_upf: Any, subscriber: Subscriber) -> None:
    from nwdaf.platform.sbi import create_sbi_app

    upf = make_upf(max_items_per_notification=2)
    transport = httpx.ASGITransport(app=create_sbi_app("upf", upf.routers()))
    async with httpx.AsyncClient(transport=transport, base_url="http://upf.test") as client:
        await _sessions(client)
    await _subscribe(upf, eventList=[_event(level="PER_FLOW")])
    _feed(upf, *(packets(UE_A, SERVER, 1, t0_ns=T0, dport=p) for p in (80, 81, 82, 83, 84)))
    await _tick(upf)
    sizes = [[len(i.get("userDataUsageMeasurements", [])) for i in n["notificationItems"]]
             for n in subscriber.received]
    assert sizes == [[2], [2], [1, 0]], "UE A's five flows in chunks of two, then idle UE B"
    await delete_subscription(upf.ctx, next(iter(upf.ctx.subscriptions)))


async def test_released_ue_disappears_from_reports(
    api: httpx.AsyncClient, upf: UpfService, subscriber: Subscriber
) -> None:
    await _sessions(api)
    await _subscribe(upf)
    seid = (await api.get("/nupf-n4/v1/pdu-sessions", params={"supi": "imsi-001010000000001"})).json()[0]["seid"]
    await api.delete(f"/nupf-n4/v1/pdu-sessions/{seid}")
    _feed(upf, packets(UE_A, SERVER, 5, t0_ns=T0), packets(UE_B, SERVER, 1, t0_ns=T0))
    await _tick(upf)
    assert [i["ueIpv4Addr"] for i in _items(subscriber)] == [UE_B]


async def test_idle_ues_are_left_out_when_configured(
    api: httpx.AsyncClient, upf: UpfService, subscriber: Subscriber
) -> None:
    upf.ctx.config = upf.ctx.config.model_copy(update={"report_idle_ues": False})
    await _sessions(api)
    await _subscribe(upf, eventList=[_event(level="PER_FLOW"), _event(level="PER_SESSION")])
    _feed(upf, packets(UE_A, SERVER, 3, t0_ns=T0))
    await _tick(upf)
    assert _items(subscriber, idle=True) == []
    assert {i["ueIpv4Addr"] for i in _items(subscriber)} == {UE_A}, "UE B was quiet: in neither event"
    await _tick(upf)
    assert len(subscriber.received) == 1, "a period without traffic sends nothing"


async def test_a_live_upf_without_traffic_reports_idle_ues(
    api: httpx.AsyncClient, upf: UpfService, subscriber: Subscriber
) -> None:
    """Source ``none`` (or a quiet interface): the clock runs, no packet arrives; reports still go out."""
    upf.ctx.clock = DataClock(live=True)
    await _sessions(api)
    await _subscribe(upf, eventList=[_event("USER_DATA_USAGE_MEASURES", "PER_FLOW")])
    await _tick(upf)
    await _tick(upf)
    assert len(subscriber.received) == 2
    idle = _items(subscriber, idle=True)
    assert {item["ueIpv4Addr"] for item in idle} == {UE_A, UE_B}
    assert _items(subscriber) == []
