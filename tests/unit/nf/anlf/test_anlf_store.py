"""SubscriptionStore: write-through persistence in a SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from nwdaf.nf.anlf.store import StoredSubscription, SubscriptionStore

pytestmark = pytest.mark.unit


async def test_subscriptions_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "anlf.sqlite3"
    store = SubscriptionStore(path)
    await store.open()
    await store.put(StoredSubscription("a", {"eventSubscriptions": [{"event": "ABNORMAL_BEHAVIOUR"}]}, 10.0))
    await store.put(StoredSubscription("b", {"x": 1}, 5.0))
    await store.put(StoredSubscription("b", {"x": 2}, 6.0))  # update replaces
    await store.save_progress({"a": 4, "ghost": 9})
    assert await store.delete("ghost") is False
    await store.close()

    reopened = SubscriptionStore(path)
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
    store = SubscriptionStore(None)
    with pytest.raises(RuntimeError, match="not open"):
        await store.load_all()
    await store.open()
    await store.put(StoredSubscription("a", {}, 1.0))
    assert len(await store.load_all()) == 1
    await store.close()
