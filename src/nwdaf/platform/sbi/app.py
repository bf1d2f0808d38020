"""The FastAPI app factory every NF uses: ProblemDetails errors, request IDs, ``/metrics``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from fastapi import APIRouter, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from nwdaf.platform.sbi.observability import ObservabilityMiddleware, SbiMetrics
from nwdaf.platform.sbi.problem import install_problem_handlers


class Lifespan(Protocol):
    def __call__(self, app: FastAPI) -> AbstractAsyncContextManager[None]: ...


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
    app = FastAPI(title=title or nf_name, version=version, description=description, **kwargs)
    metrics = SbiMetrics(nf_name)
    app.state.metrics = metrics
    app.state.nf_name = nf_name
    install_problem_handlers(app)
    for prefix, router in routers:
        app.include_router(router, prefix=prefix)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(ObservabilityMiddleware, metrics=metrics, logger=logging.getLogger(f"nwdaf.{nf_name}.sbi"))
    return app
