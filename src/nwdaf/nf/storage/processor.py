"""Data Relay procedures: read stored records back, and stream live analytics results.

Plain functions over the warehouse's read side and the :class:`~nwdaf.nf.storage.relay.AnalyticsStream`; they
return data or raise :class:`~nwdaf.platform.sbi.ProblemError`; only :mod:`.api.data_relay` knows HTTP (pages,
Server-Sent Events).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Final

from nwdaf.lib.storage.backends.base import RecordQuery, StorageError, StorageReader
from nwdaf.nf.storage.relay import AnalyticsStream, StreamFilter
from nwdaf.platform.models.common import snssai_key
from nwdaf.platform.sbi.problem import InvalidParam, ProblemError

log = logging.getLogger("nwdaf.storage.relay")

RESOURCES: Final[dict[str, str]] = {
    "flow-records": "flow_records",
    "ue-features": "ue_features",
    "analytics-results": "analytics_results",
    "upf-usage-reports": "upf_usage_reports",
    "slice-features": "slice_features",
}
"""Data Relay resource -> warehouse table."""


def build_query(
    supi: str | None, snssai: str | None, start: datetime | None, end: datetime | None, limit: int
) -> RecordQuery:
    """The filters of a request as a :class:`RecordQuery`; a 400 ProblemDetails names every bad one."""
    bad: list[InvalidParam] = []
    for name, value in (("start", start), ("end", end)):
        if value is not None and value.tzinfo is None:
            bad.append(InvalidParam(f"query:{name}", "must carry a UTC offset, e.g. 2025-01-01T00:00:00Z"))
    if not bad and start is not None and end is not None and start >= end:
        bad.append(InvalidParam("query:end", "must be after start"))
    if bad:
        raise ProblemError(400, "Invalid request", "; ".join(f"{p.param}: {p.reason}" for p in bad),
                           "INVALID_QUERY_PARAM", bad)
    return RecordQuery(supi=supi, snssai=snssai_key(snssai) if snssai else None, start=start, end=end, limit=limit)


async def read_records(reader: StorageReader, resource: str, query: RecordQuery) -> list[dict[str, Any]]:
    """Stored rows of one Data Relay resource, newest first; 503 when the warehouse cannot answer."""
    table = RESOURCES[resource]
    try:
        return await reader.query(table, query)
    except StorageError as exc:
        log.error("reading %s failed: %s", table, exc)
        raise ProblemError(503, "Service Unavailable", f"the warehouse did not answer: {exc}") from exc


async def live_results(stream: AnalyticsStream, want: StreamFilter, limit: int | None = None
                       ) -> AsyncIterator[tuple[int, dict[str, Any]] | None]:
    """Live results matching ``want`` as ``(sequence, row)``, ``None`` after a quiet keep-alive interval; ends
    after ``limit`` results; raises :class:`~nwdaf.nf.storage.relay.StreamLaggedError` for a client that fell
    behind."""
    sent = 0
    async for item in stream.events(want):
        yield item
        if item is not None:
            sent += 1
            if limit is not None and sent >= limit:
                return
