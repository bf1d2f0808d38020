"""The engine interface: pure evaluation of a feature window, plus a bus adapter that publishes findings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from pydantic import ValidationError

from nwdaf.platform.bus import EventBus, Message, decode, encode, topics
from nwdaf.platform.events import ANALYTICS_RESULT, AnalyticsResult, UeFeatureBatch
from nwdaf.platform.models.common import Snssai


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


def pdu_session(row: Mapping[str, Any]) -> dict[str, Any]:
    """``snssai`` (wire form) and ``dnn`` of the UE's PDU session, from its feature row (the processor carries them
    as ``snssai`` key and ``dnn``): TS 29.520 ``AbnormalBehaviour`` and ``TrafficCharacterization`` report them,
    and subscriptions filter on them (``snssaia``, ``dnns``). A key that is not an S-NSSAI is left out."""
    key, dnn = row.get("snssai"), row.get("dnn")
    snssai = None
    if isinstance(key, str) and key:
        try:
            snssai = Snssai.from_key(key).model_dump(exclude_none=True)
        except (ValueError, ValidationError):
            snssai = None
    return {"snssai": snssai, "dnn": dnn if isinstance(dnn, str) and dnn else None}
