"""ClickHouse SQL shared by the server backend (clickhouse-driver) and embedded chdb.

Kept to what ClickHouse 18.16 (Debian's ``clickhouse-server``) understands: ``CREATE ... IF NOT EXISTS``,
``ReplacingMergeTree() PARTITION BY ... ORDER BY``, ``FINAL``; no ``DateTime64``, ``Map``, ``LowCardinality``,
``ADD COLUMN IF NOT EXISTS`` nor ``TTL`` (19.6+) there — TTL is used only when the server has it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Final

from nwdaf.lib.storage.backends.base import RecordQuery
from nwdaf.lib.storage.schema import Table

Placeholder = Callable[[str, str], str]
"""(parameter name, ClickHouse type) -> its placeholder in the statement text."""

SCHEMA_VERSION_TABLE: Final = "schema_version"
TTL_SINCE: Final = (19, 6)


def driver_placeholder(name: str, ch_type: str) -> str:
    """clickhouse-driver substitutes ``%(name)s`` client-side (works with 18.16, which has no server params)."""
    return f"%({name})s"


def server_placeholder(name: str, ch_type: str) -> str:
    """Server-side query parameters of current ClickHouse (chdb)."""
    return f"{{{name}:{ch_type}}}"


def _time_expr(tbl: Table) -> str:
    return f"toDateTime(toUInt32({tbl.time_column}))"


def ttl_clause(tbl: Table, days: int) -> str:
    return f"TTL {_time_expr(tbl)} + INTERVAL {int(days)} DAY"


def create_table(db: str, tbl: Table, *, ttl_days: int | None) -> str:
    """DDL of ``tbl``; daily partitions, so retention can also drop whole days where TTL is missing."""
    cols = ", ".join(f"{c.name} {c.type}" for c in tbl.columns)
    sql = (
        f"CREATE TABLE IF NOT EXISTS {db}.{tbl.name} ({cols}, record_id UInt64) "
        f"ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMMDD({_time_expr(tbl)}) "
        f"ORDER BY ({', '.join(tbl.order_by)}, record_id)"
    )
    return f"{sql} {ttl_clause(tbl, ttl_days)}" if ttl_days is not None else sql


def create_schema_version(db: str) -> str:
    return (
        f"CREATE TABLE IF NOT EXISTS {db}.{SCHEMA_VERSION_TABLE} "
        "(version UInt32, applied_at DateTime, description String) ENGINE = MergeTree() ORDER BY version"
    )


def ttl_days_of(engine_full: str) -> int | None:
    """The TTL in days an ``engine_full`` text declares (``+ toIntervalDay(30)`` or ``INTERVAL 30 DAY``)."""
    match = re.search(r"toIntervalDay\((\d+)\)|INTERVAL (\d+) DAY", engine_full)
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


def expired_partitions(partitions: Sequence[str], cutoff_yyyymmdd: int) -> list[str]:
    """Daily partitions (``YYYYMMDD``) entirely before the retention cutoff."""
    return sorted({p for p in partitions if p.isdigit() and int(p) < cutoff_yyyymmdd})
