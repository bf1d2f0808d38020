"""The AnLF's subscriptions in the platform SubscriptionStore: write-through persistence in a SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from nwdaf.nf.anlf.store import LAYOUT, StoredSubscription, progress
from nwdaf.platform.store import SubscriptionStore

pytestmark = pytest.mark.unit


async def test_subscriptions_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "anlf.sqlite3"
    store = SubscriptionStore(path, LAYOUT)
    await store.open()
    await store.put(StoredSubscription("a", {"eventSubscriptions": [{"event": "ABNORMAL_BEHAVIOUR"}]}, 10.0))
    await store.put(StoredSubscription("b", {"x": 1}, 5.0))
    await store.put(StoredSubscription("b", {"x": 2}, 6.0))  # update replaces
    await store.update_many(progress({"a": 4, "ghost": 9}))
    assert await store.delete("ghost") is False
    await store.close()

    reopened = SubscriptionStore(path, LAYOUT)
    await reopened.open()
    loaded = await reopened.load_all()
    assert [(s.subscription_id, s.body, s.anchor, s.reports_sent) for s in loaded] == [
        ("b", {"x": 2}, 6.0, 0),
        ("a", {"eventSubscriptions": [{"event": "ABNORMAL_BEHAVIOUR"}]}, 10.0, 4),
    ]
    assert await reopened.delete("a") is True
    assert [s.subscription_id for s in await reopened.load_all()] == ["b"]
    await reopened.close()


async def test_in_memory_store_and_use_before_open() -> None:
    store = SubscriptionStore(None, LAYOUT)
    with pytest.raises(RuntimeError, match="not open"):
        await store.load_all()
    await store.open()
    await store.put(StoredSubscription("a", {}, 1.0))
    assert len(await store.load_all()) == 1
    await store.close()


async def test_reads_a_file_written_by_earlier_releases(tmp_path: Path) -> None:
    """The table layout is the one earlier releases wrote: their files are read as they are."""
    path = tmp_path / "anlf.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE subscriptions (subscription_id TEXT PRIMARY KEY, body BLOB NOT NULL, "
                     "anchor REAL NOT NULL, reports_sent INTEGER NOT NULL DEFAULT 0)")
        conn.execute("INSERT INTO subscriptions VALUES (?, ?, ?, ?)", ("old", b'{"x": 1}', 3.0, 2))
    conn.close()
    store = SubscriptionStore(path, LAYOUT)
    await store.open()
    assert await store.load_all() == [StoredSubscription("old", {"x": 1}, 3.0, 2)]
    await store.update_many(progress({"old": 3}))
    assert (await store.get("old")) == StoredSubscription("old", {"x": 1}, 3.0, 3)
    await store.close()
