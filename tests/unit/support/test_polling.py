"""tests.support.polling: wait until a condition holds, failing after a deadline that only bounds the wait."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from tests.support.polling import wait_until, wait_until_sync

pytestmark = pytest.mark.unit


async def test_returns_the_first_true_value_of_a_plain_predicate() -> None:
    calls = itertools.count(1)
    assert await wait_until(lambda: next(calls) >= 3 and "third", interval_s=0) == "third"


async def test_awaits_an_async_predicate() -> None:
    seen: list[int] = []

    async def grown() -> list[int] | None:
        seen.append(len(seen))
        await asyncio.sleep(0)
        return seen if len(seen) == 4 else None

    assert await wait_until(grown, interval_s=0) == [0, 1, 2, 3]


async def test_lets_other_tasks_run_between_polls() -> None:
    flag = asyncio.Event()
    asyncio.get_running_loop().call_soon(flag.set)
    assert await wait_until(flag.is_set, timeout_s=30, interval_s=0.001)


async def test_fails_naming_what_was_awaited() -> None:
    with pytest.raises(AssertionError, match=r"timed out after 0\.05 s waiting for the sky to fall"):
        await wait_until(lambda: False, timeout_s=0.05, interval_s=0.01, message="the sky to fall")


async def test_message_may_describe_what_was_seen_at_the_deadline() -> None:
    seen = [1, 2]
    with pytest.raises(AssertionError, match=r"waiting for 3 items; got \[1, 2\]"):
        await wait_until(lambda: len(seen) >= 3, timeout_s=0, message=lambda: f"3 items; got {seen}")


async def test_a_true_predicate_returns_even_with_no_time_left() -> None:
    assert await wait_until(lambda: 1, timeout_s=0) == 1


def test_sync_twin() -> None:
    calls = itertools.count(1)
    assert wait_until_sync(lambda: next(calls) == 2, interval_s=0)
    with pytest.raises(AssertionError, match="waiting for nothing"):
        wait_until_sync(lambda: 0, timeout_s=0.02, interval_s=0.01, message="nothing")
