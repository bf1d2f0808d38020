"""The engine interface: pure evaluation of a feature window, plus a bus adapter that publishes findings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from nwdaf.platform.bus import EventBus, Message, decode, encode, topics
from nwdaf.platform.events import ANALYTICS_RESULT, AnalyticsResult, UeFeatureBatch


class AnalyticsEngine(Protocol):
    """An engine scores a closed window as soon as it arrives (streaming, not polling a database)."""

    event: str

    def evaluate(self, batch: UeFeatureBatch) -> Sequence[AnalyticsResult]: ...


async def run_engine_on_message(engine: AnalyticsEngine, bus: EventBus, msg: Message) -> int:
    """Decode one feature batch, evaluate it and publish every finding keyed by SUPI; returns the count."""
    batch = decode(msg.value, UeFeatureBatch).payload
    results = engine.evaluate(batch)
    for result in results:
        raw = encode(result, type_=ANALYTICS_RESULT, source=f"anlf.{engine.event.lower()}")
        await bus.publish(topics.ANALYTICS_RESULTS, raw, key=result.supi.encode())
    return len(results)
