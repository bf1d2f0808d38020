"""Outbound SBI calls: one httpx client (HTTP/2 when the peer speaks it), timeouts, retries with backoff.

The transport is injectable, so tests pass ``httpx.ASGITransport(app=peer_app)`` and talk to a real in-process peer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from nwdaf.platform.config import SbiClientSettings
from nwdaf.platform.sbi.observability import request_id_var

log = logging.getLogger("nwdaf.sbi.client")

RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
NO_REQUEST_ID = "-"
"""``request_id_var``'s value outside a request."""


class SbiCallError(RuntimeError):
    """A call that failed after its retries; carries the last status (None for transport errors)."""

    def __init__(self, method: str, url: str, status: int | None, detail: str) -> None:
        super().__init__(f"{method} {url} failed: {detail}")
        self.status = status


class SbiClient:
    """Thin wrapper over ``httpx.AsyncClient`` with the project's timeouts and retry policy."""

    def __init__(
        self,
        settings: SbiClientSettings | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings or SbiClientSettings()
        self.injected_transport = transport is not None
        """True when a transport was passed in (tests route calls to in-process peers through it)."""
        if transport is None:
            # TS 29.500 clause 5.2.2: HTTP/2 on the SBI. Cleartext peers that are ours speak h2c with prior
            # knowledge; third-party callback servers may speak only HTTP/1.1, so that stays the default.
            h2c = self.settings.h2c_prior_knowledge
            transport = httpx.AsyncHTTPTransport(http2=True, http1=not h2c)
        self._client = httpx.AsyncClient(transport=transport, timeout=self.settings.timeout_s)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request(
        self, method: str, url: str, *, json: Any = None, retries: int | None = None, **kwargs: Any
    ) -> httpx.Response:
        """Send with retries on transport errors and 429/502/503/504; returns any other response as is."""
        attempts = 1 + max(0, self.settings.retries if retries is None else retries)
        backoff = self.settings.backoff_s
        headers = httpx.Headers(kwargs.pop("headers", None))
        request_id = request_id_var.get()
        # Forward the ID of the request being served, unless the caller set one (any case). Outside a request the
        # variable holds its "-" placeholder: sending that would make every such call share one bogus ID at the peer.
        if request_id != NO_REQUEST_ID and "x-request-id" not in headers:
            headers["x-request-id"] = request_id
        last: str = ""
        status: int | None = None
        for attempt in range(attempts):
            try:
                resp = await self._client.request(method, url, json=json, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                last, status = f"{type(exc).__name__}: {exc}", None
            else:
                if resp.status_code not in RETRYABLE_STATUS:
                    return resp
                last, status = f"HTTP {resp.status_code}", resp.status_code
            if attempt + 1 < attempts:
                log.debug("retrying %s %s after %s", method, url, last)
                await asyncio.sleep(backoff * (2**attempt))
        raise SbiCallError(method, url, status, last)

    async def post(self, url: str, *, json: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", url, json=json, **kwargs)

    async def put(self, url: str, *, json: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", url, json=json, **kwargs)

    async def patch(self, url: str, *, json: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.request("PATCH", url, json=json, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", url, **kwargs)

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, **kwargs)
