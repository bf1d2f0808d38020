"""Nnwdaf_EventsSubscription (TS 29.520 clause 5.1), mounted at ``/nnwdaf-eventssubscription/v1``.

Only HTTP lives here: bodies are read and validated against the 3GPP YAML and the models
(:func:`~nwdaf.nf.anlf.subscription.parse_request`), then handed to :class:`EventsSubscriptionProcessor`; its
ProblemErrors become ProblemDetails responses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CollectorRegistry

from nwdaf.nf.anlf.api import json_response
from nwdaf.nf.anlf.processor import EventsSubscriptionProcessor
from nwdaf.nf.anlf.subscription import parse_request
from nwdaf.platform.models import NnwdafEventsSubscription
from nwdaf.platform.sbi.body import json_body
from nwdaf.platform.sbi.docs import body_doc, route_docs

API_ROOT = "/nnwdaf-eventssubscription/v1"

_BODY_DOC = ("Body: `NnwdafEventsSubscription` (TS29520_Nnwdaf_EventsSubscription.yaml). Events served: "
             "ABNORMAL_BEHAVIOUR (tgtUe anyUe or supis, excepRequs or exptAnaType) and UE_COMMUNICATION (tgtUe "
             "supis); others are listed in `failEventReports` (UNAVAILABLE_DATA), or 403 if none is served.")


def metrics_lifespan(registry: CollectorRegistry) -> Any:
    """Router lifespan that exposes ``registry`` on the NF's ``/metrics`` (the app's registry) while serving."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        target = getattr(getattr(app.state, "metrics", None), "registry", None)
        if target is None:
            yield
            return
        target.register(registry)
        try:
            yield
        finally:
            target.unregister(registry)

    return lifespan


def create_router(processor: EventsSubscriptionProcessor) -> APIRouter:
    router = APIRouter(tags=["Nnwdaf_EventsSubscription"], lifespan=metrics_lifespan(processor.metrics.registry))

    @router.post("/subscriptions", status_code=201, summary="CreateNWDAFEventsSubscription",
                 description=_BODY_DOC + " With `evtReq.immRep` the current analytics come back in "
                 "`eventNotifications`. Notifications are POSTed to `notificationURI` as an array of "
                 "`NnwdafEventsSubscriptionNotification`.",
                 **route_docs(403, body=body_doc(NnwdafEventsSubscription)))
    async def create_subscription(request: Request) -> Response:
        sub, body = await processor.subscribe(*parse_request(await json_body(request), processor.validator))
        location = f"{str(request.url).split('?')[0].rstrip('/')}/{sub.subscription_id}"
        return json_response(body, status_code=201, headers={"Location": location})

    @router.put("/subscriptions/{subscriptionId}", summary="UpdateNWDAFEventsSubscription",
                description=_BODY_DOC + " Replaces the subscription; its reporting schedule restarts. 404 when "
                "the subscription does not exist (e.g. it was terminated): create a new one.",
                **route_docs(403, 404, body=body_doc(NnwdafEventsSubscription)))
    async def update_subscription(subscriptionId: str, request: Request) -> Response:
        parsed = parse_request(await json_body(request), processor.validator)
        body = await processor.update(subscriptionId, *parsed)
        return json_response(body, status_code=200)

    @router.delete("/subscriptions/{subscriptionId}", status_code=204, summary="DeleteNWDAFEventsSubscription",
                   **route_docs(404))
    async def delete_subscription(subscriptionId: str) -> Response:
        await processor.unsubscribe(subscriptionId)
        return Response(status_code=204)

    return router
