"""Routers of the analytics exposure: one per 3GPP service (Nnwdaf_EventsSubscription, Nnwdaf_AnalyticsInfo)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import Response


def json_response(body: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON response serialised with orjson (bodies here are already plain wire JSON)."""
    return Response(orjson.dumps(body), status_code=status_code, headers=dict(headers or {}),
                    media_type="application/json")
