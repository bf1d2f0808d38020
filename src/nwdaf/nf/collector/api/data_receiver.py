"""Data Receiver: NFs POST their notifications here; each is validated and published to the bus.

Mounted at ``/nnwdaf-datareceiver/v1``. Not a 3GPP service: it is the callback target the collector gives other
NFs (``eventNotifyUri`` for Nupf_EventExposure, ``notifUri`` for Nsmf/Namf event exposure), and the way into
this NWDAF's data pipeline (bus, processor, storage) for any NF that pushes data.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from nwdaf.nf.collector.processor import FEEDS, DataReceiver, Feed
from nwdaf.platform.sbi.body import check_schema, json_body, json_object
from nwdaf.platform.sbi.docs import body_doc, route_docs
from nwdaf.platform.sbi.problem import ProblemError

API_ROOT = "/nnwdaf-datareceiver/v1"


def parse_notification(receiver: DataReceiver, source: str, feed: Feed, doc: Any) -> dict[str, Any]:
    """A notification body: a JSON object valid against the feed's 3GPP schema; a refused one is counted."""
    try:
        body = json_object(doc, "the notification")
        check_schema(body, receiver.validator, feed.schema_ref, (feed.schema_ref or "").split("#")[0])
    except ProblemError:
        receiver.reject(source)
        raise
    return body


def create_router(receiver: DataReceiver) -> APIRouter:
    router = APIRouter(tags=["Data Receiver"])

    @router.post(
        "/notifications/{source}",
        status_code=204,
        summary="Accept an NF notification",
        description=f"`source` is one of {', '.join(sorted(FEEDS))}. The body is validated against its 3GPP "
        "schema (NotificationData, NsmfEventExposureNotification, AmfEventNotification) and published to the "
        "bus keyed by UE. 204 only once the bus accepted it; 404 for an unknown `source`.",
        **route_docs(404, body=body_doc(description="The notification of the feed's 3GPP schema.")),
    )
    async def receive_notification(source: str, request: Request) -> Response:
        feed = receiver.feed(source)
        body = parse_notification(receiver, source, feed, await json_body(request))
        await receiver.receive(source, body)
        return Response(status_code=204)

    @router.get("/stats", summary="Accepted and rejected notifications per feed")
    async def stats() -> dict[str, dict[str, int]]:
        return {"accepted": receiver.stats.accepted, "rejected": receiver.stats.rejected}

    return router
