"""3GPP ProblemDetails (TS 29.571 clause 5.2.4.1) for every 4xx/5xx an SBI server answers.

Procedures raise :class:`ProblemError`; only the handlers installed here turn it into an ``application/problem+json``
response, so no procedure touches HTTP. Request validation errors are mapped in :mod:`nwdaf.platform.sbi.body`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
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


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(exc, request)


async def on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    """A Starlette HTTPException (unknown path, method not allowed, ...) as ProblemDetails, with its headers."""
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
    app.add_exception_handler(StarletteHTTPException, on_http_exception)
    app.add_exception_handler(Exception, _on_unexpected)
