"""Outbound SBI calls and notifications: one client, one retry policy, one transport seam.

:meth:`SbiClient.request` (and ``get``/``post``/…) serves the SBI calls an NF makes as a consumer, over httpx
(HTTP/2 when the peer speaks it). :meth:`SbiClient.send_notification` serves the notifications an NF sends as a
producer to a consumer's ``notificationURI``; in production ``http://`` callbacks go over the lean pooled HTTP/1.1
client (:mod:`nwdaf.platform.sbi.callback`), the others over the same httpx client. Above the transport both share
the request ID header, the mapping of a lost request to :class:`SbiCallError` and the retry policy
(:mod:`nwdaf.platform.sbi.retry`).

The httpx transport is injectable: tests pass ``httpx.ASGITransport(app=peer_app)`` or an ``httpx.MockTransport``,
and then every request, notifications included, reaches the in-process peer through this same production code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import httpx
import orjson

from nwdaf.platform.config import SbiClientSettings
from nwdaf.platform.sbi.callback import CallbackClient
from nwdaf.platform.sbi.observability import request_id_var
from nwdaf.platform.sbi.retry import RETRYABLE_STATUS, Reply, RetryPolicy, SbiCallError, with_retries
from nwdaf.platform.sbi.transport import HttpxTransport, NotificationTransport, SbiTransportError

__all__ = ["NO_REQUEST_ID", "RETRYABLE_STATUS", "NotificationClient", "SbiCallError", "SbiClient"]

NO_REQUEST_ID = "-"
"""``request_id_var``'s value outside a request."""

NotificationClient = Literal["http1", "httpx"]
"""``http1``: ``http://`` callbacks over the lean HTTP/1.1 pool; ``httpx``: every notification over httpx."""


def _with_request_id(headers: httpx.Headers) -> httpx.Headers:
    """Forward the ID of the request being served, unless the caller set one (any case). Outside a request the
    variable holds its "-" placeholder: sending that would make every such call share one bogus ID at the peer."""
    request_id = request_id_var.get()
    if request_id != NO_REQUEST_ID and "x-request-id" not in headers:
        headers["x-request-id"] = request_id
    return headers


class SbiClient:
    """The NF's outbound HTTP: timeouts, request IDs, the retry policy, and the transports under them."""

    def __init__(
        self,
        settings: SbiClientSettings | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        max_idle_per_origin: int = 256,
    ) -> None:
        self.settings = settings = settings or SbiClientSettings()
        self.policy = RetryPolicy(attempts=1 + settings.retries, backoff_s=settings.backoff_s)
        """The retry policy of :meth:`request` (``sbi_client.retries`` / ``backoff_s``)."""
        # TS 29.500 clause 5.2.2: HTTP/2 on the SBI. Cleartext peers that are ours speak h2c with prior
        # knowledge; third-party callback servers may speak only HTTP/1.1, so that stays the default.
        h2c = settings.h2c_prior_knowledge
        self._client = httpx.AsyncClient(transport=transport or httpx.AsyncHTTPTransport(http2=True, http1=not h2c),
                                         timeout=settings.timeout_s)
        self._httpx = HttpxTransport(self._client)
        self._http1: CallbackClient | None = None
        """The lean pool for ``http://`` callbacks: production only (an injected transport carries everything)."""
        if transport is None and not h2c:
            self._http1 = CallbackClient(timeout_s=settings.timeout_s, max_idle_per_origin=max_idle_per_origin)

    async def aclose(self) -> None:
        if self._http1 is not None:
            await self._http1.aclose()
        await self._client.aclose()

    async def request(
        self, method: str, url: str, *, json: Any = None, retries: int | None = None, **kwargs: Any
    ) -> httpx.Response:
        """Send under the retry policy (``retries`` overrides ``sbi_client.retries``); a retryable answer to the
        last attempt raises :class:`SbiCallError`, any other response is returned as is."""
        policy = self.policy if retries is None else self.policy.with_attempts(1 + max(0, retries))
        headers = _with_request_id(httpx.Headers(kwargs.pop("headers", None)))

        async def attempt(_: int) -> httpx.Response:
            try:
                return await self._client.request(method, url, json=json, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                raise SbiCallError(method, url, None, f"{type(exc).__name__}: {exc}") from exc

        resp = await with_retries(policy, attempt)
        if policy.retryable(resp.status_code):
            raise SbiCallError(method, url, resp.status_code, f"HTTP {resp.status_code}")
        return resp

    async def send_notification(
        self, url: str, json: Any, *, headers: Mapping[str, str] | None = None, via: NotificationClient = "http1"
    ) -> Reply:
        """One ``POST`` of a JSON notification to a ``notificationURI``, redirects followed; returns the answer
        whatever its status, raises :class:`SbiCallError` when none came. Callers retry it under their own
        :class:`~nwdaf.platform.sbi.retry.RetryPolicy` with :func:`~nwdaf.platform.sbi.retry.with_retries`."""
        extra = dict(_with_request_id(httpx.Headers(headers)))
        transport: NotificationTransport = self._httpx
        if via == "http1" and self._http1 is not None and self._http1.supports(url):
            transport = self._http1
        try:
            return await transport.post(url, orjson.dumps(json), extra)
        except SbiTransportError as exc:
            raise SbiCallError("POST", url, None, str(exc)) from exc

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
