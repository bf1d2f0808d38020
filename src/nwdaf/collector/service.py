"""Collector wiring: the Data Receiver router and the UPF event exposure subscriptions it feeds."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from fastapi import APIRouter

from nwdaf.collector.api.data_receiver import API_ROOT, create_router
from nwdaf.collector.config import CollectorSettings
from nwdaf.collector.consumer.nupf_event_exposure import (
    UpfEeSubscription,
    UpfSubscriptionError,
    build_subscription,
    nf_instance_id,
)
from nwdaf.collector.processor import DataReceiver
from nwdaf.events import NfNotification
from nwdaf.runtime import ServiceContext

log = logging.getLogger("nwdaf.collector")


@dataclass
class CollectorService:
    """NWDAF data collection service."""

    receiver: DataReceiver
    ctx: ServiceContext
    settings: CollectorSettings
    name: str = "collector"
    subscriptions: list[UpfEeSubscription] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def routers(self) -> list[tuple[str, APIRouter]]:
        return [(API_ROOT, create_router(self.receiver))]

    def _on_notification(self, note: NfNotification) -> None:
        corr = note.body.get("correlationId")
        for sub in self.subscriptions:
            if sub.correlation_id == corr:
                sub.seen()

    async def start(self) -> None:
        self.receiver.listeners.append(self._on_notification)
        notify_uri = self.ctx.base_urls["nwdaf"] + API_ROOT + "/notifications/upf-ee"
        nf_id = nf_instance_id(self.ctx.settings.instance_id)
        for i, target in enumerate(self.settings.upf_ee):
            root = target.api_root or self.ctx.base_urls.get("upf", "")
            if not root:
                raise UpfSubscriptionError(f"collector.upf_ee[{i}].api_root is empty and no UPF runs in this process")
            request = build_subscription(target, notify_uri, f"{self.ctx.settings.instance_id}-upf-{i}", nf_id)
            sub = UpfEeSubscription(self.ctx.client, root.rstrip("/"), request, self.settings.resubscribe_after_periods)
            self.subscriptions.append(sub)
            try:
                await sub.create()
            except UpfSubscriptionError as exc:
                log.warning("%s; the watchdog keeps trying", exc)
            self._tasks.append(asyncio.get_running_loop().create_task(sub.keep_alive(), name=f"upf-ee-{i}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for sub in self.subscriptions:
            await sub.delete()


def build_collector(ctx: ServiceContext) -> CollectorService:
    return CollectorService(DataReceiver(ctx.bus, ctx.validator), ctx, ctx.settings.collector)



