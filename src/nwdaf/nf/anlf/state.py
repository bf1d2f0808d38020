"""In-memory state of the analytics exposure: the latest findings per UE, bounded and expiring.

A finding is the newest :class:`~nwdaf.platform.events.AnalyticsResult` for one (SUPI, event, exception) key. Engines
publish one per analytics window, so the state holds "what is currently known" about each UE; it answers
Nnwdaf_AnalyticsInfo requests, periodic reports and immediate reports, and tells the THRESHOLD logic whether a
result is new or crossed a level.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from nwdaf.platform.events import AnalyticsResult

FindingKey = tuple[str, str, str]
"""(SUPI, NwdafEvent, ExceptionId or "")."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One current finding and until when it is valid (TS 29.520 ``EventNotification.expiry``)."""

    result: AnalyticsResult
    expiry: datetime
    seq: int = 0
    """Order of acceptance (:attr:`FindingsState.accepted` when it was added): tells reports on detection which
    findings a subscription may already have been told about."""

    @property
    def key(self) -> FindingKey:
        return key_of(self.result)

    @property
    def level(self) -> int | None:
        abnormal = self.result.abnormal
        return abnormal.excep_level if abnormal is not None else None


def key_of(result: AnalyticsResult) -> FindingKey:
    excep = result.abnormal.excep_id if result.abnormal is not None else ""
    return (result.supi, result.event, excep)


@dataclass(frozen=True, slots=True)
class Update:
    """What adding a result changed: the new finding and the one it replaced (if that was still valid)."""

    current: Finding
    previous: Finding | None


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Watermark:
    """The analytics' clock for finding freshness: event time, as the data tells it.

    It is the newest analytics window end seen, advancing with the wall clock (1 x) in between; before the first
    result it is the wall clock. Live data ends its windows about now, so this is the wall clock give or take the
    pipeline's delay; a recording kept at its original times (``upf.replay_time: original``) or replayed faster
    than real time (rebased) keeps its own time, so a finding is never stale just because the recording is old.
    See "Time" in ``docs/architecture.md``.
    """

    def __init__(self, wall: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._wall = wall
        self._monotonic = monotonic
        self._seen: float | None = None
        self._seen_at = 0.0

    def observe(self, event_time: float) -> None:
        """Take a window end (epoch seconds); the watermark only moves forward."""
        if self._seen is None or event_time > self.now():
            self._seen, self._seen_at = event_time, self._monotonic()

    def now(self) -> float:
        """Epoch seconds on the data clock."""
        if self._seen is None:
            return self._wall()
        return self._seen + (self._monotonic() - self._seen_at)

    def now_utc(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)


class FindingsState:
    """Latest finding per key; at most ``max_findings`` (least recently updated evicted first), each valid for
    ``ttl`` after its window ended, on ``clock`` (the service passes its :class:`Watermark`)."""

    def __init__(self, ttl: timedelta, max_findings: int, clock: Callable[[], datetime] = _utcnow) -> None:
        if max_findings < 1:
            raise ValueError(f"max_findings must be >= 1, got {max_findings}")
        self._ttl = ttl
        self._max = max_findings
        self._clock = clock
        self._items: OrderedDict[FindingKey, Finding] = OrderedDict()
        self._by_event: dict[str, dict[str, dict[str, Finding]]] = {}
        """event -> SUPI -> ExceptionId -> finding: reports read one event, often for a few SUPIs."""
        self.evicted = 0
        self.accepted = 0
        """Findings added so far; the next one gets ``seq`` = ``accepted + 1``."""

    def __len__(self) -> int:
        return len(self._items)

    def add(self, result: AnalyticsResult) -> Update:
        """Store ``result`` as the current finding of its key; stale results (older window) change nothing."""
        now = self._clock()
        key = key_of(result)
        old = self._items.get(key)
        previous = old if old is not None and old.expiry > now else None
        if previous is not None and result.window_end < previous.result.window_end:
            return Update(previous, previous)
        self.accepted += 1
        current = Finding(result, max(result.window_end, result.generated_at) + self._ttl, self.accepted)
        self._items[key] = current
        self._items.move_to_end(key)
        self._by_event.setdefault(key[1], {}).setdefault(key[0], {})[key[2]] = current
        while len(self._items) > self._max:
            self._remove(next(iter(self._items)))
            self.evicted += 1
        return Update(current, previous)

    def _remove(self, key: FindingKey) -> None:
        del self._items[key]
        supi, event, excep = key
        per_supi = self._by_event[event]
        per_supi[supi].pop(excep, None)
        if not per_supi[supi]:
            del per_supi[supi]

    def expire(self) -> int:
        """Drop every expired finding; returns how many."""
        now = self._clock()
        dead = [k for k, f in self._items.items() if f.expiry <= now]
        for k in dead:
            self._remove(k)
        return len(dead)

    def current(
        self, event: str, supis: Iterable[str] | None = None, match: Callable[[Finding], bool] | None = None
    ) -> list[Finding]:
        """Valid findings of ``event`` (for ``supis`` only, when given) that pass ``match``, oldest first."""
        now = self._clock()
        per_supi = self._by_event.get(event, {})
        groups = per_supi.values() if supis is None else (per_supi[s] for s in dict.fromkeys(supis) if s in per_supi)
        found = [f for group in groups for f in group.values() if f.expiry > now and (match is None or match(f))]
        found.sort(key=lambda f: f.result.generated_at)
        return found

    def __iter__(self) -> Iterator[Finding]:
        return iter(list(self._items.values()))
