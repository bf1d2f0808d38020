"""The N4-like PDU session API the SMF drives, mounted at ``/nupf-n4/v1`` (ours, not 3GPP).

``POST /pdu-sessions`` establishes (201 + Location, body with ``seid``), ``GET /pdu-sessions[?supi=]`` lists,
``GET /pdu-sessions/{seid}`` reads, ``DELETE /pdu-sessions/{seid}`` releases (204, idempotent; 404 if unknown).
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request, Response

from nwdaf.nf.upf.processor import establish, get_session, list_sessions, release
from nwdaf.nf.upf.state import UpfContext
from nwdaf.platform.models.common import to_wire
from nwdaf.platform.n4 import PduSessionEstablishment
from nwdaf.platform.sbi.body import read_model
from nwdaf.platform.sbi.docs import body_doc, route_docs

API_ROOT = "/nupf-n4/v1"

__all__ = ["API_ROOT", "create_router"]


def _json(doc: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(doc), status_code=status, media_type="application/json", headers=headers)


def create_router(ctx: UpfContext) -> APIRouter:
    router = APIRouter(tags=["N4 PDU sessions"])

    @router.post("/pdu-sessions", status_code=201, summary="Establish a PDU session",
                 description='Body: {"supi", "pduSessionId", "ueIpv4Addr", "ueIpv6Prefix"?, "snssai": {"sst", '
                 '"sd"}, "dnn"}. 201 with the session (its "seid") and Location; 409 if the UE address or '
                 "SUPI + PDU session ID is held by an active session.",
                 **route_docs(409, body=body_doc(PduSessionEstablishment)))
    async def create(request: Request) -> Response:
        info = await establish(ctx, await read_model(request, PduSessionEstablishment))
        base = ctx.api_root or str(request.base_url).rstrip("/")
        return _json(to_wire(info), 201, {"Location": f"{base}{API_ROOT}/pdu-sessions/{info.seid}"})

    @router.get("/pdu-sessions", summary="List PDU sessions (optionally of one SUPI)")
    async def list_all(supi: str | None = None) -> Response:
        return _json([to_wire(s) for s in list_sessions(ctx, supi)])

    @router.get("/pdu-sessions/{seid}", summary="Read one PDU session", **route_docs(404))
    async def read(seid: int) -> Response:
        return _json(to_wire(get_session(ctx, seid)))

    @router.delete("/pdu-sessions/{seid}", status_code=204, summary="Release a PDU session (idempotent)",
                   description="500 when the session is released but the enforcer could not block the UE (a "
                   "retried DELETE retries the rule).", **route_docs(404, 500))
    async def delete(seid: int) -> Response:
        await release(ctx, seid)
        return Response(status_code=204)

    return router
