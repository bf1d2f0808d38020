"""Nnwdaf_EventsSubscription (TS 29.520 clause 5.1), mounted at ``/nnwdaf-eventssubscription/v1``.

Only HTTP lives here: bodies are read as JSON and handed to :class:`EventsSubscriptionProcessor`, which validates
them against the 3GPP YAML and the models; its ProblemErrors become ProblemDetails responses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CollectorRegistry

from nwdaf.nf.anlf.api import json_response
from nwdaf.nf.anlf.processor import EventsSubscriptionProcessor
from nwdaf.platform.sbi.body import json_body

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
                 "`NnwdafEventsSubscriptionNotification`.")
    async def create_subscription(request: Request) -> Response:
        sub, body = await processor.subscribe(await json_body(request))
        location = f"{str(request.url).split('?')[0].rstrip('/')}/{sub.subscription_id}"
        return json_response(body, status_code=201, headers={"Location": location})

    @router.put("/subscriptions/{subscriptionId}", summary="UpdateNWDAFEventsSubscription",
                description=_BODY_DOC + " Replaces the subscription; its reporting schedule restarts. 404 when "
                "the subscription does not exist (e.g. it was terminated): create a new one.")
    async def update_subscription(subscriptionId: str, request: Request) -> Response:
        body = await processor.update(subscriptionId, await json_body(request))
        return json_response(body, status_code=200)

    @router.delete("/subscriptions/{subscriptionId}", status_code=204, summary="DeleteNWDAFEventsSubscription")
    async def delete_subscription(subscriptionId: str) -> Response:
        await processor.unsubscribe(subscriptionId)
        return Response(status_code=204)

    return router
