"""Nupf_EventExposure (TS 29.564), mounted at ``/nupf-ee/v1``: subscribe, modify (JSON Patch), unsubscribe."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request, Response

from nwdaf.nf.upf.processor import create_subscription, delete_subscription, modify_subscription
from nwdaf.nf.upf.state import UpfContext
from nwdaf.platform.models.common import PatchItem, to_wire
from nwdaf.platform.models.upf_ee import CreateEventSubscription
from nwdaf.platform.sbi.body import read_model, read_models
from nwdaf.platform.sbi.docs import body_doc, route_docs

API_ROOT = "/nupf-ee/v1"
JSON_PATCH = "application/json-patch+json"

__all__ = ["API_ROOT", "create_router"]


def create_router(ctx: UpfContext) -> APIRouter:
    router = APIRouter(tags=["Nupf_EventExposure"])

    @router.post("/ee-subscriptions", status_code=201, summary="Subscribe (CreateSubscription)",
                 description="Body: CreateEventSubscription. 201 with CreatedEventSubscription and Location; 403 "
                 "when the UPF holds as many subscriptions as it accepts.",
                 **route_docs(403, body=body_doc(CreateEventSubscription)))
    async def create(request: Request) -> Response:
        created = await create_subscription(ctx, await read_model(request, CreateEventSubscription))
        base = ctx.api_root or str(request.base_url).rstrip("/")
        location = f"{base}{API_ROOT}/ee-subscriptions/{created.subscriptionId}"
        return Response(content=orjson.dumps(to_wire(created)), status_code=201, media_type="application/json",
                        headers={"Location": location})

    @router.patch("/ee-subscriptions/{subscriptionId}", status_code=204, summary="Modify (ModifySubscription)",
                  description="Body: JSON Patch (application/json-patch+json), e.g. replace "
                  "/eventReportingMode/repPeriod. All operations apply or none.",
                  **route_docs(404, body=body_doc(PatchItem, array=True, media_type=JSON_PATCH)))
    async def modify(subscriptionId: str, request: Request) -> Response:
        patch = await read_models(request, PatchItem, what="JSON Patch", media_type=JSON_PATCH)
        await modify_subscription(ctx, subscriptionId, patch)
        return Response(status_code=204)

    @router.delete("/ee-subscriptions/{subscriptionId}", status_code=204, summary="Unsubscribe (DeleteSubscription)",
                   **route_docs(404))
    async def delete(subscriptionId: str) -> Response:
        await delete_subscription(ctx, subscriptionId)
        return Response(status_code=204)

    return router
