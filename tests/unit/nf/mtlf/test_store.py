"""Provisioning subscriptions persist across a restart (a new store on the same file)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from nwdaf.nf.mtlf.store import LAYOUT, ProvisionSubscriptions
from nwdaf.platform.models.common import from_wire
from nwdaf.platform.models.ml_provision import NwdafMLModelProvSubsc
from nwdaf.platform.store import SubscriptionStore

pytestmark = pytest.mark.unit

BODY = {"mLEventSubscs": [{"mLEvent": "ABNORMAL_BEHAVIOUR", "mLEventFilter": {}}],
        "notifUri": "http://127.0.0.1:9/cb", "notifCorreId": "c1"}


def subscriptions(path: Path) -> ProvisionSubscriptions:
    return ProvisionSubscriptions(SubscriptionStore(path, LAYOUT))


async def test_subscriptions_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "subs.sqlite3"
    store = subscriptions(path)
    sub = await store.create(from_wire(NwdafMLModelProvSubsc, BODY))
    await store.mark_notified(sub.id, "model-a", "3")
    await store.close()
    again = subscriptions(path)
    loaded = await again.get(sub.id)
    assert loaded is not None
    assert loaded.body.notifCorreId == "c1"
    assert loaded.notified == {"model-a": "3"}
    replaced = await again.replace(sub.id, from_wire(NwdafMLModelProvSubsc, BODY | {"notifCorreId": "c2"}))
    assert replaced is not None
    assert (await again.get(sub.id)).notified == {}
    assert await again.delete(sub.id)
    assert await again.get(sub.id) is None
    assert not await again.delete(sub.id)
    assert await again.replace(sub.id, from_wire(NwdafMLModelProvSubsc, BODY)) is None
    await again.close()


async def test_concurrent_marks_are_all_kept(tmp_path: Path) -> None:
    """Each mark is one read-modify-write in the store's worker: none overwrites another."""
    store = subscriptions(tmp_path / "subs.sqlite3")
    sub = await store.create(from_wire(NwdafMLModelProvSubsc, BODY))
    await asyncio.gather(*(store.mark_notified(sub.id, f"model-{i}", str(i)) for i in range(20)))
    await store.mark_notified("ghost", "model-a", "1")  # an unknown subscription changes nothing
    loaded = await store.get(sub.id)
    assert loaded is not None
    assert loaded.notified == {f"model-{i}": str(i) for i in range(20)}
    assert [s.id for s in await store.all()] == [sub.id]
    await store.close()


async def test_not_reopened_after_close(tmp_path: Path) -> None:
    store = subscriptions(tmp_path / "subs.sqlite3")
    await store.open()
    await store.close()
    with pytest.raises(RuntimeError, match="not open"):
        await store.all()


async def test_reads_a_file_written_by_earlier_releases(tmp_path: Path) -> None:
    """The table layout is the one earlier releases wrote: their files are read as they are."""
    path = tmp_path / "mtlf.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE subscriptions (id TEXT PRIMARY KEY, body TEXT NOT NULL, "
                     "notified TEXT NOT NULL DEFAULT '{}', "
                     "created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))")
        conn.execute("INSERT INTO subscriptions (id, body, created) VALUES (?, ?, ?)",
                     ("late", json.dumps(BODY | {"notifUri": "http://127.0.0.1:9/b"}), "2025-01-02T00:00:00.000Z"))
        conn.execute("INSERT INTO subscriptions (id, body, notified, created) VALUES (?, ?, ?, ?)",
                     ("early", json.dumps(BODY | {"notifUri": "http://127.0.0.1:9/a"}), '{"m": "2"}',
                      "2025-01-01T00:00:00.000Z"))
    conn.close()
    store = subscriptions(path)
    loaded = await store.all()
    assert [(s.id, s.body.notifUri, s.notified) for s in loaded] == [
        ("early", "http://127.0.0.1:9/a", {"m": "2"}), ("late", "http://127.0.0.1:9/b", {})]
    await store.close()
