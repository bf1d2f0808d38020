"""Data Relay: processed data and inference results, read back from storage or streamed live.

Mounted at ``/nnwdaf-datarelay/v1``. Not a 3GPP service: it is the read side of this NWDAF's storage (the
sink writes, the relay reads), for dashboards, the ML training pipeline and operators. Times in the answers are
epoch seconds (UTC); rows come newest first. Live analytics results are Server-Sent Events (``text/event-stream``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import Response, StreamingResponse
from prometheus_client.registry import Collector
from pydantic import BaseModel, create_model

from nwdaf.lib.storage.backends.base import MAX_LIMIT, StorageReader
from nwdaf.lib.storage.schema import SNSSAI_KEY_PATTERN, TABLES, Table
from nwdaf.nf.storage.processor import RESOURCES, build_query, live_results, read_records
from nwdaf.nf.storage.relay import AnalyticsStream, StreamFilter, StreamLaggedError
from nwdaf.platform.sbi.docs import route_docs

API_ROOT = "/nnwdaf-datarelay/v1"

_PY_TYPES: dict[str, Any] = {
    "String": str | None, "Float64": float, "UInt32": int, "Array(String)": list[str],
    "Array(Nullable(Float64))": list[float | None],
}


def _column_type(ch_type: str) -> Any:
    if ch_type.startswith("Nullable("):
        inner = ch_type[len("Nullable("):-1]
        return (float if inner.startswith("Float") else int) | None
    return _PY_TYPES[ch_type]


def row_model(tbl: Table) -> type[BaseModel]:
    """The response model of one table's rows, generated from :mod:`nwdaf.lib.storage.schema` (one source of truth)."""
    fields: dict[str, Any] = {}
    for col in tbl.columns:
        if tbl.map_column is None or col.name not in (tbl.map_column.keys, tbl.map_column.values):
            fields[col.name] = (_column_type(col.type), ...)
    if tbl.map_column is not None:
        fields[tbl.map_column.name] = (dict[str, float | None], ...)
    name = "".join(part.title() for part in tbl.name.split("_")) + "Row"
    return create_model(name, __doc__=f"One row of `{tbl.name}`.", **fields)


def page_model(resource: str, row: type[BaseModel]) -> type[BaseModel]:
    name = "".join(part.title() for part in resource.split("-")) + "Page"
    return create_model(name, __doc__=f"Matching {resource}, newest first.", items=(list[row], ...),  # type: ignore[valid-type]
                        count=(int, ...))


Supi = Annotated[str | None, Query(min_length=1, max_length=128, description="Only rows of this SUPI.")]
Snssai = Annotated[str | None, Query(pattern=SNSSAI_KEY_PATTERN,
                                     description='Only rows of this slice, S-NSSAI key "sst" or "sst-sd".')]
Start = Annotated[datetime | None, Query(description="Rows at or after this RFC 3339 time (with UTC offset).")]
End = Annotated[datetime | None, Query(description="Rows before this RFC 3339 time (with UTC offset).")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="At most this many rows.")]


def _add_resource(router: APIRouter, reader: StorageReader, resource: str) -> None:
    tbl = TABLES[RESOURCES[resource]]
    page = page_model(resource, row_model(tbl))
    by_ue = any(col.name == "supi" for col in tbl.columns)

    async def get_records(supi: Supi = None, snssai: Snssai = None, start: Start = None, end: End = None,
                          limit: Limit = 100) -> Response:
        rows = await read_records(reader, resource, build_query(supi, snssai, start, end, limit))
        return Response(orjson.dumps({"items": rows, "count": len(rows)}), media_type="application/json")

    async def get_aggregates(snssai: Snssai = None, start: Start = None, end: End = None,
                             limit: Limit = 100) -> Response:
        return await get_records(None, snssai, start, end, limit)

    router.add_api_route(
        f"/{resource}", get_records if by_ue else get_aggregates, methods=["GET"], response_model=page,
        operation_id=f"get_{tbl.name}", summary=f"Read stored {resource.replace('-', ' ')}",
        description=f"Rows of `{tbl.name}` filtered by {'SUPI, ' if by_ue else ''}S-NSSAI and time range on "
        f"`{tbl.time_column}` (start inclusive, end exclusive), newest first; 503 when the warehouse does not "
        "answer.",
        **route_docs(400, 503),
    )


def _sse(seq: int | None, event: str, data: Any) -> bytes:
    head = f"id: {seq}\n" if seq is not None else ""
    return f"{head}event: {event}\ndata: ".encode() + orjson.dumps(data) + b"\n\n"


async def _stream(stream: AnalyticsStream, want: StreamFilter, limit: int | None) -> AsyncIterator[bytes]:
    yield b": connected\n\n"
    try:
        async for item in live_results(stream, want, limit):
            yield b": keepalive\n\n" if item is None else _sse(item[0], "analyticsResult", item[1])
    except StreamLaggedError as exc:
        yield _sse(None, "error", {"detail": str(exc)})


def create_router(reader: StorageReader, stream: AnalyticsStream, stats: Any = None,
                  collector: Collector | None = None) -> APIRouter:
    """The Data Relay routes; ``stats`` (a callable returning a JSON-able dict) backs ``GET /stats``, ``collector``
    (the sink's counters) joins the app's ``/metrics``."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        registry = getattr(getattr(app.state, "metrics", None), "registry", None)
        if registry is not None and collector is not None:
            registry.register(collector)
        try:
            yield
        finally:
            if registry is not None and collector is not None:
                registry.unregister(collector)

    router = APIRouter(tags=["Data Relay"], lifespan=lifespan)
    for resource in RESOURCES:
        _add_resource(router, reader, resource)

    @router.get(
        "/analytics-results/stream",
        summary="Stream live analytics results (Server-Sent Events)",
        description="One `analyticsResult` event per result published after the connection opened, in the row "
        "shape of `GET /analytics-results`; comment lines keep idle connections open. A client that falls too far "
        "behind gets an `error` event and the stream ends. `limit` ends the stream after that many events.",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}, **route_docs(400)["responses"]},
    )
    async def stream_analytics_results(
        supi: Supi = None, snssai: Snssai = None,
        event: Annotated[str | None, Query(pattern=r"^[A-Z_]+$", description="NwdafEvent, e.g. ABNORMAL_BEHAVIOUR")]
        = None,
        limit: Annotated[int | None, Query(ge=1, description="End the stream after this many events.")] = None,
    ) -> StreamingResponse:
        want = StreamFilter(supi=supi, snssai=snssai.lower() if snssai else None, event=event)
        return StreamingResponse(_stream(stream, want, limit), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    if stats is not None:
        @router.get("/stats", summary="Sink and stream counters")
        async def relay_stats() -> dict[str, Any]:
            result: dict[str, Any] = stats()
            return result

    return router
