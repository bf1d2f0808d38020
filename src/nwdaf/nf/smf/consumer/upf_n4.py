"""Client of the UPF's N4-like session API (ours, not 3GPP: PFCP is not an SBI; this stands in for N4 Session
Deletion, TS 29.244 clause 7.5.6).

Contract: ``GET {apiRoot}/nupf-n4/v1/pdu-sessions?supi=SUPI`` answers 200 with a JSON list of :class:`N4PduSession`;
``DELETE {apiRoot}/nupf-n4/v1/pdu-sessions/{seid}`` answers 204 (idempotent) or 404 for an unknown SEID.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from nwdaf.platform.sbi import SbiCallError, SbiClient

API_NAME = "nupf-n4/v1"


class UpfError(RuntimeError):
    """The UPF could not be reached or answered something this client cannot use."""


class N4PduSession(BaseModel):
    """One PDU session as the UPF reports it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    seid: int
    supi: str
    pduSessionId: int
    ueIpv4Addr: str | None = None
    snssai: dict[str, Any] | None = None
    dnn: str | None = None
    state: Literal["ACTIVE", "RELEASED"]


_SESSIONS = TypeAdapter(list[N4PduSession])


class UpfN4Client:
    """Looks up a UE's PDU sessions and releases them."""

    def __init__(self, client: SbiClient, api_root: str) -> None:
        self._client = client
        self._base = f"{api_root.rstrip('/')}/{API_NAME}"

    async def sessions_of(self, supi: str) -> list[N4PduSession]:
        url = f"{self._base}/pdu-sessions"
        try:
            resp = await self._client.get(url, params={"supi": supi})
        except SbiCallError as exc:
            raise UpfError(str(exc)) from exc
        if resp.status_code != 200:
            raise UpfError(f"GET {url}?supi={supi} answered {resp.status_code}: {resp.text[:200]}")
        try:
            return _SESSIONS.validate_json(resp.content)
        except ValidationError as exc:
            raise UpfError(f"GET {url} returned an unusable session list: {exc.errors()[:3]}") from exc

    async def release(self, seid: int) -> bool:
        """Release one session; True when released now or before, False when the UPF does not know it."""
        url = f"{self._base}/pdu-sessions/{seid}"
        try:
            resp = await self._client.delete(url)
        except SbiCallError as exc:
            raise UpfError(str(exc)) from exc
        if resp.status_code == 404:
            return False
        if resp.status_code not in (200, 204):
            raise UpfError(f"DELETE {url} answered {resp.status_code}: {resp.text[:200]}")
        return True
