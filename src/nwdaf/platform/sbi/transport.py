"""How notification bytes leave the NF: the transport seam under :meth:`SbiClient.send_notification`.

Everything above a transport is the same whichever transport carries a request: the request ID header, the JSON
encoding, the mapping of a lost request to :class:`~nwdaf.platform.sbi.retry.SbiCallError`, the retry policy.
A transport only moves one ``POST`` of a JSON body to a ``notificationURI`` and back:

* :class:`HttpxTransport` over the SBI client's ``httpx.AsyncClient`` (HTTP/2 by ALPN for ``https``, h2c with
  prior knowledge, or whatever transport a test injects, e.g. ``httpx.ASGITransport`` to an in-process peer);
* :class:`~nwdaf.platform.sbi.callback.CallbackClient`, the lean pooled HTTP/1.1 client for ``http://`` callbacks
  (docs/benchmarks/closed_loop.md, part 2: several times httpx's throughput), which production picks for them
  unless a transport was injected or ``sbi_client.h2c_prior_knowledge`` asks for HTTP/2.

Both follow ``307``/``308`` redirects with the body (TS 29.500 clause 6.10.9).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import httpx

from nwdaf.platform.sbi.retry import Reply


class SbiTransportError(ConnectionError):
    """The request got no (complete) answer: connection refused or lost, timeout, malformed response."""


class NotificationTransport(Protocol):
    """One ``POST`` of an encoded JSON body; raises :class:`SbiTransportError` when no answer came."""

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Reply: ...

    async def aclose(self) -> None: ...


class HttpxTransport:
    """Notifications over an ``httpx.AsyncClient`` (the SBI client's own: same transport, same timeouts)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Reply:
        try:
            return await self._client.post(url, content=body, follow_redirects=True,
                                           headers={"content-type": "application/json", **headers})
        except httpx.TransportError as exc:
            raise SbiTransportError(f"{type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        """The client belongs to the SBI client, which closes it."""
