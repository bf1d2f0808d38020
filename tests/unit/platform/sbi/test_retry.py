"""The one retry policy: which answers are retried, the backoff, Retry-After (RFC 9110 clause 10.2.3), the cap."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from nwdaf.platform.sbi.retry import RETRYABLE_STATUS, RetryPolicy, SbiCallError, retry_after_s, with_retries

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@dataclass
class Answer:
    status_code: int
    headers: Mapping[str, str] = field(default_factory=dict)


def test_retryable_statuses_are_the_transient_ones() -> None:
    assert sorted(RETRYABLE_STATUS) == [408, 429, 502, 503, 504]
    policy = RetryPolicy()
    assert policy.retryable(None), "no answer at all is retried"
    for status in (500, 501, 505, 400, 403, 404, 409, 200, 204, 307):
        assert not policy.retryable(status), status


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(attempts=6, backoff_s=0.5, backoff_max_s=3.0)
    assert [policy.delay(a) for a in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


@pytest.mark.parametrize(("value", "seconds"), [("7", 7.0), (" 0 ", 0.0), ("120", 120.0)])
def test_retry_after_delta_seconds(value: str, seconds: float) -> None:
    assert retry_after_s(value, NOW) == seconds


def test_retry_after_http_date() -> None:
    assert retry_after_s(format_datetime(NOW + timedelta(seconds=4), usegmt=True), NOW) == 4.0
    assert retry_after_s("Sun, 01 Mar 2026 12:00:30 GMT", NOW) == 30.0
    assert retry_after_s(format_datetime(NOW - timedelta(seconds=9), usegmt=True), NOW) == 0.0, "past: no wait"


@pytest.mark.parametrize("value", [None, "", "soon", "-3", "1.5"])
def test_unreadable_retry_after_is_ignored(value: str | None) -> None:
    assert retry_after_s(value, NOW) is None
    assert RetryPolicy(backoff_s=0.2).delay(1, value, NOW) == 0.4


def test_retry_after_lengthens_the_wait_but_never_past_the_cap() -> None:
    policy = RetryPolicy(backoff_s=0.2, backoff_max_s=10.0)
    assert policy.delay(0, "3", NOW) == 3.0
    assert policy.delay(0, "0", NOW) == 0.2, "never shorter than the backoff"
    assert policy.delay(0, "3600", NOW) == 10.0
    assert policy.delay(0, "Sun, 01 Mar 2026 13:00:00 GMT", NOW) == 10.0


async def test_with_retries_honours_retry_after_and_returns_the_first_final_answer(sleeps: list[float]) -> None:
    answers = [Answer(503, {"retry-after": "2"}), Answer(429), Answer(201)]
    calls: list[int] = []

    async def attempt(n: int) -> Answer:
        calls.append(n)
        return answers[n]

    reply = await with_retries(RetryPolicy(attempts=5, backoff_s=0.1), attempt)
    assert reply.status_code == 201
    assert calls == [0, 1, 2]
    assert sleeps == pytest.approx([2.0, 0.2])


async def test_with_retries_returns_a_non_retryable_answer_at_once(sleeps: list[float]) -> None:
    async def attempt(n: int) -> Answer:
        return Answer(500)

    assert (await with_retries(RetryPolicy(attempts=3), attempt)).status_code == 500
    assert sleeps == []


async def test_with_retries_returns_the_last_retryable_answer_and_raises_the_last_transport_error(
    sleeps: list[float],
) -> None:
    async def busy(n: int) -> Answer:
        return Answer(503)

    assert (await with_retries(RetryPolicy(attempts=3, backoff_s=0.1), busy)).status_code == 503
    assert sleeps == pytest.approx([0.1, 0.2]), "no wait after the last attempt"

    async def unreachable(n: int) -> Answer:
        raise SbiCallError("POST", "http://x.example/cb", None, f"refused {n}")

    with pytest.raises(SbiCallError, match="refused 1"):
        await with_retries(RetryPolicy(attempts=2, backoff_s=0.1), unreachable)
