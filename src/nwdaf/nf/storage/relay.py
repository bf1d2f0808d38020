"""The Data Relay's live side: fan analytics results from the bus out to stream clients.

The procedures over it (and over the stored records) are in :mod:`nwdaf.nf.storage.processor`; only
:mod:`.api.data_relay` knows HTTP.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from nwdaf.nf.storage.config import RelaySettings
from nwdaf.nf.storage.normalise import analytics_row
from nwdaf.platform.bus import EnvelopeError, EventBus, Message, Subscription, decode, topics
from nwdaf.platform.events import ANALYTICS_RESULT, AnalyticsResult

log = logging.getLogger("nwdaf.storage.relay")


@dataclass(frozen=True, slots=True)
class StreamFilter:
    """Which live results a stream client wants (``None`` = any)."""

    supi: str | None = None
    snssai: str | None = None
    event: str | None = None

    def matches(self, row: dict[str, Any]) -> bool:
        return all(want is None or row.get(name) == want
                   for name, want in (("supi", self.supi), ("snssai", self.snssai), ("event", self.event)))


class StreamLaggedError(RuntimeError):
    """A client fell further behind than its queue holds; it is disconnected rather than silently skipping."""


@dataclass(eq=False)
class _Client:
    want: StreamFilter
    queue: asyncio.Queue[tuple[int, dict[str, Any]]]
    lagged: bool = False


@dataclass
class StreamStats:
    """Counters of the analytics-results stream."""

    delivered: int = 0
    skipped_history: int = 0
    undecodable: int = 0
    lagged_clients: int = 0


class AnalyticsStream:
    """Subscribes to ``ANALYTICS_RESULTS`` in its own consumer group and fans each result out to the clients.

    Only results published after :meth:`start` are streamed (history is what the REST resources are for).
    """

    def __init__(self, bus: EventBus, settings: RelaySettings | None = None, *, instance_id: str = "nwdaf") -> None:
        self._bus = bus
        self.settings = settings or RelaySettings()
        # A group of its own per process: every relay instance must see every result.
        self.group = f"{self.settings.group_prefix}-{instance_id}-{uuid.uuid4().hex[:8]}"
        self._clients: list[_Client] = []
        self._seq = itertools.count(1)
        self._since_ms = 0
        self._subscription: Subscription | None = None
        self.stats = StreamStats()

    async def start(self) -> None:
        self._since_ms = int(time.time() * 1000)
        self._subscription = await self._bus.subscribe([topics.ANALYTICS_RESULTS], self.group, self.on_message)

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.stop()
            self._subscription = None

    async def on_message(self, msg: Message) -> None:
        if msg.timestamp_ms and msg.timestamp_ms < self._since_ms:
            self.stats.skipped_history += 1
            return
        try:
            row = analytics_row(decode(msg.value, AnalyticsResult, type_=ANALYTICS_RESULT).payload)
        except (EnvelopeError, ValidationError) as exc:
            self.stats.undecodable += 1
            log.error("cannot stream %s[%d]@%d: %s", msg.topic, msg.partition, msg.offset, str(exc)[:500])
            return
        self.publish(row)

    def publish(self, row: dict[str, Any]) -> None:
        """Hand ``row`` to every matching client (never blocks: a full queue disconnects that client)."""
        seq = next(self._seq)
        for client in self._clients:
            if client.lagged or not client.want.matches(row):
                continue
            try:
                client.queue.put_nowait((seq, row))
                self.stats.delivered += 1
            except asyncio.QueueFull:
                client.lagged = True
                self.stats.lagged_clients += 1

    @property
    def client_count(self) -> int:
        return len(self._clients)

    async def events(self, want: StreamFilter) -> AsyncIterator[tuple[int, dict[str, Any]] | None]:
        """Yield ``(sequence, row)`` per matching result, ``None`` after ``keepalive_s`` of silence; raises
        :class:`StreamLaggedError` when the client could not keep up."""
        client = _Client(want, asyncio.Queue(self.settings.client_queue))
        self._clients.append(client)
        try:
            while True:
                if client.lagged and client.queue.empty():
                    raise StreamLaggedError(f"client fell more than {self.settings.client_queue} results behind")
                try:
                    yield await asyncio.wait_for(client.queue.get(), self.settings.keepalive_s)
                except TimeoutError:
                    yield None
        finally:
            self._clients.remove(client)
