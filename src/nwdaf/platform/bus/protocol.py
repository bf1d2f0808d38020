"""The event bus contract shared by every backend.

Semantics (identical for the in-process and the Kafka backend, checked by one shared test suite):

* A topic has partitions; a message with a key always lands in the same partition, so messages with one key are
  delivered in publish order.
* Subscribers name a consumer group. Each message is handled by exactly one live member of each group; the
  partitions of a topic are shared among the group's members.
* Delivery is at-least-once: a consumer commits a message's offset only after its handler returned. A handler that
  raises gets the same message again (after ``retry_backoff_s``), and a consumer that restarts in the same group
  resumes after the last committed offset, so nothing is lost.
* A new group starts from the earliest retained message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Message:
    """One record as a handler sees it."""

    topic: str
    value: bytes
    key: bytes | None = None
    headers: Mapping[str, bytes] = field(default_factory=dict)
    partition: int = 0
    offset: int = 0
    timestamp_ms: int = 0


Handler = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SubscribeOptions:
    """Tuning of one subscription; the defaults suit most consumers."""

    retry_backoff_s: float = 0.05
    max_retry_backoff_s: float = 2.0
    max_batch: int = 500


@runtime_checkable
class Subscription(Protocol):
    """A running consumer; ``stop`` leaves the group after committing what was handled."""

    @property
    def group(self) -> str: ...

    async def stop(self) -> None: ...


@runtime_checkable
class EventBus(Protocol):
    """Publish/subscribe with keys, consumer groups and commit-after-success."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def create_topics(self, topics: Sequence[str], partitions: int | None = None) -> None: ...

    async def publish(
        self,
        topic: str,
        value: bytes,
        key: bytes | None = None,
        headers: Mapping[str, bytes] | None = None,
    ) -> None: ...

    async def flush(self) -> None: ...

    async def subscribe(
        self,
        topics: Sequence[str],
        group: str,
        handler: Handler,
        options: SubscribeOptions | None = None,
    ) -> Subscription: ...
