"""Collector wiring: the Data Receiver router and the UPF/SMF/AMF event exposure subscriptions it feeds."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from fastapi import APIRouter

from nwdaf.nf.collector.api.data_receiver import API_ROOT, create_router
from nwdaf.nf.collector.config import CollectorSettings
from nwdaf.nf.collector.consumer.ee_subscription import EeSubscription, EeSubscriptionError, nf_instance_id
from nwdaf.nf.collector.consumer.namf_event_exposure import AmfEeSubscription, build_amf_subscription
from nwdaf.nf.collector.consumer.nsmf_event_exposure import SmfEeSubscription, build_smf_subscription
from nwdaf.nf.collector.consumer.nupf_event_exposure import UpfEeSubscription, UpfSubscriptionError, build_subscription
from nwdaf.nf.collector.processor import DataReceiver
from nwdaf.platform.events import NfNotification
from nwdaf.platform.nf import ServiceContext

log = logging.getLogger("nwdaf.collector")

CORRELATION_FIELDS = ("correlationId", "notifId", "notifyCorrelationId")
"""Where TS 29.564 NotificationData, TS 29.508 and TS 29.518 notifications carry the correlation id."""


@dataclass
class CollectorService:
    """NWDAF data collection service."""

    receiver: DataReceiver
    ctx: ServiceContext
    settings: CollectorSettings
    name: str = "collector"
    subscriptions: list[EeSubscription] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def routers(self) -> list[tuple[str, APIRouter]]:
        return [(API_ROOT, create_router(self.receiver))]

    def _on_notification(self, note: NfNotification) -> None:
        corr = next((note.body[k] for k in CORRELATION_FIELDS if k in note.body), None)
        for sub in self.subscriptions:
            if sub.correlation_id == corr:
                sub.seen()

    def _notify_uri(self, feed: str) -> str:
        return f"{self.ctx.base_urls['nwdaf']}{API_ROOT}/notifications/{feed}"

    def build_subscriptions(self) -> list[EeSubscription]:
        """One subscription per configured target: UPFs, then SMFs, then AMFs."""
        s, client, name = self.settings, self.ctx.client, self.ctx.settings.instance_id
        nf_id = nf_instance_id(name)
        subs: list[EeSubscription] = []
        for i, upf in enumerate(s.upf_ee):
            root = upf.api_root or self.ctx.base_urls.get("upf", "")
            if not root:
                raise UpfSubscriptionError(f"collector.upf_ee[{i}].api_root is empty and no UPF runs in this process")
            request = build_subscription(upf, self._notify_uri("upf-ee"), f"{name}-upf-{i}", nf_id)
            subs.append(UpfEeSubscription(client, root.rstrip("/"), request, s.resubscribe_after_periods))
        for i, smf in enumerate(s.smf_ee):
            smf_request = build_smf_subscription(smf, self._notify_uri("smf-ee"), f"{name}-smf-{i}", nf_id)
            subs.append(SmfEeSubscription(client, smf.api_root.rstrip("/"), smf_request, smf.check_interval_s))
        for i, amf in enumerate(s.amf_ee):
            amf_request = build_amf_subscription(amf, self._notify_uri("amf-ee"), f"{name}-amf-{i}", nf_id)
            subs.append(AmfEeSubscription(client, amf.api_root.rstrip("/"), amf_request, amf.check_interval_s,
                                          amf.expiry_s))
        return subs

    async def start(self) -> None:
        self.receiver.listeners.append(self._on_notification)
        loop = asyncio.get_running_loop()
        for sub in self.build_subscriptions():
            self.subscriptions.append(sub)
            try:
                await sub.create()
            except EeSubscriptionError as exc:
                log.warning("%s; the watchdog keeps trying", exc)
            name = f"{sub.peer.lower()}-ee-{sub.correlation_id}"
            self._tasks.append(loop.create_task(sub.keep_alive(), name=name))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        for sub in self.subscriptions:
            await sub.delete()


def build_collector(ctx: ServiceContext, settings: CollectorSettings) -> CollectorService:
    return CollectorService(DataReceiver(ctx.bus, ctx.validator), ctx, settings)
