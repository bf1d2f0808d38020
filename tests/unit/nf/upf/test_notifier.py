"""Notification delivery: bounded per-subscriber queues, retries with backoff, every report accounted for."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from nwdaf.nf.upf.notifier import DeliveryPolicy, EeNotifier
from nwdaf.platform.sbi import SbiClient

pytestmark = pytest.mark.unit

URI = "http://consumer.test/notify"


def _notifier(handler: httpx.MockTransport, **policy: float) -> EeNotifier:
    settings = {"queue_size": 4, "attempts": 3, "backoff_s": 0.0, "backoff_max_s": 0.0, **policy}
    return EeNotifier(SbiClient(transport=handler), DeliveryPolicy(**settings))  # type: ignore[arg-type]


async def test_a_stuck_subscriber_fills_only_its_own_queue() -> None:
    gate = asyncio.Event()
    seen = {"slow": 0, "fast": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        who = request.url.path.strip("/")
        if who == "slow":
            await gate.wait()
        seen[who] += 1
        return httpx.Response(204)

    notifier = _notifier(httpx.MockTransport(handler))
    slow = notifier.open("slow", "http://consumer.test/slow")
    fast = notifier.open("fast", "http://consumer.test/fast")
    for i in range(10):  # one report per period to each
        slow.offer({"n": i})  # never waits, whatever the subscriber does
        fast.offer({"n": i})
        await asyncio.wait_for(fast.wait_idle(), 5)
    assert fast.stats.delivered == seen["fast"] == 10
    assert fast.stats.dropped == 0
    # One report is in flight to the stuck subscriber, four are queued, the five oldest others were dropped.
    assert slow.stats.dropped_queue_full == 5
    assert slow.depth == 4
    gate.set()
    await asyncio.wait_for(slow.wait_idle(), 5)
    assert slow.stats.delivered == seen["slow"] == 5
    assert slow.stats.enqueued == slow.stats.delivered + slow.stats.dropped
    await notifier.close_all()


async def test_retryable_failures_are_retried_then_delivered() -> None:
    answers = [503, 429, 204]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(answers.pop(0))

    notifier = _notifier(httpx.MockTransport(handler))
    channel = notifier.open("s", URI)
    channel.offer({"x": 1})
    await asyncio.wait_for(channel.wait_idle(), 5)
    assert (channel.stats.delivered, channel.stats.retries, channel.stats.dropped) == (1, 2, 0)
    await notifier.close_all()


async def test_a_dead_subscriber_costs_bounded_attempts_and_is_counted() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ConnectError("connection refused", request=request)

    notifier = _notifier(httpx.MockTransport(handler))
    channel = notifier.open("s", URI)
    channel.offer({"x": 1})
    channel.offer({"x": 2})
    await asyncio.wait_for(channel.wait_idle(), 5)
    assert calls == 6
    assert channel.stats.dropped_undeliverable == 2
    assert "ConnectError" in (channel.stats.last_error or "")
    await notifier.close_all()
    assert notifier.totals().dropped_undeliverable == 2, "totals survive the channel"


async def test_a_rejecting_subscriber_is_not_retried() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(400)

    notifier = _notifier(httpx.MockTransport(handler))
    channel = notifier.open("s", URI)
    channel.offer({"x": 1})
    await asyncio.wait_for(channel.wait_idle(), 5)
    assert (calls, channel.stats.rejected, channel.stats.retries) == (1, 1, 0)
    await notifier.close_all()


async def test_backoff_grows_exponentially_up_to_the_cap() -> None:
    policy = DeliveryPolicy(backoff_s=0.5, backoff_max_s=3.0)
    assert [policy.delay(a) for a in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


async def test_closing_counts_what_was_still_queued() -> None:
    gate = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        await gate.wait()
        return httpx.Response(204)

    notifier = _notifier(httpx.MockTransport(handler))
    channel = notifier.open("s", URI)
    for i in range(3):
        channel.offer({"x": i})
    await asyncio.sleep(0)
    await notifier.close("s")
    assert channel.stats.discarded_on_close == 3  # two queued, one in flight when the sender was cancelled
    assert "s" not in notifier.channels
    gate.set()
