"""Data Relay: REST reads with filters, ProblemDetails for bad filters, and the live analytics-results stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from tests.support import storage_data as data
from tests.support.polling import wait_until

from nwdaf.lib.storage.backends import RecordQuery, StorageError
from nwdaf.lib.storage.backends.mergetree import MergeTreeBackend
from nwdaf.nf.storage.api.data_relay import API_ROOT, create_router
from nwdaf.nf.storage.config import RelaySettings
from nwdaf.nf.storage.normalise import analytics_row
from nwdaf.nf.storage.relay import AnalyticsStream, StreamFilter, StreamLaggedError
from nwdaf.platform.bus import InMemoryBus, topics
from nwdaf.platform.sbi import create_sbi_app, start_server

pytestmark = pytest.mark.unit
AT = data.now_utc()


@pytest.fixture
async def bus() -> AsyncIterator[InMemoryBus]:
    instance = InMemoryBus()
    await instance.start()
    yield instance
    await instance.close()


@pytest.fixture
async def stream(bus: InMemoryBus) -> AsyncIterator[AnalyticsStream]:
    hub = AnalyticsStream(bus, RelaySettings(client_queue=3, keepalive_s=0.05), instance_id="test")
    await hub.start()
    yield hub
    await hub.stop()


@pytest.fixture
async def app(chdb: MergeTreeBackend, stream: AnalyticsStream) -> FastAPI:
    for i, supi in enumerate(["imsi-001010000000001", "imsi-001010000000002"]):
        result = data.analytics_result(AT - timedelta(minutes=i), supi=supi)
        await chdb.write("analytics_results", [analytics_row(result)], f"seed-{i}")
    return create_sbi_app("nwdaf", [(API_ROOT, create_router(chdb, stream, lambda: {"ok": 1}))])


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://nwdaf") as c:
        yield c


async def test_get_analytics_results_filtered_by_supi_and_time(client: httpx.AsyncClient) -> None:
    resp = await client.get(f"{API_ROOT}/analytics-results")
    assert resp.status_code == 200
    body = resp.json()
    assert body["count"] == 2
    assert [r["supi"] for r in body["items"]] == ["imsi-001010000000001", "imsi-001010000000002"]  # newest first

    resp = await client.get(f"{API_ROOT}/analytics-results", params={"supi": "imsi-001010000000002"})
    assert [r["supi"] for r in resp.json()["items"]] == ["imsi-001010000000002"]

    start = (AT - timedelta(seconds=30)).isoformat()
    resp = await client.get(f"{API_ROOT}/analytics-results", params={"start": start, "snssai": "1-00000A"})
    assert [r["supi"] for r in resp.json()["items"]] == ["imsi-001010000000001"]
    resp = await client.get(f"{API_ROOT}/analytics-results", params={"limit": 1})
    assert resp.json()["count"] == 1


async def test_other_resources_answer_empty_pages(client: httpx.AsyncClient) -> None:
    for resource in ("flow-records", "ue-features", "upf-usage-reports"):
        resp = await client.get(f"{API_ROOT}/{resource}", params={"supi": "imsi-001010000000001"})
        assert resp.json() == {"items": [], "count": 0}


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"snssai": "300"}, "query:snssai"),
        ({"start": "yesterday"}, "query:start"),
        ({"start": "2025-01-01T00:00:00"}, "query:start"),
        ({"start": "2025-01-02T00:00:00Z", "end": "2025-01-01T00:00:00Z"}, "query:end"),
        ({"limit": "0"}, "query:limit"),
        ({"limit": "100001"}, "query:limit"),
        ({"supi": ""}, "query:supi"),
    ],
)
async def test_bad_filters_are_400_problem_details(client: httpx.AsyncClient, params: dict[str, str],
                                                   param: str) -> None:
    resp = await client.get(f"{API_ROOT}/flow-records", params=params)
    assert resp.status_code == 400
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert [p["param"] for p in resp.json()["invalidParams"]] == [param]


class DownReader:
    async def query(self, table: str, query: RecordQuery) -> list[dict[str, Any]]:
        raise StorageError("clickhouse://127.0.0.1:9/db: connection refused")


async def test_storage_outage_is_503(stream: AnalyticsStream) -> None:
    app = create_sbi_app("nwdaf", [(API_ROOT, create_router(DownReader(), stream))])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://nwdaf") as c:
        resp = await c.get(f"{API_ROOT}/ue-features")
    assert resp.status_code == 503
    assert "connection refused" in resp.json()["detail"]


async def test_openapi_documents_every_route(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    for resource in ("flow-records", "ue-features", "analytics-results", "upf-usage-reports"):
        get = paths[f"{API_ROOT}/{resource}"]["get"]
        assert get["summary"]
        assert {p["name"] for p in get["parameters"]} == {"supi", "snssai", "start", "end", "limit"}
    stream_op = paths[f"{API_ROOT}/analytics-results/stream"]["get"]
    assert "text/event-stream" in stream_op["responses"]["200"]["content"]


def sse_events(text: str) -> list[tuple[str, Any]]:
    events = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":"))
        if "event" in fields:
            events.append((fields["event"], orjson.loads(fields["data"])))
    return events


async def test_stream_delivers_new_matching_results_only(
    bus: InMemoryBus, stream: AnalyticsStream, client: httpx.AsyncClient
) -> None:
    request = asyncio.create_task(client.get(f"{API_ROOT}/analytics-results/stream",
                                             params={"supi": "imsi-001010000000009", "limit": 2}))
    await wait_until(lambda: stream.client_count >= 1, message="a stream client to connect")
    for supi in ("imsi-001010000000009", "imsi-001010000000001", "imsi-001010000000009"):
        await bus.publish(topics.ANALYTICS_RESULTS, data.analytics_message(AT, supi=supi), key=supi.encode())
    resp = await asyncio.wait_for(request, 20)
    assert resp.headers["content-type"].startswith("text/event-stream")
    events = sse_events(resp.text)
    assert [(e, d["supi"]) for e, d in events] == [("analyticsResult", "imsi-001010000000009")] * 2
    assert events[0][1]["exception_id"] == "SUSPICION_OF_DDOS_ATTACK"
    assert stream.client_count == 0


async def test_history_is_not_replayed_on_the_stream(bus: InMemoryBus) -> None:
    await bus.publish(topics.ANALYTICS_RESULTS, data.analytics_message(AT))
    await asyncio.sleep(0.01)  # the old message gets an older publish timestamp than the hub's start
    hub = AnalyticsStream(bus, instance_id="late")
    await hub.start()
    try:
        await wait_until(lambda: hub.stats.skipped_history, message="the old message to be skipped")
        assert hub.stats.skipped_history == 1
        assert hub.stats.delivered == 0
    finally:
        await hub.stop()


async def test_a_client_that_falls_behind_gets_an_error_event(stream: AnalyticsStream) -> None:
    events = stream.events(StreamFilter())
    first = asyncio.create_task(anext(events))
    await wait_until(lambda: stream.client_count >= 1, message="a stream client to connect")
    assert await first is None  # keepalive tick while idle
    for i in range(5):  # queue holds 3
        stream.publish({**analytics_row(data.analytics_result(AT)), "n": i})
    received = [await anext(events) for _ in range(3)]
    assert [item[1]["n"] for item in received if item] == [0, 1, 2]
    with pytest.raises(StreamLaggedError, match="fell more than 3 results behind"):
        await anext(events)
    assert stream.stats.lagged_clients == 1


async def test_stream_over_a_real_http_server(bus: InMemoryBus, stream: AnalyticsStream, app: FastAPI) -> None:
    server = await start_server(app, "127.0.0.1", 0, name="relay-test")
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as c, c.stream(
            "GET", f"{API_ROOT}/analytics-results/stream", params={"event": "ABNORMAL_BEHAVIOUR"}
        ) as resp:
            await wait_until(lambda: stream.client_count >= 1, message="a stream client to connect")
            await bus.publish(topics.ANALYTICS_RESULTS, data.analytics_message(AT))
            text = ""
            async for chunk in resp.aiter_text():
                text += chunk
                if "event: analyticsResult" in text and text.endswith("\n\n"):
                    break
        assert sse_events(text)[0][1]["event"] == "ABNORMAL_BEHAVIOUR"
    finally:
        await server.stop()


async def test_sse_client_that_falls_behind_gets_an_error_event_and_the_stream_ends(
    stream: AnalyticsStream, client: httpx.AsyncClient
) -> None:
    request = asyncio.create_task(client.get(f"{API_ROOT}/analytics-results/stream"))
    await wait_until(lambda: stream.client_count >= 1, message="a stream client to connect")
    for _ in range(5):  # the client's queue holds 3; nothing is read in between
        stream.publish(analytics_row(data.analytics_result(AT)))
    resp = await asyncio.wait_for(request, 20)
    events = sse_events(resp.text)
    assert [e for e, _ in events] == ["analyticsResult"] * 3 + ["error"]
    assert "behind" in events[-1][1]["detail"]


async def test_slice_features_are_read_by_slice_and_have_no_supi_filter(chdb: MergeTreeBackend,
                                                                       stream: AnalyticsStream) -> None:
    window = AT.timestamp()
    rows = [{"window_start": window, "window_end": window + 10, "scope": scope, "snssai": snssai, "dnn": dnn,
             "features": {"flows": flows}} for scope, snssai, dnn, flows in
            [("snssai", "1-00000a", None, 3.0), ("dnn", None, "internet", 2.0), ("snssai_dnn", "1-00000a", "ims", 1.0)]]
    await chdb.write("slice_features", rows, "seed-slices")
    app = create_sbi_app("nwdaf", [(API_ROOT, create_router(chdb, stream))])
    get = app.openapi()["paths"][f"{API_ROOT}/slice-features"]["get"]
    assert {p["name"] for p in get["parameters"]} == {"snssai", "start", "end", "limit"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://nwdaf") as c:
        every = (await c.get(f"{API_ROOT}/slice-features")).json()
        sliced = (await c.get(f"{API_ROOT}/slice-features", params={"snssai": "1-00000A"})).json()
    assert every["count"] == 3
    assert sorted((r["scope"], r["features"]["flows"]) for r in sliced["items"]) == [("snssai", 3.0),
                                                                                    ("snssai_dnn", 1.0)]
