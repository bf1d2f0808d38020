"""Request IDs in logs and Prometheus metrics for every SBI server (pure ASGI middleware: cheap on the hot path)."""

from __future__ import annotations

import contextvars
import logging
import time
import uuid
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

REQUEST_ID_HEADER = b"x-request-id"


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every log record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class SbiMetrics:
    """The per-app Prometheus registry and the request metrics every NF exposes at ``/metrics``."""

    def __init__(self, nf_name: str) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "sbi_requests", "SBI requests served", ["nf", "method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "sbi_request_duration_seconds", "SBI request latency", ["nf", "method", "route"],
            registry=self.registry, buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )
        self.nf_name = nf_name


class ObservabilityMiddleware:
    """Assigns/propagates ``X-Request-ID``, logs one line per request and records metrics."""

    def __init__(self, app: ASGIApp, metrics: SbiMetrics, logger: logging.Logger) -> None:
        self.app = app
        self.metrics = metrics
        self.log = logger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_request_id(scope) or uuid.uuid4().hex[:16]
        token = request_id_var.set(rid)
        status = {"code": 500}
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = [*message.get("headers", []), (REQUEST_ID_HEADER, rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self._record(scope, status["code"], time.perf_counter() - start)
            request_id_var.reset(token)

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        route = _route_template(scope)
        method = scope.get("method", "")
        self.metrics.requests.labels(self.metrics.nf_name, method, route, str(status)).inc()
        self.metrics.latency.labels(self.metrics.nf_name, method, route).observe(elapsed)
        self.log.info("%s %s -> %d (%.1f ms, http/%s)", method, scope.get("path"), status, elapsed * 1000,
                      scope.get("http_version", "?"))


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER:
            text: str = value.decode("latin-1")[:64]
            return text
    return None


def _route_template(scope: Scope) -> str:
    """The matched route's template with its mount prefix (``/nupf-ee/v1/ee-subscriptions/{subscriptionId}``).

    Routers included with a prefix report their own relative path, so the prefix is taken from the request path.
    """
    route: Any = scope.get("route")
    template = getattr(route, "path", None)
    if not template:
        return "<unmatched>"
    depth = str(template).count("/")
    segments = str(scope.get("path", "")).split("/")
    prefix = "/".join(segments[: max(len(segments) - depth, 0)])
    return prefix + str(template)
