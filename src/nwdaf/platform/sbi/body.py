"""Reading JSON request bodies ourselves, for routes that validate against the 3GPP YAML rather than a model."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request

from nwdaf.platform.sbi.problem import InvalidParam, ProblemError


async def json_body(request: Request) -> Any:
    """Parse the body as JSON or raise a 400/415 ProblemDetails (TS 29.500 clause 5.2.7.2)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype and ctype != "application/json" and not ctype.endswith("+json"):
        raise ProblemError(415, "Unsupported Media Type", f"expected application/json, got {ctype}",
                           "UNSUPPORTED_MEDIA_TYPE")
    raw = await request.body()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProblemError(400, "Malformed request syntax", f"body is not valid JSON: {exc}",
                           "INVALID_MSG_FORMAT", [InvalidParam("/", str(exc))]) from exc
