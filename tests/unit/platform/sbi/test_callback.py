"""The lean HTTP/1.1 callback client against raw servers on 127.0.0.1 (every framing it must read) and Hypercorn."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
import pytest
from fastapi import APIRouter, Request, Response

from nwdaf.platform.sbi import create_sbi_app, start_server
from nwdaf.platform.sbi.callback import CallbackClient, CallbackError


async def _read_request(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode().split("\r\n")
    headers = dict((k.lower(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:] if line))
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    method, path, _ = lines[0].split(" ")
    return {"method": method, "path": path, "headers": headers, "body": body}


class RawServer:
    """Answers each request with ``respond(request, connection number)`` bytes; records requests."""

    def __init__(self, respond: Callable[[dict[str, Any], int], bytes | None]) -> None:
        self.respond = respond
        self.requests: list[dict[str, Any]] = []
        self.connections = 0
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        conn = self.connections
        try:
            while (request := await _read_request(reader)) is not None:
                self.requests.append(request)
                answer = self.respond(request, conn)
                if answer is None:  # hang: never answer
                    await asyncio.sleep(3600)
                writer.write(answer)
                await writer.drain()
                if b"connection: close" in answer.lower() or (b"content-length" not in answer.lower() \
                        and b"chunked" not in answer.lower() and not answer.startswith(b"HTTP/1.1 204")):
                    break
        finally:
            writer.close()


Respond = Callable[[dict[str, Any], int], bytes | None]


@pytest.fixture
async def raw_server() -> AsyncIterator[Callable[[Respond], Awaitable[RawServer]]]:
    servers: list[asyncio.Server] = []

    async def make(respond: Respond) -> RawServer:
        raw = RawServer(respond)
        server = await asyncio.start_server(raw.handle, "127.0.0.1", 0)
        raw.port = server.sockets[0].getsockname()[1]
        servers.append(server)
        return raw

    yield make
    for server in servers:
        server.close()


NO_CONTENT = b"HTTP/1.1 204 No Content\r\n\r\n"


async def test_keep_alive_connection_is_reused_and_request_is_well_formed(raw_server: Any) -> None:
    server = await raw_server(lambda req, conn: NO_CONTENT)
    client = CallbackClient()
    url = f"http://127.0.0.1:{server.port}/cb/notify?x=1"
    for i in range(3):
        resp = await client.post_json(url, orjson.dumps([{"n": i}]), {"x-request-id": f"r{i}"})
        assert resp.status == 204
    await client.aclose()
    assert server.connections == 1
    assert client.connections_opened == 1
    first = server.requests[0]
    assert first["method"] == "POST"
    assert first["path"] == "/cb/notify?x=1"
    assert first["headers"]["host"] == f"127.0.0.1:{server.port}"
    assert first["headers"]["content-type"] == "application/json"
    assert first["headers"]["x-request-id"] == "r0"
    assert [orjson.loads(r["body"]) for r in server.requests] == [[{"n": 0}], [{"n": 1}], [{"n": 2}]]


async def test_content_length_chunked_and_close_framed_bodies(raw_server: Any) -> None:
    answers = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\r\nuntil-close",
    ]
    server = await raw_server(lambda req, conn: answers[len(server.requests) - 1])
    client = CallbackClient()
    url = f"http://127.0.0.1:{server.port}/"
    bodies = [(await client.post_json(url, b"{}")).body for _ in answers]
    await client.aclose()
    assert bodies == [b"hello", b"abcdefg", b"until-close"]
    assert server.connections == 1  # the close-framed answer came last, on the kept-alive connection


async def test_connection_close_is_honoured(raw_server: Any) -> None:
    server = await raw_server(lambda req, conn: b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
    client = CallbackClient()
    for _ in range(2):
        assert (await client.post_json(f"http://127.0.0.1:{server.port}/", b"[]")).status == 204
    await client.aclose()
    assert server.connections == 2


async def test_redirects_are_followed_with_the_body(raw_server: Any) -> None:
    def respond(req: dict[str, Any], conn: int) -> bytes:
        if req["path"] == "/old":
            return b"HTTP/1.1 308 Permanent Redirect\r\nLocation: /new\r\nContent-Length: 0\r\n\r\n"
        return NO_CONTENT

    server = await raw_server(respond)
    client = CallbackClient()
    resp = await client.post_json(f"http://127.0.0.1:{server.port}/old", b'[{"a":1}]')
    await client.aclose()
    assert resp.status == 204
    assert [(r["path"], r["body"]) for r in server.requests] == [("/old", b'[{"a":1}]'), ("/new", b'[{"a":1}]')]


async def test_a_kept_alive_connection_closed_by_the_peer_is_replaced(raw_server: Any) -> None:
    def respond(req: dict[str, Any], conn: int) -> bytes:
        # the first connection announces keep-alive but the server drops it right after answering
        return b"HTTP/1.1 204 No Content\r\n\r\n" if conn > 1 else b"HTTP/1.1 200 OK\r\n\r\n"

    server = await raw_server(respond)
    client = CallbackClient()
    url = f"http://127.0.0.1:{server.port}/"
    assert (await client.post_json(url, b"[]")).status == 200  # close-framed: not kept
    assert (await client.post_json(url, b"[]")).status == 204
    assert (await client.post_json(url, b"[]")).status == 204
    await client.aclose()
    assert server.connections == 2


async def test_silent_peer_times_out_and_refused_connection_fails(raw_server: Any) -> None:
    server = await raw_server(lambda req, conn: None)
    client = CallbackClient(timeout_s=0.3)
    with pytest.raises(CallbackError, match="no response"):
        await client.post_json(f"http://127.0.0.1:{server.port}/", b"[]")
    with pytest.raises(CallbackError, match="cannot connect"):
        await client.post_json("http://127.0.0.1:1/", b"[]")  # port 1: nothing listens on loopback
    await client.aclose()


async def test_garbage_response_is_an_error(raw_server: Any) -> None:
    server = await raw_server(lambda req, conn: b"SSH-2.0-OpenSSH\r\n\r\n")
    client = CallbackClient()
    with pytest.raises(CallbackError, match="status line"):
        await client.post_json(f"http://127.0.0.1:{server.port}/", b"[]")
    await client.aclose()


def test_only_plain_http_urls_are_taken() -> None:
    assert CallbackClient.supports("http://[::1]:8080/x")
    assert not CallbackClient.supports("https://smf.example/cb")


async def test_against_hypercorn_http1() -> None:
    router = APIRouter()
    seen: list[Any] = []

    @router.post("/cb")
    async def cb(request: Request) -> Response:
        seen.append(await request.json())
        return Response(status_code=204)

    @router.post("/echo")
    async def echo(request: Request) -> dict[str, Any]:
        return {"got": await request.json()}

    server = await start_server(create_sbi_app("peer", [("", router)]), "127.0.0.1", 0, name="peer")
    client = CallbackClient()
    try:
        base = f"http://127.0.0.1:{server.port}"
        assert (await client.post_json(f"{base}/cb", b'[{"k":1}]')).status == 204
        echoed = await client.post_json(f"{base}/echo", b'{"v":2}')
        missing = await client.post_json(f"{base}/nope", b"{}")
    finally:
        await client.aclose()
        await server.stop()
    assert seen == [[{"k": 1}]]
    assert echoed.status == 200
    assert orjson.loads(echoed.body) == {"got": {"v": 2}}
    assert missing.status == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert client.connections_opened == 1
