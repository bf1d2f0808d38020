"""The outbound SBI client: which answers are retried, the backoff between attempts, timeouts, request IDs."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import APIRouter, Request

from nwdaf.app.config import SbiClientSettings
from nwdaf.platform.sbi import create_sbi_app
from nwdaf.platform.sbi.client import SbiCallError, SbiClient
from nwdaf.platform.sbi.observability import request_id_var

pytestmark = pytest.mark.unit

URL = "http://peer.example/nx/v1/things"


class Peer:
    """A MockTransport handler answering from a script (a status, or an exception to raise) and recording calls."""

    def __init__(self, *script: int | Exception) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, Exception):
            raise step
        return httpx.Response(step, json={"status": step})


def _client(peer: Callable[[httpx.Request], httpx.Response], **settings: float) -> SbiClient:
    return SbiClient(SbiClientSettings(**settings), transport=httpx.MockTransport(peer))


async def test_503_twice_then_200_is_retried_with_exponential_backoff(sleeps: list[float]) -> None:
    peer = Peer(503, 503, 200)
    client = _client(peer, retries=2, backoff_s=0.2)
    resp = await client.post(URL, json={"a": 1})
    await client.aclose()
    assert resp.status_code == 200
    assert len(peer.requests) == 3
    assert sleeps == pytest.approx([0.2, 0.4])
    assert [json.loads(r.content) for r in peer.requests] == [{"a": 1}] * 3  # the body is sent again each time


@pytest.mark.parametrize("status", [429, 502, 503, 504])
async def test_retryable_statuses_raise_after_the_configured_retries(status: int, sleeps: list[float]) -> None:
    peer = Peer(status)
    client = _client(peer, retries=3, backoff_s=0.1)
    with pytest.raises(SbiCallError, match=f"HTTP {status}") as err:
        await client.get(URL)
    await client.aclose()
    assert err.value.status == status
    assert len(peer.requests) == 4  # first try + 3 retries
    assert sleeps == pytest.approx([0.1, 0.2, 0.4])  # no wait after the last attempt


@pytest.mark.parametrize("status", [400, 404, 409, 500])
async def test_other_errors_are_returned_at_once(status: int, sleeps: list[float]) -> None:
    peer = Peer(status, 200)
    client = _client(peer, retries=2)
    resp = await client.post(URL, json={})
    await client.aclose()
    assert resp.status_code == status
    assert len(peer.requests) == 1
    assert sleeps == []


async def test_per_call_retries_override_the_settings(sleeps: list[float]) -> None:
    peer = Peer(503)
    client = _client(peer, retries=5)
    with pytest.raises(SbiCallError):
        await client.put(URL, json={}, retries=0)
    await client.aclose()
    assert len(peer.requests) == 1
    assert sleeps == []


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("connection refused"), httpx.ReadTimeout("read timed out"),
     httpx.ConnectTimeout("connect timed out"), httpx.RemoteProtocolError("peer closed")],
    ids=lambda e: type(e).__name__,
)
async def test_transport_errors_raise_sbi_call_error_after_the_retries(
    error: Exception, sleeps: list[float]
) -> None:
    peer = Peer(error)
    client = _client(peer, retries=2, backoff_s=0.05)
    with pytest.raises(SbiCallError, match=type(error).__name__) as err:
        await client.delete(URL)
    await client.aclose()
    assert err.value.status is None
    assert len(peer.requests) == 3
    assert sleeps == pytest.approx([0.05, 0.1])


async def test_transport_error_then_success_is_retried(sleeps: list[float]) -> None:
    peer = Peer(httpx.ConnectError("refused"), 204)
    client = _client(peer, retries=1)
    resp = await client.patch(URL, json=[])
    await client.aclose()
    assert resp.status_code == 204
    assert len(peer.requests) == 2


async def test_timeout_setting_reaches_every_request() -> None:
    peer = Peer(200)
    client = _client(peer, timeout_s=0.75)
    await client.get(URL)
    await client.aclose()
    assert peer.requests[0].extensions["timeout"] == {"connect": 0.75, "read": 0.75, "write": 0.75, "pool": 0.75}


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """A TCP server that accepts connections and never answers (a hung peer)."""
    writers: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/nx/v1/things"
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_hung_peer_times_out_on_every_attempt_then_raises(silent_server: str) -> None:
    client = SbiClient(SbiClientSettings(timeout_s=0.2, retries=1, backoff_s=0.0))
    start = time.monotonic()
    with pytest.raises(SbiCallError, match="ReadTimeout") as err:
        await client.get(silent_server)
    elapsed = time.monotonic() - start
    await client.aclose()
    assert err.value.status is None
    assert 0.4 <= elapsed < 3.0  # two attempts of 0.2 s each, not the 5 s default


async def test_request_id_of_the_current_request_is_forwarded() -> None:
    peer = Peer(200)
    client = _client(peer)
    token = request_id_var.set("rid-0123")
    try:
        await client.post(URL, json={})
    finally:
        request_id_var.reset(token)
    await client.aclose()
    assert peer.requests[0].headers["x-request-id"] == "rid-0123"


async def test_no_request_id_is_sent_outside_a_request() -> None:
    """Outside a request the context holds the placeholder "-"; sending it would give the peer a shared bogus ID."""
    peer = Peer(200)
    client = _client(peer)
    await client.post(URL, json={})
    await client.aclose()
    assert "x-request-id" not in peer.requests[0].headers


async def test_caller_headers_are_kept_and_an_explicit_request_id_wins() -> None:
    peer = Peer(200)
    client = _client(peer)
    token = request_id_var.set("from-context")
    try:
        await client.get(URL, headers={"X-Request-ID": "explicit", "accept": "application/json"})
    finally:
        request_id_var.reset(token)
    await client.aclose()
    sent = peer.requests[0].headers
    assert sent.get_list("x-request-id") == ["explicit"]
    assert sent["accept"] == "application/json"


async def test_a_call_made_while_serving_a_request_carries_its_id_to_the_peer() -> None:
    """NF A handles a request with ID r-77 and calls NF B: B sees r-77 (one ID across the hop)."""
    seen: list[str | None] = []
    peer_router = APIRouter()

    @peer_router.post("/things", status_code=204)
    async def peer_handler(request: Request) -> None:
        seen.append(request.headers.get("x-request-id"))

    peer_app = create_sbi_app("peer-nf", [("/nx/v1", peer_router)])
    outbound = SbiClient(transport=httpx.ASGITransport(app=peer_app))
    front_router = APIRouter()

    @front_router.post("/trigger", status_code=204)
    async def trigger() -> None:
        await outbound.post(URL, json={})

    front_app = create_sbi_app("front-nf", [("/nf/v1", front_router)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=front_app), base_url="http://nf") as c:
        resp = await c.post("/nf/v1/trigger", headers={"x-request-id": "r-77"})
    await outbound.aclose()
    assert resp.status_code == 204
    assert resp.headers["x-request-id"] == "r-77"
    assert seen == ["r-77"]


# --- notifications: the same client, the same seam -------------------------------------------------------------


async def test_an_injected_transport_carries_notifications_with_request_id_and_json() -> None:
    """``via="http1"`` is production's choice for ``http://`` callbacks; an injected transport still gets them."""
    peer = Peer(204)
    client = _client(peer)
    token = request_id_var.set("rid-n1")
    try:
        reply = await client.send_notification("http://consumer.example/cb", [{"n": 1}], headers={"x-extra": "1"})
    finally:
        request_id_var.reset(token)
    await client.aclose()
    assert reply.status_code == 204
    (sent,) = peer.requests
    assert (sent.method, str(sent.url)) == ("POST", "http://consumer.example/cb")
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["x-request-id"] == "rid-n1"
    assert sent.headers["x-extra"] == "1"
    assert json.loads(sent.content) == [{"n": 1}]


async def test_a_notification_answer_is_returned_whatever_its_status_and_redirects_are_followed() -> None:
    def peer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old":
            return httpx.Response(308, headers={"location": "/new"})
        return httpx.Response(503 if request.url.path == "/new" else 500)

    client = _client(peer)
    assert (await client.send_notification("http://consumer.example/old", {})).status_code == 503
    assert (await client.send_notification("http://consumer.example/x", {})).status_code == 500
    await client.aclose()


async def test_a_lost_notification_is_an_sbi_call_error_on_either_transport() -> None:
    client = _client(Peer(httpx.ConnectError("connection refused")))
    with pytest.raises(SbiCallError, match="ConnectError") as err:
        await client.send_notification("http://consumer.example/cb", {})
    await client.aclose()
    assert err.value.status is None
    production = SbiClient()
    with pytest.raises(SbiCallError, match="cannot connect") as err:
        await production.send_notification("http://127.0.0.1:1/cb", {})  # port 1: nothing listens on loopback
    await production.aclose()
    assert err.value.status is None


async def test_production_sends_http_callbacks_over_the_lean_http1_pool() -> None:
    """Without an injected transport an ``http://`` callback goes over :mod:`nwdaf.platform.sbi.callback` (one
    kept-alive connection, its own user agent); ``via="httpx"`` takes httpx's pool instead."""
    heads: list[bytes] = []
    writers: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            await reader.readexactly(length)
            heads.append(head.lower())
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/cb"
    client = SbiClient()
    try:
        for _ in range(3):
            assert (await client.send_notification(url, [{}])).status_code == 204
        assert (await client.send_notification(url, [{}], via="httpx")).status_code == 204
    finally:
        await client.aclose()
        for writer in writers:
            writer.close()
            await writer.wait_closed()
        server.close()
        await server.wait_closed()
    assert [b"user-agent: nwdaf\r\n" in head for head in heads] == [True, True, True, False]
    assert len(writers) == 2  # one pooled HTTP/1.1 connection, then httpx's own
