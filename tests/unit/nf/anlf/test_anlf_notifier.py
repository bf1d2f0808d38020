"""AnalyticsNotifier: per-subscription order, bounded concurrency, retries, dead-consumer termination."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from tests.support.polling import wait_until

from nwdaf.nf.anlf.config import AnlfSettings
from nwdaf.nf.anlf.metrics import AnlfMetrics
from nwdaf.nf.anlf.notifier import AnalyticsNotifier, Delivery
from nwdaf.platform.sbi import SbiClient

pytestmark = pytest.mark.unit


def _delivery(sid: str, n: int, host: str = "live.example") -> Delivery:
    return Delivery(sid, f"http://{host}/cb", [{"subscriptionId": sid, "n": n}])


class Peer:
    """Answers per host: a list of statuses to play in order (then 204), or a transport error."""

    def __init__(self) -> None:
        self.script: dict[str, list[int]] = {}
        self.down: set[str] = set()
        self.received: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def handler(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host in self.down:
            raise httpx.ConnectError("connection refused", request=request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.002)
        finally:
            self.in_flight -= 1
        statuses = self.script.get(host) or []
        status = statuses.pop(0) if statuses else 204
        if 200 <= status < 300:
            self.received.extend(json.loads(request.content))
        return httpx.Response(status)


def _count(metrics: AnlfMetrics, outcome: str) -> float:
    return metrics.registry.get_sample_value("nwdaf_anlf_notifications_total", {"outcome": outcome}) or 0.0


def _notifier(peer: Peer, dead: list[tuple[str, str]], **overrides: Any) -> tuple[AnalyticsNotifier, AnlfMetrics]:
    settings = AnlfSettings(**{"notify_backoff_s": 0.001, "notify_attempts": 3, "failures_before_termination": 2,
                               **overrides})
    metrics = AnlfMetrics()

    async def on_dead(sid: str, reason: str) -> None:
        dead.append((sid, reason))

    client = SbiClient(transport=httpx.MockTransport(peer.handler))
    return AnalyticsNotifier(client, settings, metrics, on_dead), metrics


async def test_in_order_per_subscription_and_bounded_overall() -> None:
    peer, dead = Peer(), []
    notifier, metrics = _notifier(peer, dead, max_concurrent_notifications=4)
    for n in range(20):
        for sid in ("s1", "s2", "s3", "s4", "s5", "s6"):
            notifier.submit(_delivery(sid, n))
    await wait_until(lambda: len(peer.received) == 120, message="120 deliveries")
    for sid in ("s1", "s2", "s3", "s4", "s5", "s6"):
        assert [b["n"] for b in peer.received if b["subscriptionId"] == sid] == list(range(20))
    assert peer.max_in_flight <= 4
    assert _count(metrics, "delivered") == 120
    await notifier.close()


async def test_retries_a_busy_consumer_then_delivers() -> None:
    peer, dead = Peer(), []
    peer.script["live.example"] = [503, 502]
    notifier, metrics = _notifier(peer, dead)
    notifier.submit(_delivery("s1", 1))
    await wait_until(lambda: len(peer.received) == 1, message="the retried delivery")
    assert dead == []
    assert _count(metrics, "failed") == 0
    await notifier.close()


async def test_client_error_is_not_retried() -> None:
    peer, dead = Peer(), []
    peer.script["live.example"] = [400, 400]
    notifier, metrics = _notifier(peer, dead, failures_before_termination=5)
    notifier.submit(_delivery("s1", 1))
    notifier.submit(_delivery("s1", 2))
    await wait_until(lambda: _count(metrics, "failed") == 2, message="two failures")
    assert peer.script["live.example"] == []  # each 400 was used by exactly one attempt
    notifier.submit(_delivery("s1", 3))
    await wait_until(lambda: len(peer.received) == 1, message="the third notification")
    await notifier.close()


async def test_dead_consumer_is_terminated_without_blocking_others() -> None:
    peer, dead = Peer(), []
    peer.down.add("dead.example")
    notifier, metrics = _notifier(peer, dead, max_concurrent_notifications=1)
    for n in range(5):
        notifier.submit(_delivery("dead", n, host="dead.example"))
        notifier.submit(_delivery("live", n))
    await wait_until(lambda: dead and len(peer.received) == 5, message="termination and live deliveries")
    assert dead == [("dead", "2 consecutive notifications undeliverable")]
    assert [b["n"] for b in peer.received] == [0, 1, 2, 3, 4]
    await wait_until(lambda: notifier.pending == 0, message="queues to empty")
    assert _count(metrics, "failed") == 2
    await notifier.close()


async def test_full_queue_drops_oldest_and_counts_it() -> None:
    peer, dead = Peer(), []
    notifier, metrics = _notifier(peer, dead, max_queued_per_subscription=2)
    for n in range(5):
        notifier.submit(_delivery("s1", n))
    await wait_until(lambda: notifier.pending == 0, message="queue to drain")
    # submit() never yields, so the worker starts only after all five were queued: the oldest three went.
    assert _count(metrics, "dropped") == 3
    assert [b["n"] for b in peer.received] == [3, 4]
    await notifier.close()


async def test_forget_discards_queued_notifications() -> None:
    peer, dead = Peer(), []
    notifier, _ = _notifier(peer, dead)
    for n in range(5):
        notifier.submit(_delivery("s1", n))
    notifier.forget("s1")
    await wait_until(lambda: notifier.pending == 0, message="queue to drain")
    assert len(peer.received) <= 1  # at most the one already in flight
    await notifier.close()
