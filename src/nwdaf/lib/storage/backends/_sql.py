"""ClickHouse SQL shared by the server backend (clickhouse-driver) and embedded chdb.

Kept to what ClickHouse 18.16 (Debian's ``clickhouse-server``) understands: ``CREATE ... IF NOT EXISTS``,
``ReplacingMergeTree() PARTITION BY ... ORDER BY``, ``FINAL``; no ``DateTime64``, ``Map``, ``LowCardinality``,
``ADD COLUMN IF NOT EXISTS`` nor ``TTL`` (19.6+) there — TTL is used only when the server has it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from nwdaf.lib.storage.backends.base import RecordQuery
from nwdaf.lib.storage.schema import Table

Placeholder = Callable[[str, str], str]
"""(parameter name, ClickHouse type) -> its placeholder in the statement text."""

SCHEMA_VERSION_TABLE: Final = "schema_version"
TTL_SINCE: Final = (19, 6)
INGESTED: Final = "ingested_at"
"""When the row was stored (server clock, filled by the server): retention counts from it, never from the row's
own time, so a recording from 2011 stored today is kept ``retention_days`` like live data (see "Time" in
``docs/architecture.md``). Not one of the schema's columns: no writer sets it, no reader returns it."""
INGESTED_DDL: Final = f"{INGESTED} DateTime DEFAULT now()"


def driver_placeholder(name: str, ch_type: str) -> str:
    """clickhouse-driver substitutes ``%(name)s`` client-side (works with 18.16, which has no server params)."""
    return f"%({name})s"


def server_placeholder(name: str, ch_type: str) -> str:
    """Server-side query parameters of current ClickHouse (chdb)."""
    return f"{{{name}:{ch_type}}}"


def _time_expr(tbl: Table) -> str:
    return f"toDateTime(toUInt32({tbl.time_column}))"


def ttl_clause(days: int) -> str:
    return f"TTL {INGESTED} + INTERVAL {int(days)} DAY"


def create_table(db: str, tbl: Table, *, ttl_days: int | None) -> str:
    """DDL of ``tbl``: daily partitions by the row's own time (reads of a time range touch few parts), TTL by
    ingestion time (:data:`INGESTED`)."""
    cols = ", ".join(f"{c.name} {c.type}" for c in tbl.columns)
    sql = (
        f"CREATE TABLE IF NOT EXISTS {db}.{tbl.name} ({cols}, record_id UInt64, {INGESTED_DDL}) "
        f"ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMMDD({_time_expr(tbl)}) "
        f"ORDER BY ({', '.join(tbl.order_by)}, record_id)"
    )
    return f"{sql} {ttl_clause(ttl_days)}" if ttl_days is not None else sql


def create_schema_version(db: str) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {db}.{SCHEMA_VERSION_TABLE} "
        "(version UInt32, applied_at DateTime, description String) ENGINE = MergeTree() ORDER BY version"
    )


def ttl_days_of(engine_full: str) -> int | None:
    """The TTL in days an ``engine_full`` text declares on the ingestion time (``TTL ingested_at +
    toIntervalDay(30)`` or ``INTERVAL 30 DAY``); None when there is none or it counts from another column (the
    row's own time, before schema version 2)."""
    match = re.search(rf"TTL {INGESTED} \+ (?:toIntervalDay\((\d+)\)|INTERVAL (\d+) DAY)", engine_full)
    return int(match.group(1) or match.group(2)) if match else None


def parse_version(text: str) -> tuple[int, int]:
    parts = re.findall(r"\d+", text)
    return (int(parts[0]), int(parts[1])) if len(parts) >= 2 else (0, 0)


def select(db: str, tbl: Table, query: RecordQuery, ph: Placeholder) -> tuple[str, dict[str, Any]]:
    """``SELECT <columns> FROM db.t FINAL WHERE ... ORDER BY time DESC LIMIT n`` and its parameters.

    ``FINAL`` merges rows with the same sort key (incl. ``record_id``) at read time, so a redelivered batch whose
    parts have not been merged yet is still returned once.
    """
    where: list[str] = []
    params: dict[str, Any] = {}
    for name, value in (("supi", query.supi), ("snssai", query.snssai)):
        if value is not None:
            where.append(f"{name} = {ph(name, 'String')}")
            params[name] = value
    start, end = query.bounds()
    if start is not None:
        where.append(f"{tbl.time_column} >= {ph('start', 'Float64')}")
        params["start"] = start
    if end is not None:
        where.append(f"{tbl.time_column} < {ph('end', 'Float64')}")
        params["end"] = end
    sql = f"SELECT {', '.join(tbl.column_names)} FROM {db}.{tbl.name} FINAL"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {tbl.time_column} DESC, record_id LIMIT {int(query.limit)}"
    return sql, params
