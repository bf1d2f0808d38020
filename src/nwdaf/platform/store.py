"""Durable subscription resources: one SQLite table, written through on every change, never blocking the event loop.

Both NWDAF services that accept subscriptions (Nnwdaf_EventsSubscription at the AnLF, Nnwdaf_MLModelProvision at
the MTLF) keep them here so that they survive a restart. Why SQLite from the standard library: one writer (this
NWDAF instance), a few thousand small rows, no server to run. Every call runs in a worker thread
(``asyncio.to_thread``) under one lock, so the event loop never waits on the disk and the calls never interleave.

What a record holds is the NF's business: a :class:`RecordLayout` names the table's columns and converts between the
NF's record and a row. The NF keeps its own table layout, so files written by earlier releases stay readable.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

R = TypeVar("R")

Row = Mapping[str, Any]
"""One row: column name -> SQLite value (the key column included)."""


@dataclass(frozen=True)
class RecordLayout(Generic[R]):
    """How an NF's subscription record ``R`` is laid out in the table."""

    key: str
    """The primary key column (the subscription id)."""
    columns: Mapping[str, str]
    """The other columns: name -> SQL declaration (``"BLOB NOT NULL"``, ``"INTEGER NOT NULL DEFAULT 0"``)."""
    order_by: str
    """The column :meth:`SubscriptionStore.load_all` sorts by."""
    encode: Callable[[R], tuple[str, Row]]
    """A record as (key, column values); columns left out take their SQL default."""
    decode: Callable[[Row], R]
    """A row (the key and every column) as a record."""
    table: str = "subscriptions"

    def __post_init__(self) -> None:
        names = [self.table, self.key, *self.columns]
        bad = [n for n in names if not n.isidentifier()]
        if bad or self.order_by not in (self.key, *self.columns):
            raise ValueError(f"invalid store layout: names {bad}, order_by {self.order_by!r}")

    def schema(self) -> str:
        columns = ", ".join(f"{name} {decl}" for name, decl in self.columns.items())
        return f"CREATE TABLE IF NOT EXISTS {self.table} ({self.key} TEXT PRIMARY KEY, {columns})"

    def check(self, values: Row) -> None:
        unknown = set(values) - set(self.columns)
        if unknown:
            raise KeyError(f"no column(s) {sorted(unknown)} in table {self.table}")


class SubscriptionStore(Generic[R]):
    """SQLite-backed subscriptions keyed by id; ``path=None`` keeps them in memory only (tests, stateless runs).

    :meth:`open` before use (it is idempotent); every other call on a store that is not open raises ``RuntimeError``.
    """

    def __init__(self, path: Path | None, layout: RecordLayout[R]) -> None:
        self.path = path
        self.layout = layout
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._opening = asyncio.Lock()

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    async def open(self) -> None:
        async with self._opening:
            if self._conn is None:
                self._conn = await asyncio.to_thread(self._connect)

    def _connect(self) -> sqlite3.Connection:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(self.path) if self.path else ":memory:", check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(self.layout.schema())
        conn.commit()
        return conn

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        with self._lock:  # after any write still running in a worker thread
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()

    async def _call(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        """``work(connection)`` in a worker thread, under the lock, committed when it returns."""
        return await asyncio.to_thread(self._locked, work)

    def _locked(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        with self._lock:
            conn = self._conn
            if conn is None:
                raise RuntimeError("SubscriptionStore is not open: await store.open() first")
            try:
                result = work(conn)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
            return result

    # --- operations -----------------------------------------------------------------------------------------

    async def put(self, record: R) -> None:
        """Insert or replace one record (create and update)."""
        key, values = self.layout.encode(record)
        self.layout.check(values)
        names = [self.layout.key, *values]
        sql = (f"INSERT OR REPLACE INTO {self.layout.table} ({', '.join(names)}) "
               f"VALUES ({', '.join('?' * len(names))})")
        await self._call(lambda conn: conn.execute(sql, (key, *values.values())))

    async def get(self, key: str) -> R | None:
        rows = await self._call(lambda conn: self._select(conn, key))
        return self.layout.decode(rows[0]) if rows else None

    async def load_all(self) -> list[R]:
        """Every record, sorted by the layout's ``order_by`` column."""
        rows = await self._call(lambda conn: self._select(conn, None))
        return [self.layout.decode(row) for row in rows]

    def _select(self, conn: sqlite3.Connection, key: str | None) -> list[dict[str, Any]]:
        names = [self.layout.key, *self.layout.columns]
        sql = f"SELECT {', '.join(names)} FROM {self.layout.table}"
        if key is None:
            cur = conn.execute(f"{sql} ORDER BY {self.layout.order_by}")
        else:
            cur = conn.execute(f"{sql} WHERE {self.layout.key} = ?", (key,))
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    async def update(self, key: str, values: Row) -> bool:
        """Set some columns of one record; False if there is no such record."""
        return await self.update_many({key: values}) > 0

    async def update_many(self, changes: Mapping[str, Row]) -> int:
        """Set columns of several records in one transaction (e.g. report counters); returns the records changed."""
        for values in changes.values():
            self.layout.check(values)
        if not changes:
            return 0
        return int(await self._call(lambda conn: sum(self._update(conn, k, v) for k, v in changes.items())))

    async def modify(self, key: str, change: Callable[[Row], Row]) -> bool:
        """Read one record and write back ``change(row)`` atomically (no other call runs in between). ``change``
        runs in the worker thread: it must not touch the event loop. False if there is no such record."""

        def work(conn: sqlite3.Connection) -> bool:
            rows = self._select(conn, key)
            if not rows:
                return False
            values = change(rows[0])
            self.layout.check(values)
            return self._update(conn, key, values) > 0

        return bool(await self._call(work))

    def _update(self, conn: sqlite3.Connection, key: str, values: Row) -> int:
        if not values:
            return 0
        assignments = ", ".join(f"{name} = ?" for name in values)
        sql = f"UPDATE {self.layout.table} SET {assignments} WHERE {self.layout.key} = ?"
        return conn.execute(sql, (*values.values(), key)).rowcount

    async def delete(self, key: str) -> bool:
        sql = f"DELETE FROM {self.layout.table} WHERE {self.layout.key} = ?"
        rows = await self._call(lambda conn: conn.execute(sql, (key,)).rowcount)
        return bool(rows > 0)
