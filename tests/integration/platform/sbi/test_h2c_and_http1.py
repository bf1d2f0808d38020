"""A real NF server (hypercorn on loopback) answers HTTP/2 prior-knowledge and HTTP/1.1 clients alike."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import httpx
import pytest
from tests.support.polling import wait_until

from nwdaf.app.config import load_settings
from nwdaf.app.runtime import Runtime, start_runtime
from nwdaf.platform.bus import InMemoryBus, Message, decode, topics
from nwdaf.platform.events import NfNotification

pytestmark = pytest.mark.integration

NOTIFICATION = {
    "correlationId": "corr-1",
    "notificationItems": [
        {
            "eventType": "USER_DATA_USAGE_MEASURES",
            "ueIpv4Addr": "10.45.0.2",
            "timeStamp": "2026-11-23T10:00:00Z",
            "userDataUsageMeasurements": [
                {"volumeMeasurement": {"totalVolume": "1000 B", "ulVolume": "624 B", "dlVolume": "376 B",
                                       "totalNbOfPackets": 15, "ulNbOfPackets": 8, "dlNbOfPackets": 7}}
            ],
        }
    ],
}


@pytest.fixture
async def runtime() -> AsyncIterator[Runtime]:
    settings = load_settings(nwdaf_sbi={"host": "127.0.0.1", "port": 0})
    async with AsyncExitStack() as stack:
        yield await start_runtime(settings, ["collector"], stack)


async def _curl(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        "curl", "-sS", "-o", "-", "-w", "\n%{http_code} %{http_version}", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    body, _, tail = out.decode().rpartition("\n")
    code, version = tail.split()
    return int(code), version, body


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize(("flag", "version"), [("--http2-prior-knowledge", "2"), ("--http1.1", "1.1")])
async def test_curl_reaches_data_receiver(runtime: Runtime, flag: str, version: str) -> None:
    url = runtime.servers["nwdaf"].url + "/nnwdaf-datareceiver/v1/notifications/upf-ee"
    code, got_version, _ = await _curl(flag, "-H", "content-type: application/json",
                                       "--data", json.dumps(NOTIFICATION), url)
    assert (code, got_version) == (204, version)
    code, got_version, body = await _curl(flag, "-H", "content-type: application/json", "-D", "/dev/stderr",
                                          "--data", '{"notificationItems": [', url)
    assert (code, got_version) == (400, version)
    problem = json.loads(body)
    assert problem["status"] == 400
    assert problem["cause"] == "INVALID_MSG_FORMAT"
    assert problem["invalidParams"][0]["param"] == "/"


async def test_problem_json_content_type_over_h2(runtime: Runtime) -> None:
    url = runtime.servers["nwdaf"].url + "/nnwdaf-datareceiver/v1/notifications/upf-ee"
    transport = httpx.AsyncHTTPTransport(http2=True, http1=False)
    async with httpx.AsyncClient(transport=transport) as client:
        resp = await client.post(url, content=b"{oops", headers={"content-type": "application/json"})
    assert resp.http_version == "HTTP/2"
    assert resp.status_code == 400
    assert resp.headers["content-type"] == "application/problem+json"


async def test_schema_violation_lists_invalid_params_and_publishes_nothing(runtime: Runtime) -> None:
    bad = {"correlationId": "c", "notificationItems": [{"eventType": "USER_DATA_USAGE_MEASURES",
                                                         "timeStamp": "yesterday"}]}
    url = runtime.servers["nwdaf"].url + "/nnwdaf-datareceiver/v1/notifications/upf-ee"
    async with httpx.AsyncClient() as client:
        resp = await client.post(url, json=bad)
    assert resp.status_code == 400
    params = {p["param"] for p in resp.json()["invalidParams"]}
    assert "/notificationItems/0/timeStamp" in params
    bus = runtime.context.bus
    assert isinstance(bus, InMemoryBus)
    assert bus.stats.published == 0


async def test_accepted_notification_is_on_the_bus_keyed_by_ue(runtime: Runtime) -> None:
    got: list[Message] = []

    async def handler(msg: Message) -> None:
        got.append(msg)

    sub = await runtime.context.bus.subscribe([topics.UPF_EE_NOTIFICATIONS], "t", handler)
    url = runtime.servers["nwdaf"].url + "/nnwdaf-datareceiver/v1/notifications/upf-ee"
    async with httpx.AsyncClient() as client:
        resp = await client.post(url, json=NOTIFICATION)
    assert resp.status_code == 204
    await wait_until(lambda: got, message="the notification on the bus")
    await sub.stop()
    assert got[0].key == b"10.45.0.2"
    env = decode(got[0].value, NfNotification)
    assert env.payload.body == NOTIFICATION
    assert env.payload.source == "upf-ee"
