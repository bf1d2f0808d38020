"""Nupf_EventExposure (TS 29.564), mounted at ``/nupf-ee/v1``: subscribe, modify (JSON Patch), unsubscribe."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from pydantic import TypeAdapter, ValidationError

from nwdaf.nf.upf.processor import API_ROOT, create_subscription, delete_subscription, modify_subscription
from nwdaf.nf.upf.state import UpfContext
from nwdaf.platform.models.common import PatchItem, from_wire, to_wire
from nwdaf.platform.models.upf_ee import CreateEventSubscription
from nwdaf.platform.sbi import ProblemError
from nwdaf.platform.sbi.body import json_body
from nwdaf.platform.sbi.problem import invalid_params_from_errors

JSON_PATCH = "application/json-patch+json"
_PATCH = TypeAdapter(list[PatchItem])

__all__ = ["API_ROOT", "create_router"]


def _invalid(exc: ValidationError, what: str) -> ProblemError:
    errors = exc.errors()
    detail = "; ".join(f"/{'/'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)
    return ProblemError(400, "Invalid request", f"invalid {what}: {detail}"[:1000], "MANDATORY_IE_INCORRECT",
                        invalid_params_from_errors(errors))


def _parse_patch(body: Any) -> list[PatchItem]:
    if not isinstance(body, list) or not body:
        raise ProblemError(400, "Invalid request", "a JSON Patch body is a non-empty JSON array of operations",
                           "INVALID_MSG_FORMAT")
    try:
        return _PATCH.validate_python(body)
    except ValidationError as exc:
        raise _invalid(exc, "JSON Patch") from None


def create_router(ctx: UpfContext) -> APIRouter:
    router = APIRouter(tags=["Nupf_EventExposure"])

    @router.post("/ee-subscriptions", status_code=201, summary="Subscribe (CreateSubscription)",
                 description="Body: CreateEventSubscription. 201 with CreatedEventSubscription and Location.")
    async def create(request: Request) -> Response:
        body = await json_body(request)
        if not isinstance(body, dict):
            raise ProblemError(400, "Invalid request", "CreateEventSubscription must be a JSON object",
                               "INVALID_MSG_FORMAT")
        try:
            req = from_wire(CreateEventSubscription, body)
        except ValidationError as exc:
            raise _invalid(exc, "CreateEventSubscription") from None
        created = await create_subscription(ctx, req)
        base = ctx.api_root or str(request.base_url).rstrip("/")
        location = f"{base}{API_ROOT}/ee-subscriptions/{created.subscriptionId}"
        return Response(content=orjson.dumps(to_wire(created)), status_code=201, media_type="application/json",
                        headers={"Location": location})

    @router.patch("/ee-subscriptions/{subscriptionId}", status_code=204, summary="Modify (ModifySubscription)",
                  description="Body: JSON Patch (application/json-patch+json), e.g. replace "
                  "/eventReportingMode/repPeriod. All operations apply or none.")
    async def modify(subscriptionId: str, request: Request) -> Response:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != JSON_PATCH:
            raise ProblemError(415, "Unsupported Media Type", f"PATCH needs {JSON_PATCH}, got {ctype or 'none'}",
                               "UNSUPPORTED_MEDIA_TYPE")
        await modify_subscription(ctx, subscriptionId, _parse_patch(await json_body(request)))
        return Response(status_code=204)

    @router.delete("/ee-subscriptions/{subscriptionId}", status_code=204, summary="Unsubscribe (DeleteSubscription)")
    async def delete(subscriptionId: str) -> Response:
        await delete_subscription(ctx, subscriptionId)
        return Response(status_code=204)

    return router
