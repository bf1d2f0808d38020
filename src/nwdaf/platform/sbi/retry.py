"""The one retry policy of every outbound SBI request and notification.

What is retried (TS 29.500 clause 6.10.6 leaves retries of a failed request to the consumer; RFC 9110 says which
answers are transient):

* no answer at all: connection refused or lost, timeout (TS 29.500 clause 6.10.6);
* ``408 Request Timeout``: the server closed a connection it considered idle or did not get the whole request in
  time, and a client may repeat the request (RFC 9110 clause 15.5.9);
* ``429 Too Many Requests`` (RFC 6585 clause 4) and ``503 Service Unavailable`` (RFC 9110 clause 15.6.4):
  overload, usually with a ``Retry-After``; TS 29.500 clause 6.4 uses 503 for an overloaded producer;
* ``502 Bad Gateway`` and ``504 Gateway Timeout`` (RFC 9110 clauses 15.6.3, 15.6.5): an intermediary (an SCP,
  TS 29.500 clause 6.10) could not reach or hear back from the next hop.

Not retried: every other answer. In particular ``500 Internal Server Error`` (RFC 9110 clause 15.6.1, cause
``SYSTEM_FAILURE`` in TS 29.500): the server hit an unexpected condition that the same request meets again, and
``501``/``505``, which are permanent; 4xx answers are the request's fault.

Between attempts the wait doubles from ``backoff_s``; a ``Retry-After`` (RFC 9110 clause 10.2.3: delta-seconds or
an HTTP-date) lengthens it to what the server asked for; both are capped at ``backoff_max_s``, so a server asking
for an hour cannot park a notification queue for an hour.

:func:`with_retries` is the only retry loop of the outbound path: :class:`~nwdaf.platform.sbi.client.SbiClient`,
the UPF's event exposure notifications, the AnLF's analytics notifications and the MTLF's model notifications all
run their attempts through it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol, TypeVar

log = logging.getLogger("nwdaf.sbi.client")

RETRYABLE_STATUS = frozenset({408, 429, 502, 503, 504})
"""Statuses that a later attempt may change (see the module docstring)."""


class SbiCallError(RuntimeError):
    """A call that failed after its retries; carries the last status (None for transport errors)."""

    def __init__(self, method: str, url: str, status: int | None, detail: str) -> None:
        super().__init__(f"{method} {url} failed: {detail}")
        self.status = status


class Reply(Protocol):
    """What an attempt answers: an ``httpx.Response`` or the lean HTTP/1.1 client's response."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...


R = TypeVar("R", bound=Reply)


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` value asks to wait (RFC 9110 clause 10.2.3): delta-seconds or an HTTP-date;
    None when absent or unreadable, 0 for a date in the past."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempts, exponential backoff with a cap, and which statuses are worth another attempt."""

    attempts: int = 3
    """Attempts in all (the first try included)."""
    backoff_s: float = 0.2
    """Wait after the first failed attempt; doubles after each further one."""
    backoff_max_s: float = 10.0
    """No wait is longer, whatever ``Retry-After`` asks for."""
    retryable_status: frozenset[int] = RETRYABLE_STATUS

    def retryable(self, status: int | None) -> bool:
        """Whether another attempt may succeed; ``None`` is an attempt that got no answer."""
        return status is None or status in self.retryable_status

    def delay(self, attempt: int, retry_after: str | None = None, now: datetime | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (0 for the first), honouring ``Retry-After``."""
        wait = self.backoff_s * 2**attempt
        asked = retry_after_s(retry_after, now)
        if asked is not None:
            wait = max(wait, asked)
        return float(min(wait, self.backoff_max_s))

    def with_attempts(self, attempts: int) -> RetryPolicy:
        return RetryPolicy(attempts, self.backoff_s, self.backoff_max_s, self.retryable_status)


async def with_retries(policy: RetryPolicy, attempt: Callable[[int], Awaitable[R]]) -> R:
    """Run ``attempt(0)``, ``attempt(1)``, … until one answers with a status :meth:`RetryPolicy.retryable` rejects,
    or the attempts are used up; returns that answer (on the last attempt, whatever it is). ``attempt`` raises
    :class:`SbiCallError` when it got no answer; that is retried too, and raised after the last attempt. The wait
    happens between calls to ``attempt``, so anything ``attempt`` holds (a concurrency slot) is free meanwhile."""
    attempts = max(1, policy.attempts)
    for n in range(attempts):
        last = n + 1 == attempts
        try:
            reply = await attempt(n)
        except SbiCallError as exc:
            if last:
                raise
            reason, retry_after = str(exc), None
        else:
            if last or not policy.retryable(reply.status_code):
                return reply
            reason, retry_after = f"HTTP {reply.status_code}", reply.headers.get("retry-after")
        wait = policy.delay(n, retry_after)
        log.debug("attempt %d failed (%s); next in %.3f s", n + 1, reason, wait)
        await asyncio.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover - the last attempt returns or raises
