"""Nnwdaf_AnalyticsInfo (TS 29.520 clause 5.2), mounted at ``/nnwdaf-analyticsinfo/v1``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response

from nwdaf.nf.anlf.analytics_info import get_analytics, parse_query
from nwdaf.nf.anlf.api import json_response
from nwdaf.nf.anlf.state import FindingsState
from nwdaf.platform.models import to_wire
from nwdaf.platform.models.openapi import SpecValidator
from nwdaf.platform.sbi.docs import route_docs

API_ROOT = "/nnwdaf-analyticsinfo/v1"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def create_router(findings: FindingsState, validator: SpecValidator | None,
                  clock: Callable[[], datetime] = _utcnow) -> APIRouter:
    router = APIRouter(tags=["Nnwdaf_AnalyticsInfo"])

    @router.get(
        "/analytics", summary="GetNWDAFAnalytics",
        description="Query: `event-id` (EventId, required: ABNORMAL_BEHAVIOUR or UE_COMMUNICATION), and the "
        "JSON-encoded `ana-req` (EventReportingRequirement: startTs/endTs window, maxObjectNbr), `event-filter` "
        "(EventFilter: excepIds, exptAnaType, dnns, snssais) and `tgt-ue` (TargetUeInformation: anyUe or supis). "
        "200 `AnalyticsData`, 204 when no current analytics match; 403 (`UNAVAILABLE_DATA`) for analytics this NWDAF "
        "does not provide.",
        **route_docs(400, 403),
    )
    async def get_nwdaf_analytics(request: Request) -> Response:
        query = parse_query(request.query_params, validator)
        data = get_analytics(findings, query, clock())
        if data is None:
            return Response(status_code=204)
        return json_response(to_wire(data))

    return router
