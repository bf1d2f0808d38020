"""In-memory state of the analytics exposure: the latest findings per UE, bounded and expiring.

A finding is the newest :class:`~nwdaf.platform.events.AnalyticsResult` for one (SUPI, event, exception) key. Engines
publish one per analytics window, so the state holds "what is currently known" about each UE; it answers
Nnwdaf_AnalyticsInfo requests, periodic reports and immediate reports, and tells the THRESHOLD logic whether a
result is new or crossed a level.
"""

from __future__ import annotations

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


class FindingsState:
    """Latest finding per key; at most ``max_findings`` (least recently updated evicted first), each valid for
    ``ttl`` after its window ended."""

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
        current = Finding(result, max(result.window_end, result.generated_at) + self._ttl)
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
