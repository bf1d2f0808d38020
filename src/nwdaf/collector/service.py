"""Collector wiring: the Data Receiver router (and, with the pipeline, the EE subscriptions to UPF/SMF/AMF)."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter

from nwdaf.collector.api.data_receiver import API_ROOT, create_router
from nwdaf.collector.processor import DataReceiver
from nwdaf.runtime import ServiceContext


@dataclass
class CollectorService:
    """NWDAF data collection service."""

    receiver: DataReceiver
    name: str = "collector"

    def routers(self) -> list[tuple[str, APIRouter]]:
        return [(API_ROOT, create_router(self.receiver))]

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def build_collector(ctx: ServiceContext) -> CollectorService:
    return CollectorService(DataReceiver(ctx.bus, ctx.validator))
