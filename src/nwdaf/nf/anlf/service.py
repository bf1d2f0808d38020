"""Analytics exposure wiring: Nnwdaf_EventsSubscription + Nnwdaf_AnalyticsInfo on the NWDAF's SBI, fed by the
analytics engines' results on the bus."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from fastapi import APIRouter

from nwdaf.nf.anlf.api import analytics_info, events_subscription
from nwdaf.nf.anlf.config import AnlfSettings
from nwdaf.nf.anlf.metrics import AnlfMetrics
from nwdaf.nf.anlf.processor import EventsSubscriptionProcessor
from nwdaf.nf.anlf.state import FindingsState, Watermark
from nwdaf.nf.anlf.store import LAYOUT
from nwdaf.platform.bus import EnvelopeError, EventBus, Message, Subscription, decode, topics
from nwdaf.platform.events import ANALYTICS_RESULT, AnalyticsResult
from nwdaf.platform.nf import ServiceContext
from nwdaf.platform.store import SubscriptionStore

log = logging.getLogger("nwdaf.anlf")

@dataclass
class AnlfService:
    """NWDAF analytics exposure (AnLF northbound interface)."""

    processor: EventsSubscriptionProcessor
    bus: EventBus
    group: str
    """Consumer group: one per NWDAF instance, so every instance sees every result."""
    name: str = "anlf"
    _subscription: Subscription | None = field(default=None, init=False)

    def routers(self) -> list[tuple[str, APIRouter]]:
        p = self.processor
        return [
            (events_subscription.API_ROOT, events_subscription.create_router(p)),
            (analytics_info.API_ROOT, analytics_info.create_router(p.findings, p.validator)),
        ]

    async def start(self) -> None:
        await self.processor.start()
        self._subscription = await self.bus.subscribe([topics.ANALYTICS_RESULTS], self.group, self.handle)

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.stop()
            self._subscription = None
        await self.processor.stop()

    async def handle(self, message: Message) -> None:
        """Bus handler: a malformed message is logged and counted, never retried forever."""
        try:
            envelope = decode(message.value, AnalyticsResult, type_=ANALYTICS_RESULT)
        except EnvelopeError as exc:
            self.processor.metrics.results.labels("invalid").inc()
            log.warning("skipping undecodable message %s[%d]@%d: %s", message.topic, message.partition,
                        message.offset, exc)
            return
        self.processor.on_result(envelope.payload)


def build_anlf(ctx: ServiceContext, settings: AnlfSettings) -> AnlfService:
    """Runtime builder, configured by the ``anlf`` section."""
    path = None if settings.store_file == ":memory:" else ctx.settings.data_dir / settings.store_file
    watermark = Watermark()
    findings = FindingsState(timedelta(seconds=settings.finding_ttl_s), settings.max_findings, watermark.now_utc)
    store = SubscriptionStore(path, LAYOUT)
    processor = EventsSubscriptionProcessor(settings, findings, store, ctx.client, ctx.validator, AnlfMetrics(),
                                            watermark=watermark)
    return AnlfService(processor, ctx.bus, f"{ctx.settings.instance_id}.anlf")
