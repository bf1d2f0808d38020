"""The namespace testbed end to end: UEs browse and a bot port-scans the DN through the UPF namespace, the UPF
service captures live on N3 and reports per-flow usage, a release over the N4 API stops the bot for real (nftables
in the UPF namespace) while the benign UEs keep working, and ``down`` removes every namespace and process.

Needs root and ``ip netns`` (skipped with the reason otherwise), plus nmap, nft and curl.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Request, Response
from tests.support.polling import wait_until

from nwdaf.lib.testbed import traffic
from nwdaf.lib.testbed.netns import list_namespaces, netns_permitted, nft_blocked
from nwdaf.lib.testbed.topology import Testbed, TestbedSpec, down, up
from nwdaf.nf.upf.config import UpfConfig
from nwdaf.nf.upf.service import create_upf_service
from nwdaf.platform.sbi import RunningServer, SbiClient, create_sbi_app, start_server

pytestmark = [pytest.mark.integration, pytest.mark.root]

EE = "/nupf-ee/v1/ee-subscriptions"
N4 = "/nupf-n4/v1/pdu-sessions"


def _why_not() -> str | None:
    reason = netns_permitted()
    if reason:
        return reason
    missing = [t for t in ("nft", "nmap", "curl", "ping") if shutil.which(t) is None]
    return f"missing {missing}: apt-get install -y nftables nmap curl iputils-ping" if missing else None


@pytest.fixture
async def testbed(tmp_path: Path) -> AsyncIterator[Testbed]:
    reason = _why_not()
    if reason:
        pytest.skip(f"testbed needs network namespaces: {reason}")
    spec = TestbedSpec(name=f"nwt{os.getpid() % 100000}", n_ues=3, n_servers=3, state_dir=tmp_path)
    tb = await asyncio.to_thread(up, spec)
    try:
        yield tb
    finally:
        report = await asyncio.to_thread(down, spec)
        assert report.errors == []
        assert not [ns for ns in list_namespaces() if ns.startswith(f"{spec.name}-")]
        assert not [p for p in tb.processes if p.alive()], "every testbed process is gone"


class FlowLog:
    """A subscriber collecting per-flow reports: remote ports seen per UE address."""

    def __init__(self) -> None:
        self.ports: dict[str, set[int]] = {}
        self.notes = 0

    def add(self, note: dict[str, Any]) -> None:
        self.notes += 1
        for item in note["notificationItems"]:
            for m in item.get("userDataUsageMeasurements", []):
                words = m["flowInfo"]["flowDescription"].split()
                if len(words) == 9:  # permit out PROTO from REMOTE PORT to UE PORT
                    self.ports.setdefault(item["ueIpv4Addr"], set()).add(int(words[5]))


@pytest.fixture
async def flow_log() -> AsyncIterator[tuple[FlowLog, RunningServer]]:
    log = FlowLog()
    router = APIRouter()

    @router.post("/flows")
    async def flows(request: Request) -> Response:
        log.add(await request.json())
        return Response(status_code=204)

    server = await start_server(create_sbi_app("nwdaf-test", [("", router)]), "127.0.0.1", 0, name="flows")
    yield log, server
    await server.stop()


async def test_scan_seen_release_stops_the_bot_only(testbed: Testbed, flow_log: tuple[FlowLog, RunningServer]) -> None:
    log, consumer = flow_log
    client = SbiClient()
    svc = create_upf_service(UpfConfig(source=testbed.capture_source, enforcement=f"nft:{testbed.upf_ns}"), client)
    server = await start_server(create_sbi_app("upf", svc.routers()), "127.0.0.1", 0, name="upf")
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as api:
            await _run(testbed, svc, api, log, consumer.url)
    finally:
        await asyncio.to_thread(traffic.stop_traffic, testbed)
        await svc.stop()
        await server.stop()
        await client.aclose()


async def _run(tb: Testbed, svc: Any, api: httpx.AsyncClient, log: FlowLog, consumer_url: str) -> None:
    seids = {}
    for ue in tb.ues:
        resp = await api.post(N4, json={"supi": ue.supi, "pduSessionId": 1, "ueIpv4Addr": ue.ipv4,
                                        "snssai": {"sst": 1, "sd": "000001"}, "dnn": "internet"})
        assert resp.status_code == 201, resp.text
        seids[ue.index] = resp.json()["seid"]
    body = {"subscription": {
        "eventList": [{"type": "USER_DATA_USAGE_MEASURES", "measurementTypes": ["VOLUME_MEASUREMENT"],
                       "granularityOfMeasurement": "PER_FLOW"}],
        "eventNotifyUri": f"{consumer_url}/flows", "notifyCorrelationId": "testbed",
        "eventReportingMode": {"trigger": "PERIODIC", "repPeriod": 1},
        "nfId": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "anyUe": True}}
    assert (await api.post(EE, json=body)).status_code == 201
    await svc.start()
    await asyncio.to_thread(traffic.start, tb, "scan")
    bot, benign = tb.ues[-1], tb.ues[0]
    url = f"http://{tb.servers[0][0]}:{tb.servers[0][1]}/"

    await wait_until(lambda: len(log.ports.get(bot.ipv4, ())) >= 100,
                     timeout_s=40, message="the scan in the flow reports")
    assert len(log.ports.get(benign.ipv4, set())) <= len(tb.spec.server_ports), "browsers use the server ports"

    assert (await api.delete(f"{N4}/{seids[bot.index]}")).status_code == 204
    assert bot.ipv4 in await asyncio.to_thread(nft_blocked, tb.upf_ns)
    assert not await asyncio.to_thread(traffic.reachable, bot, url)
    assert not await asyncio.to_thread(traffic.ping, bot, tb.servers[0][0])
    assert await asyncio.to_thread(traffic.reachable, benign, url)

    first = {k: (await api.get(f"{N4}/{seids[k]}")).json() for k in (bot.index, benign.index)}
    notes = log.notes
    await wait_until(lambda: log.notes >= notes + 3, message="three more reports")
    then = {k: (await api.get(f"{N4}/{seids[k]}")).json() for k in (bot.index, benign.index)}
    assert then[bot.index]["forwardedPackets"] == first[bot.index]["forwardedPackets"], "the bot is not forwarded"
    assert then[bot.index]["droppedPackets"] > first[bot.index]["droppedPackets"], "its attempts are dropped"
    assert then[benign.index]["forwardedPackets"] > first[benign.index]["forwardedPackets"], "benign UEs go on"
