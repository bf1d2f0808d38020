"""In-process event bus: the embedded default.

It keeps Kafka's model — partitioned logs, consumer groups with committed offsets, commit after the handler
succeeded — so code written against it behaves the same on Kafka. Retention is bounded per partition; messages
expired before every group read them are counted, never dropped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from nwdaf.platform.bus.protocol import Handler, Message, SubscribeOptions

log = logging.getLogger("nwdaf.bus.memory")


@dataclass
class _Partition:
    log: list[Message] = field(default_factory=list)
    base: int = 0  # offset of log[0]

    @property
    def end(self) -> int:
        return self.base + len(self.log)


@dataclass
class _Group:
    members: list[MemoryConsumer] = field(default_factory=list)
    committed: dict[tuple[str, int], int] = field(default_factory=dict)


@dataclass
class BusStats:
    """Counters a test or the metrics endpoint can read."""

    published: int = 0
    delivered: int = 0
    handler_failures: int = 0
    expired_unread: int = 0


class InMemoryBus:
    """Partitioned in-process log with consumer groups; see :mod:`nwdaf.platform.bus.protocol` for the semantics."""

    def __init__(self, partitions: int = 4, retention_per_partition: int = 1_000_000) -> None:
        self._default_partitions = partitions
        self._retention = retention_per_partition
        self._topics: dict[str, list[_Partition]] = {}
        self._groups: dict[str, _Group] = {}
        self._round_robin = itertools.count()
        self.stats = BusStats()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        for group in list(self._groups.values()):
            for member in list(group.members):
                await member.stop()

    async def create_topics(self, topics: Sequence[str], partitions: int | None = None) -> None:
        for topic in topics:
            self._ensure_topic(topic, partitions)

    def _ensure_topic(self, topic: str, partitions: int | None = None) -> list[_Partition]:
        parts = self._topics.get(topic)
        if parts is None:
            parts = [_Partition() for _ in range(partitions or self._default_partitions)]
            self._topics[topic] = parts
        return parts

    def partition_for(self, topic: str, key: bytes | None) -> int:
        parts = self._ensure_topic(topic)
        if key is None:
            return next(self._round_robin) % len(parts)
        return zlib.crc32(key) % len(parts)

    async def publish(
        self,
        topic: str,
        value: bytes,
        key: bytes | None = None,
        headers: Mapping[str, bytes] | None = None,
    ) -> None:
        pidx = self.partition_for(topic, key)
        part = self._topics[topic][pidx]
        msg = Message(topic, value, key, dict(headers or {}), pidx, part.end, int(time.time() * 1000))
        part.log.append(msg)
        self.stats.published += 1
        self._enforce_retention(topic, pidx, part)
        for group in self._groups.values():
            for member in group.members:
                if topic in member.topics:
                    member.wakeup.set()

    def _enforce_retention(self, topic: str, pidx: int, part: _Partition) -> None:
        excess = len(part.log) - self._retention
        if excess <= 0:
            return
        new_base = part.base + excess
        for group in self._groups.values():
            pos = group.committed.get((topic, pidx), 0)
            if pos < new_base:
                self.stats.expired_unread += new_base - pos
                log.warning("retention expired %d unread messages of %s[%d]", new_base - pos, topic, pidx)
        del part.log[:excess]
        part.base = new_base

    async def flush(self) -> None:
        return None

    async def subscribe(
        self,
        topics: Sequence[str],
        group: str,
        handler: Handler,
        options: SubscribeOptions | None = None,
    ) -> MemoryConsumer:
        for topic in topics:
            self._ensure_topic(topic)
        grp = self._groups.setdefault(group, _Group())
        consumer = MemoryConsumer(self, grp, group, tuple(topics), handler, options or SubscribeOptions())
        grp.members.append(consumer)
        self._rebalance(grp)
        consumer.begin()
        return consumer

    def _rebalance(self, grp: _Group) -> None:
        for member in grp.members:
            member.assignment = []
        topics = sorted({t for m in grp.members for t in m.topics})
        for topic in topics:
            members = [m for m in grp.members if topic in m.topics]
            for pidx in range(len(self._topics[topic])):
                members[pidx % len(members)].assignment.append((topic, pidx))
        for member in grp.members:
            member.wakeup.set()

    def _leave(self, grp: _Group, consumer: MemoryConsumer) -> None:
        if consumer in grp.members:
            grp.members.remove(consumer)
            if grp.members:
                self._rebalance(grp)

    def _fetch(self, grp: _Group, topic: str, pidx: int, limit: int) -> list[Message]:
        part = self._topics[topic][pidx]
        pos = max(grp.committed.get((topic, pidx), 0), part.base)
        start = pos - part.base
        return part.log[start : start + limit]


class MemoryConsumer:
    """One group member: handles its assigned partitions in order, committing after each success."""

    def __init__(
        self,
        bus: InMemoryBus,
        grp: _Group,
        group: str,
        topics: tuple[str, ...],
        handler: Handler,
        options: SubscribeOptions,
    ) -> None:
        self._bus = bus
        self._grp = grp
        self._group = group
        self.topics = topics
        self._handler = handler
        self._options = options
        self.assignment: list[tuple[str, int]] = []
        self.wakeup = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    @property
    def group(self) -> str:
        return self._group

    def begin(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"bus-consumer-{self._group}")

    async def stop(self) -> None:
        self._stopping = True
        self.wakeup.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._bus._leave(self._grp, self)

    async def _run(self) -> None:
        while not self._stopping:
            self.wakeup.clear()
            progressed = False
            for topic, pidx in list(self.assignment):
                if self._stopping:
                    return
                progressed |= await self._drain(topic, pidx)
            if not progressed:
                await self.wakeup.wait()

    async def _drain(self, topic: str, pidx: int) -> bool:
        batch = self._bus._fetch(self._grp, topic, pidx, self._options.max_batch)
        for msg in batch:
            if self._stopping or (topic, pidx) not in self.assignment:
                return True
            if not await self._handle_until_success(msg):
                return True
            self._bus.stats.delivered += 1
            if (topic, pidx) not in self.assignment:
                return True  # revoked while the handler ran: the new owner's position must not move back
            committed = self._grp.committed
            committed[(topic, pidx)] = max(committed.get((topic, pidx), 0), msg.offset + 1)
        if batch:
            await asyncio.sleep(0)  # let publishers and other consumers run between batches
        return bool(batch)

    async def _handle_until_success(self, msg: Message) -> bool:
        backoff = self._options.retry_backoff_s
        while not self._stopping:
            try:
                await self._handler(msg)
                return True
            except Exception:
                self._bus.stats.handler_failures += 1
                log.exception("handler failed for %s[%d]@%d; will redeliver", msg.topic, msg.partition, msg.offset)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._options.max_retry_backoff_s)
        return False
