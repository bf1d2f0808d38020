"""One Kafka consumer-group member of :class:`nwdaf.platform.bus.kafka.KafkaBus`.

Delivery is at-least-once (see :mod:`nwdaf.platform.bus.protocol`). Offsets are committed synchronously after each
fetched batch was handled, in the consumer's own thread: one broker round trip per batch (up to ``max_batch`` messages),
and when ``stop()`` or a revocation returns, everything handled is durably committed, so a restart or the new owner
of a partition neither loses nor repeats a handled message. A failed handler pauses its partition, seeks back to the
failed offset and lets the same message come again after the backoff; later messages of that partition wait.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from confluent_kafka import TIMESTAMP_NOT_AVAILABLE, Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka import Message as KafkaMessage

from nwdaf.platform.bus.protocol import Handler, Message, SubscribeOptions

log = logging.getLogger("nwdaf.bus.kafka")

T = TypeVar("T")
TP = tuple[str, int]


@dataclass
class _Retry:
    offset: int
    attempts: int
    resume_at: float
    paused: bool = True


@dataclass
class ConsumerStats:
    """Counters of one subscription."""

    delivered: int = 0
    handler_failures: int = 0
    commits: int = 0
    commit_failures: int = 0


def position(msg: KafkaMessage) -> tuple[TP, int]:
    """``((topic, partition), offset)`` of a consumed record."""
    topic, partition, offset = msg.topic(), msg.partition(), msg.offset()
    if topic is None or partition is None or offset is None:
        raise ValueError(f"consumed record without a position: {topic!r}[{partition!r}]@{offset!r}")
    return (topic, partition), offset


def _header_bytes(value: str | bytes | None) -> bytes:
    if value is None:
        return b""
    return value.encode() if isinstance(value, str) else value


def to_message(msg: KafkaMessage) -> Message:
    """Convert a librdkafka record into the backend-neutral :class:`Message`."""
    (topic, partition), offset = position(msg)
    raw = msg.headers() or []
    items = raw.items() if isinstance(raw, dict) else raw
    ts_type, ts = msg.timestamp()
    return Message(
        topic=topic,
        value=msg.value() or b"",
        key=msg.key(),
        headers={name: _header_bytes(value) for name, value in items},
        partition=partition,
        offset=offset,
        timestamp_ms=0 if ts_type == TIMESTAMP_NOT_AVAILABLE else ts,
    )


class KafkaSubscription:
    """A running consumer-group member; ``stop`` commits what was handled and leaves the group."""

    def __init__(
        self,
        config: dict[str, Any],
        topics: tuple[str, ...],
        handler: Handler,
        options: SubscribeOptions,
        *,
        poll_timeout_s: float,
        on_stopped: Callable[[KafkaSubscription], None],
    ) -> None:
        self._config = config
        self.topics = topics
        self._handler = handler
        self._options = options
        self._poll_timeout_s = poll_timeout_s
        self._on_stopped = on_stopped
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"kafka-consumer-{self.group}")
        self._consumer: Consumer | None = None
        self._assigned: set[TP] = set()
        self._pending: dict[TP, int] = {}  # handled but not yet committed: next offset to read
        self._retry: dict[TP, _Retry] = {}
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self.stats = ConsumerStats()
        self.error: BaseException | None = None

    @property
    def group(self) -> str:
        return str(self._config["group.id"])

    @property
    def assignment(self) -> list[TP]:
        """Partitions this member owns now, as ``(topic, partition)``."""
        return sorted(self._assigned)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    async def begin(self) -> None:
        try:
            await self._call(self._open)
        except BaseException:
            self._executor.shutdown(wait=False)
            raise
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"kafka-consumer-{self.group}")

    def _open(self) -> None:
        consumer = Consumer(self._config)
        consumer.subscribe(
            list(self.topics), on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost
        )
        self._consumer = consumer

    async def stop(self) -> None:
        self._stopping = True
        task = self._task
        if task is not None and task is not asyncio.current_task():
            await task
        self._on_stopped(self)

    # --- the loop (event loop side) -------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            while not self._stopping:
                await self._resume_due()
                batch = await self._call(self._fetch, self._poll_wait())
                await self._handle_batch(batch)
                if self._pending:
                    await self._call(self._commit_pending)
        except Exception as exc:
            self.error = exc
            log.exception("consumer of group %s stopped by an error", self.group)
        finally:
            try:
                await self._call(self._close)
            except Exception:
                log.exception("closing the consumer of group %s failed", self.group)
            self._executor.shutdown(wait=False)

    def _poll_wait(self) -> float:
        due = [r.resume_at for r in self._retry.values() if r.paused]
        if not due:
            return self._poll_timeout_s
        return max(0.0, min(self._poll_timeout_s, min(due) - time.monotonic()))

    async def _handle_batch(self, batch: list[KafkaMessage]) -> None:
        for raw in batch:
            if self._stopping:
                return
            err = raw.error()
            if err is not None:
                self._on_error(err)
                continue
            tp, offset = position(raw)
            retry = self._retry.get(tp)
            if tp not in self._assigned or (retry is not None and offset != retry.offset):
                continue  # revoked meanwhile, or fetched past a failed message: it comes again after the seek
            if await self._handle(to_message(raw)):
                self._pending[tp] = offset + 1
                self._retry.pop(tp, None)
            else:
                await self._call(self._rewind, tp, offset)

    async def _handle(self, msg: Message) -> bool:
        try:
            await self._handler(msg)
        except Exception:
            self.stats.handler_failures += 1
            log.exception(
                "handler of group %s failed for %s[%d]@%d; will redeliver",
                self.group,
                msg.topic,
                msg.partition,
                msg.offset,
            )
            return False
        self.stats.delivered += 1
        return True

    def _on_error(self, err: KafkaError) -> None:
        if err.fatal():
            raise KafkaException(err)
        log.warning("consumer of group %s: %s", self.group, err.str())

    async def _resume_due(self) -> None:
        now = time.monotonic()
        due = [tp for tp, r in self._retry.items() if r.paused and r.resume_at <= now]
        if due:
            await self._call(self._resume, due)

    # --- consumer thread side ---------------------------------------------------------------------------------

    def _fetch(self, timeout: float) -> list[KafkaMessage]:
        consumer = self._require()
        # poll returns as soon as one record is there; consume(timeout=0) then takes what is already buffered.
        first = consumer.poll(timeout)
        if first is None:
            return []
        rest = consumer.consume(self._options.max_batch - 1, 0) if self._options.max_batch > 1 else []
        return [first, *rest]

    def _rewind(self, tp: TP, offset: int) -> None:
        previous = self._retry.get(tp)
        attempts = previous.attempts + 1 if previous else 1
        backoff = min(self._options.retry_backoff_s * 2 ** (attempts - 1), self._options.max_retry_backoff_s)
        consumer = self._require()
        consumer.pause([TopicPartition(*tp)])
        consumer.seek(TopicPartition(tp[0], tp[1], offset))
        self._retry[tp] = _Retry(offset, attempts, time.monotonic() + backoff)

    def _resume(self, due: list[TP]) -> None:
        self._require().resume([TopicPartition(*tp) for tp in due])
        for tp in due:
            self._retry[tp].paused = False

    def _commit_pending(self, only: set[TP] | None = None) -> None:
        offsets = {tp: off for tp, off in self._pending.items() if only is None or tp in only}
        if not offsets:
            return
        try:
            self._require().commit(
                offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()], asynchronous=False
            )
        except KafkaException as exc:
            # Not fatal: the records will be delivered again (at-least-once); the next commit retries.
            self.stats.commit_failures += 1
            log.warning("commit of group %s failed: %s", self.group, exc.args[0].str())
            return
        self.stats.commits += 1
        for tp, off in offsets.items():
            if self._pending.get(tp) == off:
                del self._pending[tp]

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Rebound, never mutated in place: `assignment` reads it from the event loop thread meanwhile.
        self._assigned = self._assigned | {(p.topic, p.partition) for p in partitions}
        log.info("group %s assigned %s", self.group, sorted((p.topic, p.partition) for p in partitions))

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        revoked = {(p.topic, p.partition) for p in partitions}
        self._commit_pending(revoked)  # the next owner starts after what this member handled
        paused = [TopicPartition(*tp) for tp in revoked if tp in self._retry and self._retry[tp].paused]
        if paused:
            consumer.resume(paused)
        self._forget(revoked)
        log.info("group %s revoked %s", self.group, sorted(revoked))

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        lost = {(p.topic, p.partition) for p in partitions}
        log.warning("group %s lost %s (not committed; they will be redelivered)", self.group, sorted(lost))
        self._forget(lost)

    def _forget(self, tps: set[TP]) -> None:
        self._assigned = self._assigned - tps
        for tp in tps:
            self._pending.pop(tp, None)
            self._retry.pop(tp, None)

    def _close(self) -> None:
        if self._consumer is None:
            return
        self._commit_pending()
        self._consumer.close()  # leaves the group now instead of after session.timeout.ms
        self._consumer = None
        self._assigned = set()

    def _require(self) -> Consumer:
        if self._consumer is None:
            raise RuntimeError(f"consumer of group {self.group} is closed")
        return self._consumer
