"""Durable Nnwdaf_EventsSubscription resources: a SQLite file, written through on create/update/delete.

Why SQLite from the stdlib: one writer (this NWDAF instance), a few thousand small rows, no server to run. Calls
run in a worker thread (``asyncio.to_thread``) so the event loop never waits on the disk. Report counters change
on every notification, so they are flushed in batches (:meth:`SubscriptionStore.save_progress`) rather than
written through; after a crash a subscription may send up to one flush interval of reports more than
``maxReportNbr``, never fewer.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

_SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriptions (
    subscription_id TEXT PRIMARY KEY,
    body BLOB NOT NULL,
    anchor REAL NOT NULL,
    reports_sent INTEGER NOT NULL DEFAULT 0
)
"""


@dataclass(slots=True)
class StoredSubscription:
    """One subscription as persisted: the accepted body, the schedule anchor and the reports sent so far."""

    subscription_id: str
    body: dict[str, Any]
    anchor: float
    """Epoch seconds from which PERIODIC reports are due (anchor + k * repetitionPeriod)."""
    reports_sent: int = 0


class SubscriptionStore:
    """SQLite-backed store of subscriptions; ``path=None`` keeps them in memory only (tests, stateless runs)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    async def open(self) -> None:
        if self._conn is None:
            self._conn = await asyncio.to_thread(self._connect)

    def _connect(self) -> sqlite3.Connection:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(self.path) if self.path else ":memory:", check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(_SCHEMA)
        conn.commit()
        return conn

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        with self._lock:  # after any write still running in a worker thread
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()

    def _run(self, sql: str, params: Any = (), many: bool = False) -> int:
        conn = self._conn
        if conn is None:
            raise RuntimeError("SubscriptionStore is not open: await store.open() first")
        with self._lock:
            cur = conn.executemany(sql, params) if many else conn.execute(sql, params)
            conn.commit()
            return cur.rowcount

    async def put(self, sub: StoredSubscription) -> None:
        """Insert or replace one subscription (create and update)."""
        await asyncio.to_thread(
            self._run,
            "INSERT OR REPLACE INTO subscriptions (subscription_id, body, anchor, reports_sent) VALUES (?, ?, ?, ?)",
            (sub.subscription_id, orjson.dumps(sub.body), sub.anchor, sub.reports_sent),
        )

    async def delete(self, subscription_id: str) -> bool:
        rows = await asyncio.to_thread(
            self._run, "DELETE FROM subscriptions WHERE subscription_id = ?", (subscription_id,)
        )
        return rows > 0

    async def save_progress(self, reports_sent: Mapping[str, int]) -> None:
        """Write the report counters of several subscriptions in one transaction."""
        if reports_sent:
            rows = [(n, sid) for sid, n in reports_sent.items()]
            await asyncio.to_thread(
                self._run, "UPDATE subscriptions SET reports_sent = ? WHERE subscription_id = ?", rows, True
            )

    async def load_all(self) -> list[StoredSubscription]:
        return await asyncio.to_thread(self._load_all)

    def _load_all(self) -> list[StoredSubscription]:
        conn = self._conn
        if conn is None:
            raise RuntimeError("SubscriptionStore is not open: await store.open() first")
        with self._lock:
            rows = conn.execute(
                "SELECT subscription_id, body, anchor, reports_sent FROM subscriptions ORDER BY anchor"
            ).fetchall()
        return [StoredSubscription(sid, orjson.loads(body), float(anchor), int(n)) for sid, body, anchor, n in rows]
