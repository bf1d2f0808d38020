"""A lean HTTP/1.1 client for callback notifications (``notificationURI``), on asyncio protocols.

Why not httpx here: a notifier POSTs one small JSON body per subscription and period to a handful of consumers.
Profiled at 1,000 PERIODIC subscriptions, 80 % of the NWDAF's event loop went into ``httpx.AsyncClient.send``,
most of it httpcore's connection-pool bookkeeping, which walks every queued request against every connection
(docs/benchmarks/closed_loop.md). This client keeps per-origin stacks of idle keep-alive connections and does
nothing else: one request line, a few headers, a ``Content-Length`` body; responses framed by
``Content-Length``, ``chunked`` or connection close; 307/308 redirects followed (TS 29.500 clause 6.10.9).
It is one of the notification transports of :class:`nwdaf.platform.sbi.SbiClient`
(:mod:`nwdaf.platform.sbi.transport`), which chooses it for ``http://`` callbacks; anything else (``https``, HTTP/2
to our own NFs, a transport injected by a test) goes over httpx.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from nwdaf.platform.sbi.transport import SbiTransportError

MAX_REDIRECTS = 5
_MAX_HEADER_BYTES = 64 * 1024


class CallbackError(SbiTransportError):
    """The request could not be completed (connection refused or lost, timeout, malformed response)."""


@dataclass(frozen=True, slots=True)
class CallbackResponse:
    status: int
    headers: dict[str, str]
    """Names in lower case."""
    body: bytes

    @property
    def status_code(self) -> int:
        return self.status

    @property
    def content(self) -> bytes:
        return self.body


@dataclass(frozen=True, slots=True)
class _Target:
    host: str
    port: int
    authority: str
    path: str


@lru_cache(maxsize=4096)
def _target(url: str) -> _Target:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"not an http:// URL: {url!r}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    port = parts.port or 80
    host = parts.hostname
    authority = f"[{host}]" if ":" in host else host
    return _Target(host, port, authority if port == 80 else f"{authority}:{port}", path)


class _Connection(asyncio.Protocol):
    """One keep-alive connection; at most one request in flight (no pipelining)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.lost = False
        self._buf = bytearray()
        self._waiter: asyncio.Future[CallbackResponse] | None = None
        self._head: tuple[int, dict[str, str], int] | None = None  # status, headers, body start
        self.reusable = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.reusable = False
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._head is not None and self._body_length() is None:  # framed by close: complete now
            status, headers, start = self._head
            waiter.set_result(CallbackResponse(status, headers, bytes(self._buf[start:])))
        else:
            waiter.set_exception(CallbackError(f"connection closed before the response was complete ({exc})"))

    def data_received(self, data: bytes) -> None:
        self._buf += data
        waiter = self._waiter
        if waiter is None or waiter.done():
            self.reusable = False  # bytes nobody asked for: the framing can no longer be trusted
            return
        try:
            response = self._parse()
        except CallbackError as exc:
            self.reusable = False
            waiter.set_exception(exc)
            return
        if response is not None:
            waiter.set_result(response)

    async def send(self, raw: bytes) -> CallbackResponse:
        assert self.transport is not None
        self._buf.clear()
        self._head = None
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        try:
            return await self._waiter
        finally:
            self._waiter = None

    def close(self) -> None:
        if self.transport is not None and not self.lost:
            self.transport.close()

    def _body_length(self) -> int | None:
        """Bytes of body expected, -1 for chunked, None for 'until the connection closes'."""
        assert self._head is not None
        status, headers, _ = self._head
        if status in (204, 304) or 100 <= status < 200:
            return 0
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return -1
        length = headers.get("content-length")
        if length is None:
            return None
        try:
            return int(length)
        except ValueError as exc:
            raise CallbackError(f"bad Content-Length {length!r}") from exc

    def _parse(self) -> CallbackResponse | None:
        if self._head is None:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self._buf) > _MAX_HEADER_BYTES:
                    raise CallbackError("response header too large")
                return None
            self._head = _parse_head(bytes(self._buf[:end]), end + 4)
            if self._head[1].get("connection", "").lower() == "close":
                self.reusable = False
        status, headers, start = self._head
        length = self._body_length()
        if length is None:
            self.reusable = False
            return None
        if length == -1:
            body = _dechunk(self._buf, start)
            return None if body is None else CallbackResponse(status, headers, body)
        if len(self._buf) - start < length:
            return None
        return CallbackResponse(status, headers, bytes(self._buf[start:start + length]))


def _parse_head(head: bytes, body_start: int) -> tuple[int, dict[str, str], int]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise CallbackError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise CallbackError(f"malformed header line {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    if parts[0] == "HTTP/1.0" and headers.get("connection", "").lower() != "keep-alive":
        headers.setdefault("connection", "close")
    return int(parts[1]), headers, body_start


def _dechunk(buf: bytearray, start: int) -> bytes | None:
    """The body of a complete chunked message starting at ``start``; None while incomplete."""
    out = bytearray()
    pos = start
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        try:
            size = int(bytes(buf[pos:eol]).split(b";", 1)[0], 16)
        except ValueError as exc:
            raise CallbackError("malformed chunk size") from exc
        if size == 0:
            trailer_end = buf.find(b"\r\n\r\n", eol)
            if trailer_end < 0 and buf[eol:eol + 4] != b"\r\n\r\n":
                return None
            return bytes(out)
        if len(buf) < eol + 2 + size + 2:
            return None
        out += buf[eol + 2:eol + 2 + size]
        pos = eol + 2 + size + 2


class CallbackClient:
    """``POST`` JSON bytes to ``http://`` callback URIs over pooled keep-alive HTTP/1.1 connections."""

    def __init__(self, timeout_s: float = 5.0, max_idle_per_origin: int = 64, user_agent: str = "nwdaf") -> None:
        self.timeout_s = timeout_s
        self.max_idle_per_origin = max_idle_per_origin
        self._user_agent = user_agent
        self._idle: dict[tuple[str, int], list[_Connection]] = {}
        self.connections_opened = 0

    @staticmethod
    def supports(url: str) -> bool:
        return url.startswith("http://")

    async def post_json(self, url: str, body: bytes, headers: Mapping[str, str] | None = None,
                        follow_redirects: bool = True) -> CallbackResponse:
        """POST ``body`` (already JSON-encoded); raises :class:`CallbackError` for transport failures."""
        for _ in range(MAX_REDIRECTS + 1):
            resp = await self._post_once(url, body, headers)
            location = resp.headers.get("location")
            if not (follow_redirects and resp.status in (307, 308) and location):
                return resp
            url = urljoin(url, location)
            if not self.supports(url):
                raise CallbackError(f"redirected to {url!r}, which this client does not speak")
        raise CallbackError(f"more than {MAX_REDIRECTS} redirects")

    post = post_json
    """The notification transport interface (:class:`nwdaf.platform.sbi.transport.NotificationTransport`)."""

    async def _post_once(self, url: str, body: bytes, headers: Mapping[str, str] | None) -> CallbackResponse:
        target = _target(url)
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items()) if headers else ""
        raw = (f"POST {target.path} HTTP/1.1\r\nhost: {target.authority}\r\ncontent-type: application/json\r\n"
               f"content-length: {len(body)}\r\nuser-agent: {self._user_agent}\r\n{extra}\r\n").encode() + body
        key = (target.host, target.port)
        conn: _Connection | None = None
        try:
            async with asyncio.timeout(self.timeout_s):
                conn, reused = await self._acquire(key)
                try:
                    resp = await conn.send(raw)
                except CallbackError:
                    conn.close()
                    if not reused:
                        raise
                    # A kept-alive connection the peer closed meanwhile: once more on a fresh one.
                    conn = await self._connect(key)
                    resp = await conn.send(raw)
        except BaseException as exc:
            if conn is not None:
                conn.close()
            if isinstance(exc, TimeoutError):
                raise CallbackError(f"no response from {url} within {self.timeout_s} s") from exc
            raise
        self._release(key, conn)
        return resp

    async def _acquire(self, key: tuple[str, int]) -> tuple[_Connection, bool]:
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if not conn.lost:
                return conn, True
        return await self._connect(key), False

    async def _connect(self, key: tuple[str, int]) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, conn = await loop.create_connection(_Connection, key[0], key[1])
        except OSError as exc:
            raise CallbackError(f"cannot connect to {key[0]}:{key[1]}: {exc}") from exc
        self.connections_opened += 1
        return conn

    def _release(self, key: tuple[str, int], conn: _Connection) -> None:
        idle = self._idle.setdefault(key, [])
        if conn.reusable and not conn.lost and len(idle) < self.max_idle_per_origin:
            idle.append(conn)
        else:
            conn.close()

    async def aclose(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()
