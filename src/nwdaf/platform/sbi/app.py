"""The FastAPI app factory every NF uses: ProblemDetails errors, request IDs, ``/metrics``, a complete OpenAPI."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from nwdaf.platform.sbi.body import on_request_validation
from nwdaf.platform.sbi.docs import complete_openapi, route_views
from nwdaf.platform.sbi.observability import ObservabilityMiddleware, SbiMetrics
from nwdaf.platform.sbi.problem import install_problem_handlers, on_http_exception


class Lifespan(Protocol):
    def __call__(self, app: FastAPI) -> AbstractAsyncContextManager[None]: ...


class SbiApp(FastAPI):
    """An NF's ASGI app; its OpenAPI documents the bodies and ProblemDetails answers (:mod:`.docs`)."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = complete_openapi(super().openapi(), self.routes)
        return self.openapi_schema


def allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """Every method some route serves at the request's path (one route per method in FastAPI)."""
    methods: set[str] = set()
    for route in route_views(app.router.routes):
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= route.methods or set()
    return sorted(methods)


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    """405 with the complete ``Allow`` header (RFC 9110 clause 15.5.6); Starlette names only the first route's."""
    assert isinstance(exc, StarletteHTTPException)
    allow = ", ".join(allowed_methods(request.app, request))
    headers = {**(exc.headers or {}), "Allow": allow} if allow else exc.headers
    return await on_http_exception(request, StarletteHTTPException(405, exc.detail, headers))


def create_sbi_app(
    nf_name: str,
    routers: Sequence[tuple[str, APIRouter]],
    *,
    title: str | None = None,
    version: str = "1.0.0",
    lifespan: Lifespan | None = None,
    description: str = "",
) -> FastAPI:
    """Build an NF's ASGI app: one router per 3GPP service, mounted at its API root (``/nnwdaf-xxx/v1``)."""
    kwargs: dict[str, Any] = {"lifespan": lifespan} if lifespan is not None else {}
    app = SbiApp(title=title or nf_name, version=version, description=description, **kwargs)
    metrics = SbiMetrics(nf_name)
    app.state.metrics = metrics
    app.state.nf_name = nf_name
    install_problem_handlers(app)
    app.add_exception_handler(RequestValidationError, on_request_validation)
    app.add_exception_handler(405, _method_not_allowed)
    for prefix, router in routers:
        app.include_router(router, prefix=prefix)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(ObservabilityMiddleware, metrics=metrics, logger=logging.getLogger(f"nwdaf.{nf_name}.sbi"))
    return app
