"""PeriodicScheduler: due times from anchor + k * period, late reports coalesced, removal."""

from __future__ import annotations

import asyncio
import time

import pytest

from nwdaf.nf.anlf.scheduler import PeriodicScheduler

pytestmark = pytest.mark.unit


class FakeClock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_due_times_are_anchor_plus_k_periods() -> None:
    clock = FakeClock(100.0)
    fired: list[tuple[str, int, float]] = []
    sched = PeriodicScheduler(lambda key, k, due: fired.append((key, k, due)), clock)
    assert sched.add("a", anchor=100.0, period=2.0) == 1
    for now in (101.0, 102.0, 103.9, 104.5, 106.0):
        clock.now = now
        await sched.run_due()
    assert fired == [("a", 1, 102.0), ("a", 2, 104.0), ("a", 3, 106.0)]


async def test_late_scheduler_sends_one_report_and_skips_the_rest() -> None:
    clock = FakeClock(0.0)
    fired: list[int] = []
    skipped: list[int] = []
    sched = PeriodicScheduler(lambda key, k, due: fired.append(k), clock, skipped.append)
    sched.add("a", anchor=0.0, period=1.0)
    clock.now = 1.0
    await sched.run_due()
    clock.now = 5.5
    await sched.run_due()
    assert fired == [1, 2, 5]
    assert skipped == [2]
    assert sched.skipped == 2


async def test_resume_after_restart_continues_from_the_anchor() -> None:
    clock = FakeClock(1000.0)
    fired: list[int] = []
    sched = PeriodicScheduler(lambda key, k, due: fired.append(k), clock)
    assert sched.add("a", anchor=990.5, period=2.0) == 5
    clock.now = 1000.5
    await sched.run_due()
    assert fired == [5]


async def test_removed_and_replaced_keys() -> None:
    clock = FakeClock(0.0)
    fired: list[tuple[str, int]] = []
    sched = PeriodicScheduler(lambda key, k, due: fired.append((key, k)), clock)
    sched.add("gone", 0.0, 1.0)
    sched.add("moved", 0.0, 1.0)
    assert sched.remove("gone")
    assert not sched.remove("gone")
    sched.add("moved", anchor=0.5, period=1.0)  # a PUT re-anchors: the old entry must not fire
    clock.now = 1.0
    await sched.run_due()
    clock.now = 1.5
    await sched.run_due()
    assert fired == [("moved", 1)]
    assert "moved" in sched
    assert len(sched) == 1


async def test_a_failing_fire_callback_does_not_stop_the_schedule() -> None:
    clock = FakeClock(0.0)
    calls: list[int] = []

    def fire(key: str, k: int, due: float) -> None:
        calls.append(k)
        raise RuntimeError("boom")

    sched = PeriodicScheduler(fire, clock)
    sched.add("a", 0.0, 1.0)
    for now in (1.0, 2.0):
        clock.now = now
        await sched.run_due()
    assert calls == [1, 2]


async def test_loop_wakes_for_an_earlier_entry() -> None:
    fired = asyncio.Event()
    sched = PeriodicScheduler(lambda key, k, due: fired.set() if key == "soon" else None)
    sched.start()
    try:
        loop_clock = time.time()
        sched.add("late", anchor=loop_clock + 3600, period=3600)
        await asyncio.sleep(0)
        sched.add("soon", anchor=loop_clock - 0.95, period=1.0)
        await asyncio.wait_for(fired.wait(), timeout=10)
    finally:
        await sched.stop()


def test_rejects_non_positive_period() -> None:
    sched = PeriodicScheduler(lambda key, k, due: None)
    with pytest.raises(ValueError, match="period"):
        sched.add("a", 0.0, 0.0)
