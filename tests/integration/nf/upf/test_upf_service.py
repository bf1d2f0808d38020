"""The UPF served for real (hypercorn, h2c/HTTP/1.1 on 127.0.0.1) replays a pcap and notifies a real HTTP subscriber.

Periods are compared by counting, never by timing: two subscriptions report on the same reporting tick, one stays
at 1 s as the reference clock, the other is PATCHed to 3 s, so while the reference sends nine reports the other
sends about three. Deadlines are generous and only bound how long a failing test waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Request, Response
from tests.support.polling import wait_until

from nwdaf.lib.dataplane.synthetic import Scenario
from nwdaf.nf.upf.config import UpfConfig
from nwdaf.nf.upf.service import UpfService, create_upf_service
from nwdaf.platform.models.openapi import OpenApiUnavailable, SpecValidator
from nwdaf.platform.sbi import RunningServer, SbiClient, create_sbi_app, start_server

pytestmark = pytest.mark.integration

EE = "/nupf-ee/v1/ee-subscriptions"
N4 = "/nupf-n4/v1/pdu-sessions"
NOTIFICATION = "TS29564_Nupf_EventExposure.yaml#/components/schemas/NotificationData"


@dataclass
class Consumer:
    """A real subscriber: every notification it received, by the path it was sent to."""

    server: RunningServer | None = None
    received: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def count(self, name: str) -> int:
        return len(self.received.get(name, []))

    def summary(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.received.items()}


@pytest.fixture
async def consumer() -> AsyncIterator[Consumer]:
    c = Consumer()
    router = APIRouter()

    @router.post("/notify/{name}")
    async def notify(name: str, request: Request) -> Response:
        c.received.setdefault(name, []).append(await request.json())
        return Response(status_code=204)

    c.server = await start_server(create_sbi_app("consumer", [("", router)]), "127.0.0.1", 0, name="consumer")
    yield c
    await c.server.stop()


@pytest.fixture
def scenario(tmp_path: Path) -> tuple[Scenario, Path]:
    sc = Scenario.build(benign=3, attackers={"scan": 1}, seed=11)
    path = tmp_path / "upf.pcap"
    sc.write_pcap(path, 0, 90)
    return sc, path


@pytest.fixture
async def make_upf(scenario: tuple[Scenario, Path]) -> AsyncIterator[Callable[..., Any]]:
    """Start a UPF replaying the scenario's pcap at 2x; stopped (service, server, client) at teardown."""
    started: list[tuple[UpfService, RunningServer, SbiClient]] = []

    async def make(**config: Any) -> tuple[UpfService, RunningServer]:
        client = SbiClient()
        cfg = UpfConfig(source=f"pcap:{scenario[1]}:2", notify_backoff_s=0.05, **config)
        svc = create_upf_service(cfg, client)
        server = await start_server(create_sbi_app("upf", svc.routers()), "127.0.0.1", 0, name="upf")
        svc.base_urls = {"upf": server.url}
        started.append((svc, server, client))
        return svc, server

    yield make
    for svc, server, client in started:
        await svc.stop()
        await server.stop()
        await client.aclose()


def _subscription(uri: str, correlation: str) -> dict[str, Any]:
    return {"subscription": {
        "eventList": [{"type": "USER_DATA_USAGE_MEASURES", "measurementTypes": ["VOLUME_MEASUREMENT"],
                       "granularityOfMeasurement": "PER_SESSION"}],
        "eventNotifyUri": uri, "notifyCorrelationId": correlation,
        "eventReportingMode": {"trigger": "PERIODIC", "repPeriod": 1},
        "nfId": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "anyUe": True}}


def _ues(note: dict[str, Any]) -> dict[str, int]:
    return {i["ueIpv4Addr"]: i["userDataUsageMeasurements"][0]["volumeMeasurement"]["totalNbOfPackets"]
            for i in note["notificationItems"]}


async def test_periodic_reports_patch_delete_and_release(
    consumer: Consumer, make_upf: Callable[..., Any], scenario: tuple[Scenario, Path]
) -> None:
    svc, server = await make_upf()
    sc = scenario[0]
    assert consumer.server is not None
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as api:
        seids = {}
        for ue in sc.ues:
            resp = await api.post(N4, json={"supi": ue.supi, "pduSessionId": 1, "ueIpv4Addr": ue.ip,
                                            "snssai": {"sst": 1, "sd": "000001"}, "dnn": "internet"})
            assert resp.status_code == 201, resp.text
            seids[ue.ip] = resp.json()["seid"]
        ids = {}
        for name in ("ref", "patched"):
            resp = await api.post(EE, json=_subscription(f"{consumer.server.url}/notify/{name}", name))
            assert resp.status_code == 201, resp.text
            assert resp.headers["location"] == f"{server.url}{EE}/{resp.json()['subscriptionId']}"
            ids[name] = resp.json()["subscriptionId"]
        await svc.start()

        await wait_until(lambda: consumer.count("patched") >= 2,
                         message=lambda: f"two reports at 1 s; got {consumer.summary()}")
        patch = [{"op": "replace", "path": "/eventReportingMode/repPeriod", "value": 3}]
        resp = await api.patch(f"{EE}/{ids['patched']}", json=patch,
                               headers={"content-type": "application/json-patch+json"})
        assert resp.status_code == 204, resp.text
        ref0, patched0 = consumer.count("ref"), consumer.count("patched")
        await wait_until(lambda: consumer.count("ref") >= ref0 + 9,
                         timeout_s=40, message=lambda: f"nine reference reports; got {consumer.summary()}")
        after = consumer.count("patched") - patched0
        assert 2 <= after <= 4, f"a 3 s period sends ~3 reports while a 1 s one sends 9, got {after}"

        assert (await api.delete(f"{EE}/{ids['patched']}")).status_code == 204
        frozen, ref1 = consumer.count("patched"), consumer.count("ref")
        await wait_until(lambda: consumer.count("ref") >= ref1 + 3,
                         message=lambda: f"three more reference reports; got {consumer.summary()}")
        assert consumer.count("patched") == frozen, "no report after Unsubscribe"

        bot = next(ue for ue in sc.ues if ue.attack == "scan")
        before = (await api.get(f"{N4}/{seids[bot.ip]}")).json()
        assert before["forwardedPackets"] > 0
        assert (await api.delete(f"{N4}/{seids[bot.ip]}")).status_code == 204
        ref2 = consumer.count("ref")
        await wait_until(lambda: consumer.count("ref") >= ref2 + 3,
                         message=lambda: f"reports after the release; got {consumer.summary()}")
        during = (await api.get(f"{N4}/{seids[bot.ip]}")).json()
        ref3 = consumer.count("ref")
        await wait_until(lambda: consumer.count("ref") >= ref3 + 2,
                         message=lambda: f"two more reports; got {consumer.summary()}")
        later = (await api.get(f"{N4}/{seids[bot.ip]}")).json()
        assert later["state"] == "RELEASED"
        assert later["forwardedPackets"] == during["forwardedPackets"], "a released UE is no longer forwarded"
        assert later["droppedPackets"] > during["droppedPackets"] > 0, "its packets are dropped and counted"
        last = _ues(consumer.received["ref"][-1])
        assert bot.ip not in last
        assert any(n > 0 for n in last.values()), "the benign UEs keep being reported"

        metrics = (await api.get("/metrics")).text
        assert 'upf_ee_notifications_total{outcome="delivered"}' in metrics
        assert "upf_packets_dropped_total" in metrics
        stats = (await api.get("/nupf-oam/v1/stats")).json()
        assert stats["delivery"]["dropped"] == 0
        assert stats["pump"]["source_error"] is None

    try:
        spec = SpecValidator()
    except OpenApiUnavailable:
        return
    for notes in consumer.received.values():
        for note in notes:
            assert spec.errors(note, NOTIFICATION) == []


async def test_a_stuck_subscriber_never_stalls_packets_or_other_subscribers(
    consumer: Consumer, make_upf: Callable[..., Any]
) -> None:
    svc, server = await make_upf(learn_sessions=True, queue_size=2, notify_attempts=2)
    assert consumer.server is not None
    release = asyncio.Event()
    stuck_router = APIRouter()

    @stuck_router.post("/stuck")
    async def stuck() -> Response:
        await release.wait()  # never answers while the test runs
        return Response(status_code=204)

    stuck_server = await start_server(create_sbi_app("stuck", [("", stuck_router)]), "127.0.0.1", 0, name="stuck")
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as api:
            good = await api.post(EE, json=_subscription(f"{consumer.server.url}/notify/good", "good"))
            bad = await api.post(EE, json=_subscription(f"{stuck_server.url}/stuck", "stuck"))
            assert (good.status_code, bad.status_code) == (201, 201)
            await svc.start()
            await wait_until(lambda: consumer.count("good") >= 2,
                             message=lambda: f"reports to the healthy subscriber; got {consumer.summary()}")
            packets0 = svc.ctx.pump.packets
            await wait_until(lambda: consumer.count("good") >= 8,
                             timeout_s=40, message=lambda: f"more reports; got {consumer.summary()}")
            assert svc.ctx.pump.packets > packets0, "the pump kept going"
            stats = (await api.get("/nupf-oam/v1/stats")).json()
            stuck_stats = stats["subscriptions"][bad.json()["subscriptionId"]]["delivery"]
            assert stuck_stats["delivered"] == 0
            assert stuck_stats["dropped_queue_full"] >= 1, stuck_stats
            assert stats["subscriptions"][good.json()["subscriptionId"]]["delivery"]["dropped"] == 0
            metrics = (await api.get("/metrics")).text
            assert 'upf_ee_notifications_total{outcome="dropped_queue_full"} 0.0' not in metrics
    finally:
        release.set()
        await stuck_server.stop()
