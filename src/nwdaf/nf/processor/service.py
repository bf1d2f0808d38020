"""Processor wiring: consumes raw UPF notifications, publishes flow records and per-UE features."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter

from nwdaf.nf.processor.config import ProcessorSettings
from nwdaf.nf.processor.processor import Processor
from nwdaf.platform.bus import Subscription, topics
from nwdaf.platform.nf import ServiceContext


@dataclass
class ProcessorService:
    """NWDAF data processor (no SBI of its own)."""

    processor: Processor
    name: str = "processor"
    _sub: Subscription | None = field(default=None, init=False)

    def routers(self) -> list[tuple[str, APIRouter]]:
        return []

    async def start(self) -> None:
        self._sub = await self.processor.bus.subscribe(
            [topics.UPF_EE_NOTIFICATIONS], "nwdaf-processor", self.processor.on_message
        )

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.stop()


def build_processor(ctx: ServiceContext, settings: ProcessorSettings) -> ProcessorService:
    return ProcessorService(Processor(ctx.bus, settings))
