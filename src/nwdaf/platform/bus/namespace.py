"""A bus view that prefixes every topic and consumer group, so deployments can share one Kafka cluster.

Two NWDAF deployments (or a demo run and a test run) on the same brokers would otherwise read each other's
records: topic names are fixed in :mod:`nwdaf.platform.bus.topics` and a new consumer group starts from the earliest
retained message. With ``bus.namespace: "lab-a."`` every topic becomes ``lab-a.nwdaf.upf.ee-notifications`` and
every group ``lab-a.<group>``; handlers still see the unprefixed topic names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from nwdaf.platform.bus.protocol import EventBus, Handler, Message, SubscribeOptions, Subscription


class NamespacedBus:
    """Delegates to ``inner`` with ``prefix`` prepended to topic and group names."""

    def __init__(self, inner: EventBus, prefix: str) -> None:
        if not prefix:
            raise ValueError("a namespace prefix must not be empty")
        self.inner = inner
        self.prefix = prefix

    async def start(self) -> None:
        await self.inner.start()

    async def close(self) -> None:
        await self.inner.close()

    async def create_topics(self, topics: Sequence[str], partitions: int | None = None) -> None:
        await self.inner.create_topics([self.prefix + t for t in topics], partitions)

    async def publish(
        self, topic: str, value: bytes, key: bytes | None = None, headers: Mapping[str, bytes] | None = None
    ) -> None:
        await self.inner.publish(self.prefix + topic, value, key, headers)

    async def flush(self) -> None:
        await self.inner.flush()

    async def subscribe(
        self, topics: Sequence[str], group: str, handler: Handler, options: SubscribeOptions | None = None
    ) -> Subscription:
        cut = len(self.prefix)

        async def unprefixed(msg: Message) -> None:
            await handler(replace(msg, topic=msg.topic[cut:]) if msg.topic.startswith(self.prefix) else msg)

        return await self.inner.subscribe([self.prefix + t for t in topics], self.prefix + group, unprefixed, options)
