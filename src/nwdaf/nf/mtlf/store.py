"""Persistent Nnwdaf_MLModelProvision subscriptions (SQLite under ``data_dir``), so they survive a restart.

Each row keeps the subscription as received (wire JSON) and, per subscribed event, the model version last
notified, so a restarted MTLF neither re-notifies what was delivered nor forgets what was not.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nwdaf.platform.models.common import from_wire, to_wire
from nwdaf.platform.models.ml_provision import NwdafMLModelProvSubsc

_SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriptions (
    id TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    notified TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)
"""


@dataclass
class StoredSubscription:
    """A subscription and what has been notified for it: ``notified[model name] = version``."""

    id: str
    body: NwdafMLModelProvSubsc
    notified: dict[str, str] = field(default_factory=dict)


class SubscriptionStore:
    """Thread-safe SQLite store; ``path=":memory:"`` keeps nothing across restarts (tests)."""

    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def create(self, body: NwdafMLModelProvSubsc) -> StoredSubscription:
        sub = StoredSubscription(uuid.uuid4().hex, body)
        with self._lock:
            self._db.execute("INSERT INTO subscriptions (id, body) VALUES (?, ?)", (sub.id, _dump(body)))
        return sub

    def get(self, sub_id: str) -> StoredSubscription | None:
        with self._lock:
            row = self._db.execute("SELECT id, body, notified FROM subscriptions WHERE id = ?", (sub_id,)).fetchone()
        return None if row is None else _load(row)

    def all(self) -> list[StoredSubscription]:
        with self._lock:
            rows = self._db.execute("SELECT id, body, notified FROM subscriptions ORDER BY created").fetchall()
        return [_load(r) for r in rows]

    def replace(self, sub_id: str, body: NwdafMLModelProvSubsc) -> StoredSubscription | None:
        """New body for an existing subscription; what was notified is forgotten (the request may differ)."""
        with self._lock:
            cur = self._db.execute("UPDATE subscriptions SET body = ?, notified = '{}' WHERE id = ?",
                                   (_dump(body), sub_id))
        return StoredSubscription(sub_id, body) if cur.rowcount else None

    def mark_notified(self, sub_id: str, model: str, version: str) -> None:
        with self._lock:
            row = self._db.execute("SELECT notified FROM subscriptions WHERE id = ?", (sub_id,)).fetchone()
            if row is None:
                return
            notified = json.loads(row[0]) | {model: version}
            self._db.execute("UPDATE subscriptions SET notified = ? WHERE id = ?", (json.dumps(notified), sub_id))

    def delete(self, sub_id: str) -> bool:
        with self._lock:
            return self._db.execute("DELETE FROM subscriptions WHERE id = ?", (sub_id,)).rowcount > 0


def _dump(body: NwdafMLModelProvSubsc) -> str:
    return json.dumps(to_wire(body))


def _load(row: Any) -> StoredSubscription:
    return StoredSubscription(row[0], from_wire(NwdafMLModelProvSubsc, row[1]), json.loads(row[2]))
