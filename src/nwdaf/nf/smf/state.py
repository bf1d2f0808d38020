"""State of the SMF policy consumer: its NWDAF subscription and the release rate window."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class NwdafSubscriptionState:
    """Where our Nnwdaf_EventsSubscription lives, and which subscription ids notifications may carry."""

    location: str | None = None
    subscription_id: str | None = None
    previous_ids: deque[str] = field(default_factory=lambda: deque(maxlen=8))
    """Ids of subscriptions replaced recently: their last notifications may still be in flight."""
    pending: bool = False
    """A subscribe request is in flight: notifications may arrive before its response names the id."""
    last_error: str | None = None

    def accepts(self, subscription_id: str) -> bool:
        return self.pending or subscription_id == self.subscription_id or subscription_id in self.previous_ids

    def replace(self, location: str, subscription_id: str) -> None:
        if self.subscription_id and self.subscription_id != subscription_id:
            self.previous_ids.append(self.subscription_id)
        self.location, self.subscription_id = location, subscription_id


class ReleaseRateLimiter:
    """At most ``per_minute`` releases in any sliding 60 s window."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._times: deque[float] = deque()

    def _trim(self, now: float) -> None:
        while self._times and self._times[0] <= now - 60.0:
            self._times.popleft()

    def allow(self) -> bool:
        """Take one slot if the window has one."""
        now = self._clock()
        self._trim(now)
        if len(self._times) >= self.per_minute:
            return False
        self._times.append(now)
        return True

    @property
    def used(self) -> int:
        self._trim(self._clock())
        return len(self._times)
