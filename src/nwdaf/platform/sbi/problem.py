"""3GPP ProblemDetails (TS 29.571 clause 5.2.4.1) for every 4xx/5xx an SBI server answers.

Procedures raise :class:`ProblemError` (or let a validation error propagate); only the handlers installed here turn
them into ``application/problem+json`` responses, so no procedure touches HTTP.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("nwdaf.sbi")

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True, slots=True)
class InvalidParam:
    """One offending attribute: ``param`` is a JSON pointer into the request (TS 29.571 ``InvalidParam``)."""

    param: str
    reason: str | None = None

    def to_wire(self) -> dict[str, str]:
        return {"param": self.param, "reason": self.reason} if self.reason else {"param": self.param}


@dataclass(slots=True)
class ProblemError(Exception):
    """A procedure's failure, mapped 1:1 to a ProblemDetails response."""

    status: int
    title: str
    detail: str | None = None
    cause: str | None = None
    invalid_params: Sequence[InvalidParam] = field(default_factory=tuple)

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail or self.cause or ''}"

    def to_wire(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status, "title": self.title}
        if self.detail:
            body["detail"] = self.detail
        if self.cause:
            body["cause"] = self.cause
        if instance:
            body["instance"] = instance
        if self.invalid_params:
            body["invalidParams"] = [p.to_wire() for p in self.invalid_params]
        return body


def problem_response(problem: ProblemError, request: Request | None = None) -> JSONResponse:
    instance = str(request.url.path) if request is not None else None
    return JSONResponse(problem.to_wire(instance), status_code=problem.status, media_type=PROBLEM_JSON)


def _pointer(loc: Sequence[int | str]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        origin, rest = parts[0], parts[1:]
        return f"/{'/'.join(rest)}" if origin == "body" else f"{origin}:{'/'.join(rest)}"
    return "/" + "/".join(parts)


def invalid_params_from_errors(errors: Sequence[Any]) -> list[InvalidParam]:
    """Pydantic/FastAPI error dicts to 3GPP InvalidParam entries (JSON pointer + reason)."""
    return [InvalidParam(_pointer(tuple(e.get("loc", ()))), str(e.get("msg", ""))) for e in errors]


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(exc, request)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    malformed = any(e.get("type") == "json_invalid" for e in errors)
    problem = ProblemError(
        400,
        "Malformed request syntax" if malformed else "Invalid request",
        detail="; ".join(f"{_pointer(tuple(e.get('loc', ())))}: {e.get('msg')}" for e in errors)[:1000],
        cause="INVALID_MSG_FORMAT" if malformed else "MANDATORY_IE_INCORRECT",
        invalid_params=invalid_params_from_errors(errors),
    )
    return problem_response(problem, request)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    titles = {404: "Not Found", 405: "Method Not Allowed", 415: "Unsupported Media Type"}
    causes = {404: "RESOURCE_URI_STRUCTURE_NOT_FOUND", 405: None, 415: "UNSUPPORTED_MEDIA_TYPE"}
    problem = ProblemError(exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail),
                           causes.get(exc.status_code))
    response = problem_response(problem, request)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(ProblemError(500, "Internal Server Error", type(exc).__name__, "SYSTEM_FAILURE"),
                            request)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)
