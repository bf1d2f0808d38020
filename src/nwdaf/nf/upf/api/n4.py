"""The N4-like PDU session API the SMF drives, mounted at ``/nupf-n4/v1`` (ours, not 3GPP).

``POST /pdu-sessions`` establishes (201 + Location, body with ``seid``), ``GET /pdu-sessions[?supi=]`` lists,
``GET /pdu-sessions/{seid}`` reads, ``DELETE /pdu-sessions/{seid}`` releases (204, idempotent; 404 if unknown).
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from nwdaf.nf.upf.pdu_sessions import (
    API_ROOT,
    PduSessionEstablishment,
    establish,
    get_session,
    list_sessions,
    release,
)
from nwdaf.nf.upf.state import UpfContext
from nwdaf.platform.models.common import from_wire, to_wire
from nwdaf.platform.sbi import ProblemError
from nwdaf.platform.sbi.body import json_body
from nwdaf.platform.sbi.problem import invalid_params_from_errors

__all__ = ["API_ROOT", "create_router"]


def _json(doc: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(doc), status_code=status, media_type="application/json", headers=headers)


def create_router(ctx: UpfContext) -> APIRouter:
    router = APIRouter(tags=["N4 PDU sessions"])

    @router.post("/pdu-sessions", status_code=201, summary="Establish a PDU session",
                 description='Body: {"supi", "pduSessionId", "ueIpv4Addr", "ueIpv6Prefix"?, "snssai": {"sst", '
                 '"sd"}, "dnn"}. 201 with the session (its "seid") and Location; 409 if the UE address or '
                 "SUPI + PDU session ID is held by an active session.")
    async def create(request: Request) -> Response:
        body = await json_body(request)
        if not isinstance(body, dict):
            raise ProblemError(400, "Invalid request", "the body must be a JSON object", "INVALID_MSG_FORMAT")
        try:
            req = from_wire(PduSessionEstablishment, body)
        except ValidationError as exc:
            errors = exc.errors()
            raise ProblemError(400, "Invalid request", "; ".join(
                f"/{'/'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)[:1000],
                "MANDATORY_IE_INCORRECT", invalid_params_from_errors(errors)) from None
        info = await establish(ctx, req)
        base = ctx.api_root or str(request.base_url).rstrip("/")
        return _json(to_wire(info), 201, {"Location": f"{base}{API_ROOT}/pdu-sessions/{info.seid}"})

    @router.get("/pdu-sessions", summary="List PDU sessions (optionally of one SUPI)")
    async def list_all(supi: str | None = None) -> Response:
        return _json([to_wire(s) for s in list_sessions(ctx, supi)])

    @router.get("/pdu-sessions/{seid}", summary="Read one PDU session")
    async def read(seid: int) -> Response:
        return _json(to_wire(get_session(ctx, seid)))

    @router.delete("/pdu-sessions/{seid}", status_code=204, summary="Release a PDU session (idempotent)")
    async def delete(seid: int) -> Response:
        await release(ctx, seid)
        return Response(status_code=204)

    return router
