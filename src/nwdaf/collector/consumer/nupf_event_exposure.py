"""Nupf_EventExposure consumer (TS 29.564 clause 5.2.2): subscribe, unsubscribe, keep subscriptions alive."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, field

from nwdaf.collector.config import UpfEeTarget
from nwdaf.models.common import to_wire
from nwdaf.models.upf_ee import (
    CreateEventSubscription,
    EventType,
    GranularityOfMeasurement,
    MeasurementType,
    UpfEvent,
    UpfEventMode,
    UpfEventSubscription,
    UpfEventTrigger,
)
from nwdaf.sbi import SbiCallError, SbiClient

log = logging.getLogger("nwdaf.collector")

API = "/nupf-ee/v1/ee-subscriptions"


def build_subscription(target: UpfEeTarget, notify_uri: str, correlation_id: str, nf_id: str) -> UpfEventSubscription:
    """An any-UE subscription for the target's events (the NWDAF needs every UE for abnormal behaviour)."""
    events = [
        UpfEvent(type=EventType(t), measurementTypes=[MeasurementType(m) for m in target.measurement_types],
                 granularityOfMeasurement=GranularityOfMeasurement(target.granularity))
        for t in target.event_types
    ]
    return UpfEventSubscription(
        eventList=events, eventNotifyUri=notify_uri, notifyCorrelationId=correlation_id, nfId=nf_id,
        eventReportingMode=UpfEventMode(trigger=UpfEventTrigger.PERIODIC, repPeriod=target.rep_period_s), anyUe=True,
    )


class UpfSubscriptionError(RuntimeError):
    """The UPF refused or could not be reached."""


@dataclass
class UpfEeSubscription:
    """One subscription kept alive: re-created when the UPF forgot it (silent for too long)."""

    client: SbiClient
    api_root: str
    request: UpfEventSubscription
    silent_periods: float
    resource_uri: str | None = None
    last_notification: float = field(default_factory=time.monotonic)
    resubscriptions: int = 0

    @property
    def correlation_id(self) -> str:
        return self.request.notifyCorrelationId

    async def create(self) -> str:
        body = to_wire(CreateEventSubscription(subscription=self.request))
        try:
            resp = await self.client.post(self.api_root + API, json=body)
        except SbiCallError as exc:
            raise UpfSubscriptionError(f"UPF at {self.api_root} unreachable: {exc}") from exc
        if resp.status_code != 201 or "location" not in resp.headers:
            raise UpfSubscriptionError(f"UPF at {self.api_root} answered {resp.status_code}: {resp.text[:300]}")
        self.resource_uri = resp.headers["location"]
        self.last_notification = time.monotonic()
        log.info("subscribed to UPF event exposure at %s (%s)", self.api_root, self.resource_uri,
                 extra={"subscription_id": self.resource_uri, "correlation_id": self.correlation_id})
        return self.resource_uri

    async def delete(self) -> None:
        if self.resource_uri is None:
            return
        uri = self.resource_uri if self.resource_uri.startswith("http") else self.api_root + self.resource_uri
        with contextlib.suppress(SbiCallError):
            await self.client.delete(uri, retries=0)
        self.resource_uri = None

    def seen(self) -> None:
        self.last_notification = time.monotonic()

    def overdue(self, now: float) -> bool:
        period = self.request.eventReportingMode.repPeriod or 1
        return now - self.last_notification > self.silent_periods * period

    async def keep_alive(self) -> None:
        """Watchdog loop: re-subscribe (delete + create) whenever the subscription went silent."""
        period = float(self.request.eventReportingMode.repPeriod or 1)
        while True:
            await asyncio.sleep(period)
            if not self.overdue(time.monotonic()):
                continue
            log.warning("no notification from %s for %.0f periods: re-subscribing", self.api_root, self.silent_periods)
            await self.delete()
            try:
                await self.create()
                self.resubscriptions += 1
            except UpfSubscriptionError as exc:
                log.warning("re-subscription failed, will retry: %s", exc)


def nf_instance_id(instance_name: str) -> str:
    """A stable NfInstanceId (UUID, TS 29.571) derived from the configured instance name."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{instance_name}.nwdaf"))
