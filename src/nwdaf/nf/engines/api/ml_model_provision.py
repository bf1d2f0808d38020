"""The engines' Nnwdaf_MLModelProvision callback, mounted at ``/nnwdaf-anlf-callbacks/v1``.

Not a 3GPP service: ``POST /ml-model-notifications`` is the ``notifUri`` the engines give the MTLF (TS 29.520
clause 4.5, callback ``myNotification``). The body is an array of ``NwdafMLModelProvNotif``; 204
once the notified model is downloaded, verified and swapped in. A body that is not such an array, or a model that
fails its checks (checksum, bundle format), is a 400 ProblemDetails; the MTLF notifies again on its next registry
check.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from nwdaf.lib.ml.bundle import BundleError
from nwdaf.lib.ml.holder import ModelHolder
from nwdaf.platform.sbi.body import json_body
from nwdaf.platform.sbi.problem import ProblemError

API_ROOT = "/nnwdaf-anlf-callbacks/v1"
NOTIFICATIONS_PATH = "/ml-model-notifications"


def create_router(holder: ModelHolder) -> APIRouter:
    router = APIRouter(tags=["AnLF callbacks"])

    @router.post(NOTIFICATIONS_PATH, status_code=204, summary="NwdafMLModelProvNotif from the MTLF")
    async def ml_model_notification(request: Request) -> Response:
        body = await json_body(request)
        try:
            await holder.on_notification(body)
        except (BundleError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
            raise ProblemError(400, "Invalid request", str(exc)[:500], "INVALID_MSG_FORMAT") from exc
        return Response(status_code=204)

    return router
