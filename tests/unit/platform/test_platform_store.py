"""The platform SubscriptionStore: an NF's records in one SQLite table, through a RecordLayout."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from nwdaf.platform.store import RecordLayout, Row, SubscriptionStore

pytestmark = pytest.mark.unit


@dataclass
class Rec:
    key: str
    doc: dict[str, int]
    count: int = 0


LAYOUT: RecordLayout[Rec] = RecordLayout(
    key="key", columns={"doc": "TEXT NOT NULL", "count": "INTEGER NOT NULL DEFAULT 0"}, order_by="count",
    encode=lambda r: (r.key, {"doc": json.dumps(r.doc), "count": r.count}),
    decode=lambda row: Rec(row["key"], json.loads(row["doc"]), row["count"]),
)


async def test_operations_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "store.sqlite3"
    store = SubscriptionStore(path, LAYOUT)
    await store.open()
    await store.open()  # idempotent
    await store.put(Rec("a", {"x": 1}, 5))
    await store.put(Rec("b", {"x": 2}, 1))
    await store.put(Rec("a", {"x": 3}, 5))  # replaces
    assert await store.get("a") == Rec("a", {"x": 3}, 5)
    assert await store.get("ghost") is None
    assert await store.update("b", {"count": 9})
    assert not await store.update("ghost", {"count": 9})
    assert await store.update_many({"a": {"count": 2}, "b": {"count": 7}, "ghost": {"count": 1}}) == 2
    assert await store.update_many({}) == 0
    assert await store.modify("a", lambda row: {"doc": json.dumps({"seen": row["count"]})})
    assert not await store.modify("ghost", lambda row: {"count": 0})
    assert await store.delete("b")
    assert not await store.delete("b")
    await store.close()

    reopened = SubscriptionStore(path, LAYOUT)
    await reopened.open()
    assert await reopened.load_all() == [Rec("a", {"seen": 2}, 2)]
    await reopened.close()


async def test_load_all_follows_the_layout_order() -> None:
    store = SubscriptionStore(None, LAYOUT)
    await store.open()
    for key, count in (("c", 3), ("a", 1), ("b", 2)):
        await store.put(Rec(key, {}, count))
    assert [r.key for r in await store.load_all()] == ["a", "b", "c"]
    await store.close()


async def test_a_failed_change_leaves_the_record_as_it_was() -> None:
    store = SubscriptionStore(None, LAYOUT)
    await store.open()
    await store.put(Rec("a", {"x": 1}, 1))

    def change(row: Row) -> Row:
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        await store.modify("a", change)
    with pytest.raises(KeyError, match="nope"):
        await store.update("a", {"nope": 1})
    with pytest.raises(KeyError, match="nope"):
        await store.modify("a", lambda row: {"nope": 1})
    assert await store.get("a") == Rec("a", {"x": 1}, 1)
    await store.close()


async def test_sqlite_runs_off_the_event_loop_thread() -> None:
    loop_thread = threading.get_ident()
    seen: list[int] = []

    def change(row: Row) -> Row:
        seen.append(threading.get_ident())
        return {}

    store = SubscriptionStore(None, LAYOUT)
    await store.open()
    await store.put(Rec("a", {}, 0))
    await store.modify("a", change)
    assert len(seen) == 1
    assert seen[0] != loop_thread
    await store.close()


async def test_use_before_open_or_after_close() -> None:
    store = SubscriptionStore(None, LAYOUT)
    assert not store.is_open
    with pytest.raises(RuntimeError, match="not open"):
        await store.get("a")
    await store.open()
    await store.close()
    await store.close()  # idempotent
    with pytest.raises(RuntimeError, match="not open"):
        await store.put(Rec("a", {}))


@pytest.mark.parametrize(("key", "columns", "order_by"), [
    ("id; DROP", {"doc": "TEXT"}, "id; DROP"), ("id", {"doc x": "TEXT"}, "id"), ("id", {"doc": "TEXT"}, "other"),
])
def test_layout_names_are_checked(key: str, columns: dict[str, str], order_by: str) -> None:
    with pytest.raises(ValueError, match="invalid store layout"):
        RecordLayout(key=key, columns=columns, order_by=order_by, encode=LAYOUT.encode, decode=LAYOUT.decode)
