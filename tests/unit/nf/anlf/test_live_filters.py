"""Subscription filters on the live path: UPF usage notifications on the in-process bus -> processor -> engines
-> AnLF (Nnwdaf_EventsSubscription over ASGI, Nnwdaf_AnalyticsInfo) -> notifications to a consumer.

One test per filter kind (``snssaia``, ``dnns``, ``excepRequs.excepLevel``): a matching subscription is notified, a
non-matching one is not. Each test then sends a second UE that only the other subscription matches, and waits for
that notification: notifications of one subscription are delivered in order, so had the first UE's finding reached
the non-matching subscription, it would be there before the second UE's.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from nwdaf.app.config import Settings
from nwdaf.nf.anlf.config import AnlfSettings
from nwdaf.nf.anlf.service import build_anlf
from nwdaf.nf.engines.config import EngineSettings
from nwdaf.nf.engines.service import build_engines
from nwdaf.nf.processor.config import ProcessorSettings
from nwdaf.nf.processor.service import build_processor
from nwdaf.platform.bus import InMemoryBus, encode, topics
from nwdaf.platform.events import NF_NOTIFICATION, NfNotification
from nwdaf.platform.models.openapi import SpecValidator
from nwdaf.platform.nf import ServiceContext
from nwdaf.platform.sbi import PROBLEM_JSON, SbiClient, create_sbi_app

pytestmark = pytest.mark.unit

SUBS = "/nnwdaf-eventssubscription/v1/subscriptions"
ANALYTICS = "/nnwdaf-analyticsinfo/v1/analytics"
LARGE_RATE = "UNEXPECTED_LARGE_RATE_FLOW"
SERVER = "93.184.216.34"


@dataclass(frozen=True)
class Ue:
    supi: str
    ip: str
    snssai: dict[str, Any]
    dnn: str


A = Ue("imsi-001010000000001", "10.45.0.2", {"sst": 1, "sd": "0000ab"}, "internet")
B = Ue("imsi-001010000000002", "10.45.0.3", {"sst": 2}, "ims")


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _usage(ue: Ue, ul_bytes: int) -> bytes:
    """One second of a UE's upload to one server, as the collector publishes the UPF's NotificationData.

    ``ul_bytes`` over one reporting period is the uplink rate the large-rate rule sees in the newest period:
    8 * ul_bytes bit/s against its 50 Mbit/s threshold, so the finding's excepLevel is 8 * ul_bytes / 1 Mbit/s
    (capped at 100), and the 10 s window's average stays below the threshold.
    """
    end = datetime.now(UTC)
    body = {"correlationId": "corr-1", "notificationItems": [{
        "eventType": "USER_DATA_USAGE_MEASURES", "ueIpv4Addr": ue.ip, "supi": ue.supi, "dnn": ue.dnn,
        "snssai": ue.snssai, "startTime": _iso(end - timedelta(seconds=1)), "timeStamp": _iso(end),
        "userDataUsageMeasurements": [{
            "flowInfo": {"flowDescription": f"permit out 6 from {SERVER} 443 to {ue.ip} 40000",
                         "flowDirection": "BIDIRECTIONAL"},
            "volumeMeasurement": {"ulVolume": f"{ul_bytes} B", "dlVolume": "100000 B", "ulNbOfPackets": 100,
                                  "dlNbOfPackets": 100}}],
    }]}
    note = NfNotification(source="upf-ee", received_at=end, ue_key=ue.supi, body=body)
    return encode(note, type_=NF_NOTIFICATION, source="collector")


def _reported(consumer: Any, subscription_id: str) -> list[tuple[str, dict[str, Any]]]:
    """(SUPI, AbnormalBehaviour) or ("ue-comm", UeCommunication) of every report a subscription got, in order."""
    out = []
    for note in consumer.for_subscription(subscription_id):
        for event in note["eventNotifications"]:
            out += [(b["supis"][0], b) for b in event.get("abnorBehavrs", [])]
            out += [("ue-comm", c) for c in event.get("ueComms", [])]
    return out


@dataclass
class Live:
    bus: InMemoryBus
    nwdaf: httpx.AsyncClient
    consumer: Any
    """The consumer's notification endpoint (the ``consumer`` fixture: records what the AnLF sends)."""

    def reported(self, subscription_id: str) -> list[tuple[str, dict[str, Any]]]:
        return _reported(self.consumer, subscription_id)

    async def subscribe(self, **event: Any) -> str:
        """A THRESHOLD subscription (default: large-rate flows of any UE); an attribute given as None is left out."""
        sub = {"event": "ABNORMAL_BEHAVIOUR", "notificationMethod": "THRESHOLD", "tgtUe": {"anyUe": True},
               "excepRequs": [{"excepId": LARGE_RATE}], **event}
        body = {"eventSubscriptions": [{k: v for k, v in sub.items() if v is not None}],
                "notificationURI": "http://consumer.example/notify"}
        resp = await self.nwdaf.post(SUBS, json=body)
        assert resp.status_code == 201, resp.text
        return str(resp.headers["location"]).rsplit("/", 1)[-1]

    async def upload(self, ue: Ue, ul_bytes: int) -> None:
        await self.bus.publish(topics.UPF_EE_NOTIFICATIONS, _usage(ue, ul_bytes), key=ue.supi.encode())

    async def until(self, check: Callable[[], bool], what: str) -> None:
        for _ in range(1000):
            if check():
                return
            await asyncio.sleep(0.005)
        raise AssertionError(f"timed out waiting for {what}; received {self.consumer.received}")


@pytest.fixture
async def live(tmp_path: Path, validator: SpecValidator | None, consumer: Any) -> AsyncIterator[Live]:
    bus = InMemoryBus()
    client = SbiClient(transport=httpx.MockTransport(consumer.handler))
    ctx = ServiceContext(Settings(data_dir=tmp_path), bus, client, validator)
    processor = build_processor(ctx, ProcessorSettings(window_s=10.0, slice_features=False))
    engines = build_engines(ctx, EngineSettings())  # no model provisioned: the statistical rules only
    anlf = build_anlf(ctx, AnlfSettings(store_file=":memory:"))
    await processor.start()
    engines_sub = await bus.subscribe([topics.UE_FEATURES], "nwdaf-engines", engines.on_features)
    await anlf.start()
    app = create_sbi_app("nwdaf", anlf.routers())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://nwdaf.example") as nwdaf:
        yield Live(bus, nwdaf, consumer)
    await anlf.stop()
    await engines_sub.stop()
    await processor.stop()
    await client.aclose()


async def test_snssais_filter_on_the_live_path(live: Live) -> None:
    # The slice as the consumer writes it (upper-case SD) and as the UPF reported it (lower-case) is one slice.
    same_slice = await live.subscribe(snssaia=[{"sst": 1, "sd": "0000AB"}])
    other_slice = await live.subscribe(snssaia=[{"sst": 2}])
    await live.upload(A, 20_000_000)
    await live.until(lambda: live.reported(same_slice), "the report for slice 1-0000ab")
    await live.upload(B, 20_000_000)
    await live.until(lambda: live.reported(other_slice), "the report for slice 2")
    assert [supi for supi, _ in live.reported(same_slice)] == [A.supi]
    assert [supi for supi, _ in live.reported(other_slice)] == [B.supi]
    (_, behaviour), = live.reported(same_slice)
    assert (behaviour["snssai"], behaviour["dnn"]) == ({"sst": 1, "sd": "0000ab"}, "internet")


async def test_dnns_filter_on_the_live_path(live: Live) -> None:
    internet = await live.subscribe(dnns=["internet"])
    ims = await live.subscribe(dnns=["ims"])
    await live.upload(A, 20_000_000)
    await live.until(lambda: live.reported(internet), "the report for DNN internet")
    await live.upload(B, 20_000_000)
    await live.until(lambda: live.reported(ims), "the report for DNN ims")
    assert [supi for supi, _ in live.reported(internet)] == [A.supi]
    assert [supi for supi, _ in live.reported(ims)] == [B.supi]


async def test_excep_level_filter_on_the_live_path(live: Live) -> None:
    low = await live.subscribe(excepRequs=[{"excepId": LARGE_RATE, "excepLevel": 50}])
    high = await live.subscribe(excepRequs=[{"excepId": LARGE_RATE, "excepLevel": 80}])
    await live.upload(A, 7_500_000)  # 60 Mbit/s in one second: level 60
    await live.until(lambda: live.reported(low), "the level-60 report")
    await live.upload(B, 12_500_000)  # 100 Mbit/s: level 100
    await live.until(lambda: live.reported(high), "the level-100 report")
    assert [supi for supi, _ in live.reported(high)] == [B.supi]
    assert [b["excep"] for _, b in live.reported(low)] == [
        {"excepId": LARGE_RATE, "excepLevel": 60}, {"excepId": LARGE_RATE, "excepLevel": 100}]


async def test_analytics_info_filters_on_slice_and_dnn_on_the_live_path(live: Live) -> None:
    watcher = await live.subscribe()
    for n, ue in enumerate((A, B), start=1):  # one after the other: the UPF's report time only moves forward
        await live.upload(ue, 20_000_000)
        await live.until(lambda n=n: len(live.reported(watcher)) == n, f"the report on {ue.supi}")

    async def supis(**event_filter: Any) -> list[str]:
        params = {"event-id": "ABNORMAL_BEHAVIOUR", "event-filter": json.dumps(event_filter)}
        resp = await live.nwdaf.get(ANALYTICS, params=params)
        if resp.status_code == 204:
            return []
        assert resp.status_code == 200, resp.text
        return [b["supis"][0] for b in resp.json()["abnorBehavrs"]]

    assert await supis(excepIds=[LARGE_RATE], snssais=[{"sst": 1, "sd": "0000AB"}]) == [A.supi]
    assert await supis(excepIds=[LARGE_RATE], dnns=["ims"]) == [B.supi]
    assert await supis(excepIds=[LARGE_RATE], dnns=["ims"], snssais=[{"sst": 1, "sd": "0000ab"}]) == []


async def test_ue_communication_reports_the_session_slice_and_dnn(live: Live) -> None:
    mine = await live.subscribe(event="UE_COMMUNICATION", tgtUe={"supis": [A.supi]}, excepRequs=None,
                                snssaia=[{"sst": 1, "sd": "0000AB"}], dnns=["internet"])
    other = await live.subscribe(event="UE_COMMUNICATION", tgtUe={"supis": [A.supi, B.supi]}, excepRequs=None,
                                 dnns=["ims"])
    await live.upload(A, 1000)
    await live.until(lambda: live.reported(mine), "the UE communication report")
    await live.upload(B, 1000)
    await live.until(lambda: live.reported(other), "the report on the UE in DNN ims")
    # A is reported again for the second window (its flows are still in it), always with its own slice and DNN.
    assert {(json.dumps(c["trafChar"]["snssai"]), c["trafChar"]["dnn"]) for _, c in live.reported(mine)} == {
        ('{"sst": 1, "sd": "0000ab"}', "internet")}
    assert [(c["trafChar"]["snssai"], c["trafChar"]["dnn"]) for _, c in live.reported(other)] == [
        ({"sst": 2}, "ims")]


@pytest.mark.parametrize(("event", "attribute", "value"), [
    ({}, "networkArea", {"tais": [{"plmnId": {"mcc": "001", "mnc": "01"}, "tac": "000001"}]}),
    ({}, "appIds", ["web"]),
    ({"event": "UE_COMMUNICATION", "tgtUe": {"supis": [A.supi]}}, "appIds", ["web"]),
    ({"event": "UE_COMMUNICATION", "tgtUe": {"supis": [A.supi]}}, "excepRequs", [{"excepId": LARGE_RATE}]),
])
async def test_a_filter_that_cannot_be_honoured_is_refused(live: Live, event: dict[str, Any], attribute: str,
                                                           value: Any) -> None:
    sub: dict[str, Any] = {"event": "ABNORMAL_BEHAVIOUR", "tgtUe": {"anyUe": True}, **event, attribute: value}
    if sub["event"] == "ABNORMAL_BEHAVIOUR":
        sub.setdefault("excepRequs", [{"excepId": LARGE_RATE}])
    resp = await live.nwdaf.post(SUBS, json={"eventSubscriptions": [sub],
                                             "notificationURI": "http://consumer.example/notify"})
    assert resp.status_code == 400, resp.text
    assert resp.headers["content-type"] == PROBLEM_JSON
    assert [p["param"] for p in resp.json()["invalidParams"]] == [f"/eventSubscriptions/0/{attribute}"]


async def test_an_event_filter_that_cannot_be_honoured_is_refused(live: Live) -> None:
    params = {"event-id": "ABNORMAL_BEHAVIOUR",
              "event-filter": json.dumps({"excepIds": [LARGE_RATE], "nfInstanceIds": [
                  "4947a69a-f61b-4bc1-b9da-47c9c5d14b64"]})}
    resp = await live.nwdaf.get(ANALYTICS, params=params)
    assert resp.status_code == 400, resp.text
    assert [p["param"] for p in resp.json()["invalidParams"]] == ["event-filter/nfInstanceIds"]
