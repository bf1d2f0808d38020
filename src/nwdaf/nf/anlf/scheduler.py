"""Drift-free periodic scheduling of many subscriptions on one event loop.

Report k of a subscription is due at ``anchor + k * period`` — computed, never accumulated (``sleep(period)``
after the work would add the work's duration to every period). Due times sit in one binary heap; the loop
sleeps until the earliest, fires every entry that is due, and pushes each one's next due time. Firing only hands
the report to the notifier (bounded concurrency), so thousands of subscriptions due at the same instant cost one
heap pass. If the loop falls more than a period behind, the missed reports are skipped (and counted), not sent
in a burst: only the latest overdue one goes out. A periodic report describes the current state, so late
duplicates carry nothing new.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("nwdaf.anlf.scheduler")

Fire = Callable[[str, int, float], None]
"""Called with (key, k, due time in epoch seconds) when report k of ``key`` is due."""

_YIELD_EVERY = 256


@dataclass(slots=True)
class _Entry:
    anchor: float
    period: float
    generation: int


class PeriodicScheduler:
    """Heap-based scheduler; ``clock`` is wall-clock epoch seconds so anchors survive a restart."""

    def __init__(self, fire: Fire, clock: Callable[[], float] = time.time,
                 on_skipped: Callable[[int], None] | None = None) -> None:
        self._fire = fire
        self._clock = clock
        self._on_skipped = on_skipped
        self._entries: dict[str, _Entry] = {}
        self._heap: list[tuple[float, int, str, int, int]] = []
        self._seq = itertools.count()
        self._generations = itertools.count(1)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.fired = 0
        self.skipped = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def add(self, key: str, anchor: float, period: float) -> int:
        """(Re)schedule ``key``; returns k of its next report, the first one due strictly after now (k >= 1)."""
        if period <= 0:
            raise ValueError(f"period must be > 0, got {period}")
        entry = _Entry(anchor, period, next(self._generations))
        self._entries[key] = entry
        k = max(1, math.floor((self._clock() - anchor) / period) + 1)
        self._push(key, entry, k)
        return k

    def remove(self, key: str) -> bool:
        """Stop scheduling ``key`` (its heap entries are discarded when they come up)."""
        return self._entries.pop(key, None) is not None

    def _push(self, key: str, entry: _Entry, k: int) -> None:
        due = entry.anchor + k * entry.period
        earliest = self._heap[0][0] if self._heap else math.inf
        heapq.heappush(self._heap, (due, next(self._seq), key, k, entry.generation))
        if due < earliest:
            self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="anlf-periodic-scheduler")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            delay = self._heap[0][0] - self._clock() if self._heap else None
            if delay is None or delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                continue
            await self.run_due()

    async def run_due(self) -> int:
        """Fire every entry due by now (the loop calls this; tests with a fake clock may too); returns how many."""
        fired = 0
        while self._heap and self._heap[0][0] <= self._clock():
            due, _, key, k, generation = heapq.heappop(self._heap)
            entry = self._entries.get(key)
            if entry is None or entry.generation != generation:
                continue
            try:
                self._fire(key, k, due)
            except Exception:
                log.exception("periodic report %d of %s failed to start", k, key)
            self.fired += 1
            if self._entries.get(key) is entry:
                self._push(key, entry, self._next_k(entry, k))
            fired += 1
            if fired % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
        return fired

    def _next_k(self, entry: _Entry, k: int) -> int:
        latest_due = math.floor((self._clock() - entry.anchor) / entry.period)
        if latest_due <= k + 1:
            return k + 1
        missed = latest_due - (k + 1)
        self.skipped += missed
        if self._on_skipped is not None:
            self._on_skipped(missed)
        return latest_due
