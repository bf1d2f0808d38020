"""Data Receiver: NFs POST their notifications here; each is validated and published to the bus.

Mounted at ``/nnwdaf-datareceiver/v1``. Not a 3GPP service: it is the callback target the collector gives other
NFs (``eventNotifyUri`` for Nupf_EventExposure, ``notifUri`` for Nsmf/Namf event exposure), and the way into
this NWDAF's data pipeline (bus, processor, storage) for any NF that pushes data.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from nwdaf.nf.collector.processor import FEEDS, DataReceiver
from nwdaf.platform.sbi.body import json_body

API_ROOT = "/nnwdaf-datareceiver/v1"


def create_router(receiver: DataReceiver) -> APIRouter:
    router = APIRouter(tags=["Data Receiver"])

    @router.post(
        "/notifications/{source}",
        status_code=204,
        summary="Accept an NF notification",
        description=f"`source` is one of {', '.join(sorted(FEEDS))}. The body is validated against its 3GPP "
        "schema (NotificationData, NsmfEventExposureNotification, AmfEventNotification) and published to the "
        "bus keyed by UE. 204 only once the bus accepted it.",
    )
    async def receive_notification(source: str, request: Request) -> Response:
        await receiver.receive(source, await json_body(request))
        return Response(status_code=204)

    @router.get("/stats", summary="Accepted and rejected notifications per feed")
    async def stats() -> dict[str, dict[str, int]]:
        return {"accepted": receiver.stats.accepted, "rejected": receiver.stats.rejected}

    return router
