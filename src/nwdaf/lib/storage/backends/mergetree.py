"""The ClickHouse-family backend: one implementation over a small synchronous :class:`SqlEngine`.

The engines (:mod:`.chdb` embedded, :mod:`.clickhouse` server) only run statements and inserts; schema
reconciliation, idempotent writes, reads and retention live here, so both behave the same.

Idempotency: every table is a ``ReplacingMergeTree`` sorted by (its key, ``record_id``), and ``record_id`` is
derived from the batch id and the row's position in it. A redelivered batch therefore inserts rows with the same
sort keys, which merges collapse and ``FINAL`` collapses at read time — no ledger to keep consistent with the data.

Retention counts from ingestion (``ingested_at``, filled by the server): TTL where the server has it (19.6+), else
:meth:`MergeTreeBackend.maintain` deletes rows ingested before the cutoff. A row's own time may be years old (a
recording) and is never a reason to delete it. Tables made before schema version 2 gain ``ingested_at`` and their
TTL moves to it on start; their earlier rows count as ingested when the migration ran.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import polars as pl

from nwdaf.lib.storage.backends import _sql
from nwdaf.lib.storage.backends.base import RecordQuery, StorageConfigError, StorageError
from nwdaf.lib.storage.frames import TableFrame
from nwdaf.lib.storage.schema import SCHEMA_VERSION, TABLES, Table, decode_row, table

log = logging.getLogger("nwdaf.storage")


class SqlEngine(Protocol):
    """Blocking access to one ClickHouse (called from a worker thread, never on the event loop)."""

    placeholder: _sql.Placeholder

    def connect(self) -> None: ...

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]: ...

    def insert_frame(self, qualified_table: str, frame: pl.DataFrame) -> None:
        """Insert every column of ``frame`` (a :class:`TableFrame`'s: named as the table's, typed) in one go."""

    def close(self) -> None: ...


class MergeTreeBackend:
    """Warehouse and time series on ClickHouse (server ``clickhouse://`` or embedded ``chdb://``)."""

    def __init__(
        self, url: str, engine: SqlEngine, database: str, retention_days: int,
        *, clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self.database = database
        self.retention_days = retention_days
        self.server_version = ""
        self.uses_ttl = False
        self._engine = engine
        self._clock = clock
        self._started = False

    def supports(self, table_name: str) -> bool:
        return table_name in TABLES

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return await asyncio.to_thread(fn, *args)
        except (StorageError, StorageConfigError):
            raise
        except Exception as exc:  # each driver has its own error types; callers get one, naming the backend
            raise StorageError(f"{self.url}: {type(exc).__name__}: {str(exc).strip()[:500]}") from exc

    async def start(self) -> None:
        """Connect, create or reconcile the tables, record the schema version, apply retention."""
        if not self._started:
            await self._call(self._start_sync)
            self._started = True

    def _start_sync(self) -> None:
        self._engine.connect()
        self.server_version = str(self._engine.execute("SELECT version()")[0][0])
        self.uses_ttl = _sql.parse_version(self.server_version) >= _sql.TTL_SINCE
        self.reconcile_schema()
        if not self.uses_ttl:
            self._sweep()
        log.info("storage %s ready (ClickHouse %s, database %s, retention %d days from ingestion by %s)", self.url,
                 self.server_version, self.database, self.retention_days,
                 "TTL" if self.uses_ttl else "a daily delete")

    def reconcile_schema(self) -> None:
        """Idempotent migration: create what is missing, add new columns, align TTL, record the version."""
        ex, db = self._engine.execute, self.database
        ex(f"CREATE DATABASE IF NOT EXISTS {db}")
        ex(_sql.create_schema_version(db))
        current = int(ex(f"SELECT max(version) FROM {db}.{_sql.SCHEMA_VERSION_TABLE}")[0][0] or 0)
        if current > SCHEMA_VERSION:
            raise StorageError(f"{self.url}: database {db} has schema version {current}, newer than this build's "
                               f"{SCHEMA_VERSION}; upgrade nwdaf before writing to it")
        for tbl in TABLES.values():
            ex(_sql.create_table(db, tbl, ttl_days=self.retention_days if self.uses_ttl else None))
            self._add_missing_columns(tbl)
            if self.uses_ttl:
                self._align_ttl(tbl)
        if current < SCHEMA_VERSION:
            ex(f"INSERT INTO {db}.{_sql.SCHEMA_VERSION_TABLE} (version, applied_at, description) "
               f"SELECT {SCHEMA_VERSION}, now(), 'nwdaf storage tables v{SCHEMA_VERSION}'")
            log.info("storage %s: schema version %d -> %d", self.url, current, SCHEMA_VERSION)

    def _add_missing_columns(self, tbl: Table) -> None:
        have = {r[0] for r in self._engine.execute(
            f"SELECT name FROM system.columns WHERE database = '{self.database}' AND table = '{tbl.name}'")}
        for col in tbl.columns:
            if col.name not in have:
                self._engine.execute(f"ALTER TABLE {self.database}.{tbl.name} ADD COLUMN {col.name} {col.type}")
                log.info("storage %s: added column %s.%s %s", self.url, tbl.name, col.name, col.type)
        if _sql.INGESTED not in have:
            self._engine.execute(f"ALTER TABLE {self.database}.{tbl.name} ADD COLUMN {_sql.INGESTED_DDL}")
            log.info("storage %s: added column %s.%s (retention now counts from ingestion)", self.url, tbl.name,
                     _sql.INGESTED)

    def _align_ttl(self, tbl: Table) -> None:
        rows = self._engine.execute(
            f"SELECT engine_full FROM system.tables WHERE database = '{self.database}' AND name = '{tbl.name}'")
        if rows and _sql.ttl_days_of(str(rows[0][0])) != self.retention_days:
            clause = _sql.ttl_clause(self.retention_days)
            self._engine.execute(f"ALTER TABLE {self.database}.{tbl.name} MODIFY {clause}")

    def schema_version(self) -> int:
        rows = self._engine.execute(f"SELECT max(version) FROM {self.database}.{_sql.SCHEMA_VERSION_TABLE}")
        return int(rows[0][0] or 0)

    async def write(self, table_name: str, rows: Sequence[Mapping[str, Any]], batch_id: str) -> int:
        """Insert ``rows`` as one columnar insert; returns the row count.

        A :class:`~nwdaf.lib.storage.frames.TableFrame` (the sink's, already checked, ids set) is inserted as it is;
        row dicts are checked and given ids from ``batch_id`` (unless they carry ``record_id``) first.
        """
        tbl = table(table_name)
        if not rows:
            return 0
        frame = rows if isinstance(rows, TableFrame) else TableFrame.of_rows(tbl, rows, batch_id)
        if frame.table is not tbl:
            raise ValueError(f"a frame of table {frame.table.name} handed to a write of {tbl.name}")
        await self._call(self._engine.insert_frame, f"{self.database}.{tbl.name}", frame.frame)
        return len(frame)

    async def query(self, table_name: str, query: RecordQuery) -> list[dict[str, Any]]:
        tbl = table(table_name)
        sql, params = _sql.select(self.database, tbl, query, self._engine.placeholder)
        rows: list[tuple[Any, ...]] = await self._call(self._engine.execute, sql, params)
        return [decode_row(tbl, r) for r in rows]

    async def count(self, table_name: str) -> int:
        """Rows of ``table_name`` as reads see them (``FINAL``: a redelivered batch counts once)."""
        tbl = table(table_name)
        rows: list[tuple[Any, ...]] = await self._call(
            self._engine.execute, f"SELECT count() FROM {self.database}.{tbl.name} FINAL")
        return int(rows[0][0])

    async def maintain(self) -> None:
        """Delete rows ingested before the retention cutoff where the server has no TTL (ClickHouse < 19.6)."""
        if self._started and not self.uses_ttl:
            await self._call(self._sweep)

    def _sweep(self) -> None:
        cutoff = datetime.fromtimestamp(self._clock(), UTC) - timedelta(days=self.retention_days)
        stamp = cutoff.strftime("%Y-%m-%d %H:%M:%S")
        for tbl in TABLES.values():
            where = f"{_sql.INGESTED} < toDateTime('{stamp}', 'UTC')"
            expired = int(self._engine.execute(f"SELECT count() FROM {self.database}.{tbl.name} WHERE {where}")[0][0])
            if expired:  # a mutation rewrites parts: only when there is something to delete
                self._engine.execute(f"ALTER TABLE {self.database}.{tbl.name} DELETE WHERE {where}")
                log.info("storage %s: retention deleted %d %s rows ingested before %s UTC", self.url, expired,
                         tbl.name, stamp)

    async def drop_database(self) -> None:
        """Remove the whole database (tests and ``nwdaf`` tooling only)."""
        await self._call(self._engine.execute, f"DROP DATABASE IF EXISTS {self.database}")

    async def close(self) -> None:
        await self._call(self._engine.close)
        self._started = False
