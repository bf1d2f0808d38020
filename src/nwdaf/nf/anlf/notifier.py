"""Delivery of Nnwdaf_EventsSubscription notifications to consumers' ``notificationURI``.

Each subscription has its own FIFO and at most one delivery in flight, so its notifications arrive in order; a
global semaphore bounds the POSTs in flight across subscriptions. Retries follow the SBI retry policy
(:mod:`nwdaf.platform.sbi.retry`) and back off *outside* the semaphore, so a dead consumer holds a slot only while
a request to it is actually open and never starves the others. The POSTs go through
:meth:`~nwdaf.platform.sbi.SbiClient.send_notification` (``anlf.notification_client`` picks its transport). After
``failures_before_termination`` consecutive undeliverable notifications the subscription is handed to
``on_dead``, which terminates it (TS 29.520 has no termination cause for an unreachable consumer, and a
termination request could not reach it anyway; the consumer learns of it from the 404 on its next update).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from nwdaf.nf.anlf.config import AnlfSettings
from nwdaf.nf.anlf.metrics import AnlfMetrics
from nwdaf.platform.sbi import SbiCallError, SbiClient
from nwdaf.platform.sbi.retry import Reply, RetryPolicy, with_retries

log = logging.getLogger("nwdaf.anlf.notifier")

OnDead = Callable[[str, str], Awaitable[None]]
"""Called with (subscriptionId, reason) once a consumer is considered dead."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One notification request: the JSON body (an array of NnwdafEventsSubscriptionNotification) and, for
    PERIODIC reports, the epoch time it was due (to measure lateness)."""

    subscription_id: str
    uri: str
    body: list[dict[str, Any]]
    due: float | None = None


class AnalyticsNotifier:
    """Nnwdaf_EventsSubscription_Notify delivery: ordered per subscription, bounded overall, with retries and
    dead-consumer detection."""

    def __init__(self, client: SbiClient, settings: AnlfSettings, metrics: AnlfMetrics, on_dead: OnDead,
                 clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._settings = settings
        self._policy = RetryPolicy(settings.notify_attempts, settings.notify_backoff_s)
        self._metrics = metrics
        self._on_dead = on_dead
        self._clock = clock
        self._sem = asyncio.Semaphore(settings.max_concurrent_notifications)
        self._queues: dict[str, deque[Delivery]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._failures: dict[str, int] = {}

    @property
    def pending(self) -> int:
        return sum(len(q) for q in self._queues.values()) + len(self._workers)

    def submit(self, delivery: Delivery) -> None:
        """Queue ``delivery`` behind the subscription's earlier ones; never blocks."""
        sid = delivery.subscription_id
        queue = self._queues.setdefault(sid, deque())
        if len(queue) >= self._settings.max_queued_per_subscription:
            queue.popleft()
            self._metrics.notifications.labels("dropped").inc()
            log.warning("consumer is slow: dropped the oldest queued notification", extra={"subscription_id": sid})
        queue.append(delivery)
        if sid not in self._workers:
            self._workers[sid] = asyncio.get_running_loop().create_task(self._work(sid), name=f"notify-{sid}")

    def forget(self, subscription_id: str) -> None:
        """Discard what is still queued for a subscription that no longer exists."""
        queue = self._queues.get(subscription_id)
        if queue is not None:
            queue.clear()
        self._failures.pop(subscription_id, None)

    async def close(self, grace_s: float = 2.0) -> None:
        """Let in-flight deliveries finish for up to ``grace_s``, then cancel the rest."""
        workers = list(self._workers.values())
        if workers:
            _, late = await asyncio.wait(workers, timeout=grace_s)
            for task in late:
                task.cancel()
            for task in late:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._queues.clear()
        self._workers.clear()

    async def _work(self, sid: str) -> None:
        try:
            queue = self._queues[sid]
            while queue:
                delivery = queue.popleft()
                if await self._deliver(delivery):
                    self._failures[sid] = 0
                    continue
                failures = self._failures.get(sid, 0) + 1
                self._failures[sid] = failures
                if failures >= self._settings.failures_before_termination:
                    queue.clear()
                    await self._on_dead(sid, f"{failures} consecutive notifications undeliverable")
        finally:
            self._workers.pop(sid, None)
            if not self._queues.get(sid):
                self._queues.pop(sid, None)

    async def _deliver(self, delivery: Delivery) -> bool:
        async def attempt(n: int) -> Reply:
            async with self._sem:
                if n == 0 and delivery.due is not None:
                    self._metrics.lateness.observe(max(0.0, self._clock() - delivery.due))
                return await self._post(delivery)

        try:
            reply = await with_retries(self._policy, attempt)
        except SbiCallError as exc:
            reason = str(exc)
        else:
            if 200 <= reply.status_code < 300:
                self._metrics.notifications.labels("delivered").inc()
                return True
            reason = f"POST {delivery.uri} answered {reply.status_code}"
        self._metrics.notifications.labels("failed").inc()
        log.warning("notification undeliverable: %s", reason, extra={"subscription_id": delivery.subscription_id})
        return False

    def headers(self, delivery: Delivery) -> dict[str, str]:
        """Extra request headers of a delivery: none here (the SBI client adds the request ID of the context that
        queued it, if any)."""
        return {}

    async def _post(self, delivery: Delivery) -> Reply:
        """One attempt (TS 29.500 clause 6.10.9: a consumer may redirect its callback with 307/308; followed)."""
        return await self._client.send_notification(delivery.uri, delivery.body, headers=self.headers(delivery),
                                                    via=self._settings.notification_client)
