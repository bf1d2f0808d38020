"""The SMF's callback for NWDAF analytics and its audit trail, mounted at ``/nsmf-nwdaf-callback/v1``.

Not a 3GPP service: ``POST /notifications`` is the ``notificationURI`` the SMF gives the NWDAF (TS 29.520
callback ``myNotification``); ``GET /audit`` shows the policy decisions.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

import orjson
from fastapi import APIRouter, Query, Request, Response

from nwdaf.nf.smf.audit import AuditLog, Decision
from nwdaf.nf.smf.processor import PolicyProcessor
from nwdaf.platform.models import NnwdafEventsSubscriptionNotification
from nwdaf.platform.sbi.body import SchemaValidator, json_body, parse_models
from nwdaf.platform.sbi.docs import body_doc, route_docs

API_ROOT = "/nsmf-nwdaf-callback/v1"
NOTIFICATIONS_PATH = "/notifications"
NOTIFICATION_SCHEMA: Final = (
    "TS29520_Nnwdaf_EventsSubscription.yaml#/components/schemas/NnwdafEventsSubscriptionNotification"
)


def parse_notifications(body: Any, validator: SchemaValidator | None) -> list[NnwdafEventsSubscriptionNotification]:
    """The callback body: a JSON array of NnwdafEventsSubscriptionNotification (TS 29.520 callback
    ``myNotification``), each checked against the YAML and the model; a single object is tolerated. Raises a 400
    ProblemError naming the bad attribute (``/0/eventNotifications/0/event``)."""
    return parse_models(body, NnwdafEventsSubscriptionNotification, validator=validator, schema=NOTIFICATION_SCHEMA,
                        single=True)


def create_router(processor: PolicyProcessor, audit: AuditLog, validator: SchemaValidator | None) -> APIRouter:
    router = APIRouter(tags=["SMF NWDAF callback"])

    @router.post(NOTIFICATIONS_PATH, status_code=204, summary="Nnwdaf_EventsSubscription_Notify callback",
                 description="Body: array of `NnwdafEventsSubscriptionNotification` (TS 29.520). Validated at "
                 "once (400 ProblemDetails naming the attribute, 404 for a subscription this SMF does not hold); "
                 "each UE in `abnorBehavrs` is then decided on and audited; 503 when too many reports wait.",
                 **route_docs(404, 503, body=body_doc(NnwdafEventsSubscriptionNotification, array=True)))
    async def notify(request: Request) -> Response:
        await processor.notify(parse_notifications(await json_body(request), validator))
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
