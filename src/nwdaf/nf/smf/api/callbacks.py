"""The SMF's callback for NWDAF analytics and its audit trail, mounted at ``/nsmf-nwdaf-callback/v1``.

Not a 3GPP service: ``POST /notifications`` is the ``notificationURI`` the SMF gives the NWDAF (TS 29.520
callback ``myNotification``); ``GET /audit`` shows the policy decisions.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request, Response

from nwdaf.nf.smf.audit import AuditLog, Decision
from nwdaf.nf.smf.processor import PolicyProcessor
from nwdaf.platform.sbi.body import json_body

API_ROOT = "/nsmf-nwdaf-callback/v1"
NOTIFICATIONS_PATH = "/notifications"


def create_router(processor: PolicyProcessor, audit: AuditLog) -> APIRouter:
    router = APIRouter(tags=["SMF NWDAF callback"])

    @router.post(NOTIFICATIONS_PATH, status_code=204, summary="Nnwdaf_EventsSubscription_Notify callback",
                 description="Body: array of `NnwdafEventsSubscriptionNotification` (TS 29.520). Validated at "
                 "once (400 ProblemDetails naming the attribute, 404 for a subscription this SMF does not hold); "
                 "each UE in `abnorBehavrs` is then decided on and audited.")
    async def notify(request: Request) -> Response:
        await processor.notify(await json_body(request))
        return Response(status_code=204)

    @router.get("/audit", summary="Policy decisions, most recent last")
    async def get_audit(
        supi: Annotated[str | None, Query()] = None,
        decision: Annotated[Decision | None, Query()] = None,
        limit: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    ) -> Response:
        entries = audit.entries(supi, decision, limit)
        body = {"entries": [e.model_dump(mode="json") for e in entries]}
        return Response(orjson.dumps(body), media_type="application/json")

    return router
