"""Notification delivery: one bounded queue and one sender task per subscription.

Reports are produced on the UPF's reporting path and handed over with :meth:`EeNotifier.offer`, which never
waits: a slow or dead subscriber fills its own queue, the oldest queued report is dropped (and counted), and
neither the packet pump nor other subscribers are held up. The sender retries under the SBI retry policy
(:mod:`nwdaf.platform.sbi.retry`: no answer, 408, 429, 502, 503, 504; ``Retry-After`` honoured); a report that
still cannot be delivered is dropped and counted, never silently lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from nwdaf.platform.sbi import SbiCallError, SbiClient
from nwdaf.platform.sbi.retry import Reply, RetryPolicy, with_retries

log = logging.getLogger("nwdaf.upf.notifier")


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """Queue bound and retry schedule for every subscriber."""

    queue_size: int = 64
    attempts: int = 4
    backoff_s: float = 0.2
    backoff_max_s: float = 10.0

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(self.attempts, self.backoff_s, self.backoff_max_s)

    def delay(self, attempt: int) -> float:
        """The wait after failed attempt ``attempt`` (0 for the first) when no ``Retry-After`` came."""
        return self.retry.delay(attempt)


@dataclass(slots=True)
class DeliveryStats:
    """What happened to one subscriber's notifications (every report ends in exactly one outcome)."""

    enqueued: int = 0
    delivered: int = 0
    dropped_queue_full: int = 0
    dropped_undeliverable: int = 0
    rejected: int = 0
    discarded_on_close: int = 0
    retries: int = 0
    last_error: str | None = None

    @property
    def dropped(self) -> int:
        return self.dropped_queue_full + self.dropped_undeliverable + self.rejected + self.discarded_on_close

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "dropped": self.dropped}

    def add(self, other: DeliveryStats) -> None:
        for name in ("enqueued", "delivered", "dropped_queue_full", "dropped_undeliverable", "rejected",
                     "discarded_on_close", "retries"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Channel:
    """The queue and sender task of one subscription."""

    key: str
    uri: str
    client: SbiClient
    policy: DeliveryPolicy
    correlation_id: str = ""
    stats: DeliveryStats = field(default_factory=DeliveryStats)
    _queue: deque[dict[str, Any]] = field(default_factory=deque)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    _idle: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._idle.set()
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"upf-notify-{self.key}")

    @property
    def depth(self) -> int:
        return len(self._queue)

    def offer(self, body: dict[str, Any]) -> None:
        if len(self._queue) >= self.policy.queue_size:
            self._queue.popleft()
            self.stats.dropped_queue_full += 1
            log.warning("subscriber queue full, oldest report dropped",
                        extra={"subscription_id": self.key, "correlation_id": self.correlation_id})
        self._queue.append(body)
        self.stats.enqueued += 1
        self._idle.clear()
        self._ready.set()

    async def _run(self) -> None:
        while True:
            if not self._queue:
                self._idle.set()
                self._ready.clear()
                await self._ready.wait()
                continue
            try:
                await self._deliver(self._queue.popleft())
            except asyncio.CancelledError:
                self.stats.discarded_on_close += 1  # in flight when the subscription went away
                raise

    async def _attempt(self, body: dict[str, Any], attempt: int) -> Reply:
        if attempt:
            self.stats.retries += 1
        try:
            return await self.client.send_notification(self.uri, body)
        except SbiCallError as exc:
            self.stats.last_error = str(exc)
            raise

    async def _deliver(self, body: dict[str, Any]) -> None:
        extra = {"subscription_id": self.key, "correlation_id": self.correlation_id}
        retry = self.policy.retry
        try:
            resp: Reply | None = await with_retries(retry, lambda attempt: self._attempt(body, attempt))
        except SbiCallError:
            resp = None
        if resp is not None and 200 <= resp.status_code < 300:
            self.stats.delivered += 1
            return
        if resp is not None:
            self.stats.last_error = f"HTTP {resp.status_code} from {self.uri}"
            if not retry.retryable(resp.status_code):
                self.stats.rejected += 1
                log.warning("notification rejected: %s", self.stats.last_error, extra=extra)
                return
        self.stats.dropped_undeliverable += 1
        log.warning("notification dropped after %d attempts: %s", self.policy.attempts, self.stats.last_error,
                    extra=extra)

    async def wait_idle(self) -> None:
        """Until everything queued so far has been delivered or dropped."""
        await self._idle.wait()

    async def close(self, drain_timeout_s: float = 0.0) -> None:
        """Stop the sender; with a timeout, first let queued reports go out (e.g. a ONE_TIME report)."""
        if drain_timeout_s > 0 and self._queue:
            try:
                await asyncio.wait_for(self.wait_idle(), drain_timeout_s)
            except TimeoutError:
                log.warning("subscriber did not drain within %.1f s", drain_timeout_s,
                            extra={"subscription_id": self.key})
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.stats.discarded_on_close += len(self._queue)
        self._queue.clear()


class EeNotifier:
    """Nupf_EventExposure_Notify delivery (TS 29.564): the channels of every subscription, and the totals of
    closed ones (so totals only grow)."""

    def __init__(self, client: SbiClient, policy: DeliveryPolicy) -> None:
        self.client = client
        self.policy = policy
        self.channels: dict[str, Channel] = {}
        self.retired = DeliveryStats()

    def open(self, key: str, uri: str, correlation_id: str = "") -> Channel:
        if key in self.channels:
            raise KeyError(f"channel {key!r} already open")
        channel = Channel(key, uri, self.client, self.policy, correlation_id)
        channel.start()
        self.channels[key] = channel
        return channel

    def retarget(self, key: str, uri: str, correlation_id: str) -> None:
        """A PATCH changed the notification URI or correlation ID: later deliveries use the new ones."""
        channel = self.channels[key]
        channel.uri, channel.correlation_id = uri, correlation_id

    def offer(self, key: str, body: dict[str, Any]) -> None:
        self.channels[key].offer(body)

    async def close(self, key: str, drain_timeout_s: float = 0.0) -> None:
        channel = self.channels.pop(key, None)
        if channel is not None:
            await channel.close(drain_timeout_s)
            self.retired.add(channel.stats)

    async def close_all(self) -> None:
        for key in list(self.channels):
            await self.close(key)

    def totals(self) -> DeliveryStats:
        total = DeliveryStats()
        total.add(self.retired)
        for channel in self.channels.values():
            total.add(channel.stats)
        return total
