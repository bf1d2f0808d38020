"""A UPF served for real replays a damaged pcap: the fault is reported with its byte offset (OAM stats and log), the
packets before it are counted and reported, and the UPF keeps serving (N4, new subscriptions, reports).

Nothing is timed: the test waits for each outcome with a generous deadline that only bounds a failing run.
"""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Request, Response
from tests.support.polling import wait_until

from nwdaf.lib.dataplane.synthetic import Scenario
from nwdaf.nf.upf.config import UpfConfig
from nwdaf.nf.upf.service import create_upf_service
from nwdaf.platform.sbi import RunningServer, SbiClient, create_sbi_app, start_server

pytestmark = pytest.mark.integration

EE = "/nupf-ee/v1/ee-subscriptions"
STATS = "/nupf-oam/v1/stats"


def _record_offsets(data: bytes) -> list[int]:
    """Offsets of the complete records of a little-endian classic pcap (walked here, not by the reader)."""
    offsets, pos = [], 24
    while pos + 16 <= len(data):
        caplen = struct.unpack_from("<I", data, pos + 8)[0]
        if pos + 16 + caplen > len(data):
            break
        offsets.append(pos)
        pos += 16 + caplen
    return offsets


def _damaged(tmp_path: Path, how: str) -> tuple[Path, Scenario, int, int]:
    """A scenario pcap damaged at record ``k``: (path, scenario, k = packets before the damage, its offset)."""
    sc = Scenario.build(benign=3, seed=5)
    path = tmp_path / f"{how}.pcap"
    written = sc.write_pcap(path, 0, 4)
    data = bytearray(path.read_bytes())
    offsets = _record_offsets(bytes(data))
    assert len(offsets) == written
    k = 2 * written // 3
    at = offsets[k]
    if how == "truncated":
        del data[at + 16 + 5:]  # the header survives, the frame is cut short
    else:
        data[at + 8:at + 12] = struct.pack("<I", 0xFFFF_FFF0)  # an impossible captured length
    path.write_bytes(bytes(data))
    return path, sc, k, at


@pytest.fixture
async def subscriber() -> AsyncIterator[tuple[str, dict[str, list[dict[str, Any]]]]]:
    """A real HTTP subscriber: its base URL and what it received per path name."""
    received: dict[str, list[dict[str, Any]]] = {}
    router = APIRouter()

    @router.post("/notify/{name}")
    async def notify(name: str, request: Request) -> Response:
        received.setdefault(name, []).append(await request.json())
        return Response(status_code=204)

    server: RunningServer = await start_server(create_sbi_app("consumer", [("", router)]), "127.0.0.1", 0,
                                               name="consumer")
    yield server.url, received
    await server.stop()


def _subscription(uri: str, name: str) -> dict[str, Any]:
    return {"subscription": {
        "eventList": [{"type": "USER_DATA_USAGE_MEASURES", "measurementTypes": ["VOLUME_MEASUREMENT"],
                       "granularityOfMeasurement": "PER_SESSION"}],
        "eventNotifyUri": f"{uri}/notify/{name}", "notifyCorrelationId": name,
        "eventReportingMode": {"trigger": "PERIODIC", "repPeriod": 1},
        "nfId": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "anyUe": True}}


def _packets(notes: list[dict[str, Any]]) -> int:
    return sum(m["volumeMeasurement"]["totalNbOfPackets"] for n in notes for i in n["notificationItems"]
               for m in i.get("userDataUsageMeasurements", []))


@pytest.mark.parametrize(("how", "message"), [("truncated", "truncated record at offset"),
                                               ("corrupt", "corrupt record at offset")])
async def test_a_damaged_pcap_is_reported_and_the_upf_keeps_serving(
    tmp_path: Path, subscriber: tuple[str, dict[str, list[dict[str, Any]]]], caplog: pytest.LogCaptureFixture,
    how: str, message: str
) -> None:
    path, sc, before, offset = _damaged(tmp_path, how)
    url, received = subscriber
    sessions = [{"supi": ue.supi, "pduSessionId": 1, "ueIpv4Addr": ue.ip, "snssai": {"sst": 1, "sd": "000001"},
                 "dnn": "internet"} for ue in sc.ues]
    client = SbiClient()
    svc = create_upf_service(UpfConfig(source=f"pcap:{path}", sessions=sessions, report_tick_s=0.2,
                                       notify_backoff_s=0.05), client)
    server = await start_server(create_sbi_app("upf", svc.routers()), "127.0.0.1", 0, name="upf")
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as api:
            assert (await api.post(EE, json=_subscription(url, "before"))).status_code == 201
            await svc.start()

            async def failed() -> bool:
                return (await api.get(STATS)).json()["pump"]["source_error"] is not None

            await wait_until(failed, interval_s=0.05, message="the source error in the OAM stats")
            stats = (await api.get(STATS)).json()
            assert f"{message} {offset}" in stats["pump"]["source_error"]
            assert (stats["pump"]["packets"], stats["dataplane"]["packetsForwarded"]) == (before, before)
            assert stats["pump"]["source_done"] is False, "a damaged file is not a finished one"
            assert any(r.name == "nwdaf.upf" and r.exc_info and f"offset {offset}" in str(r.exc_info[1])
                       for r in caplog.records), "the fault is logged with its offset"

            async def all_reported() -> bool:
                return _packets(received.get("before", [])) == before

            await wait_until(all_reported, interval_s=0.05, message="reports carrying every packet before the damage")
            assert svc.ctx.pump.packets == before, "nothing after the damage was read"

            new_ue = {**sessions[0], "supi": "imsi-001010000000077", "ueIpv4Addr": "10.99.0.1"}
            assert (await api.post("/nupf-n4/v1/pdu-sessions", json=new_ue)).status_code == 201
            assert (await api.post(EE, json=_subscription(url, "after"))).status_code == 201

            async def reported_after() -> bool:
                notes = received.get("after", [])
                return bool(notes) and any(i["ueIpv4Addr"] == "10.99.0.1" for i in notes[-1]["notificationItems"])

            await wait_until(reported_after, interval_s=0.05, message="a report to a subscription made after the fault")
    finally:
        await svc.stop()
        await server.stop()
        await client.aclose()
