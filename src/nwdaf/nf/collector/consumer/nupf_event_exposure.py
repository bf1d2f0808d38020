"""Nupf_EventExposure consumer (TS 29.564 clause 5.2.2): subscribe, unsubscribe, keep subscriptions alive."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, ClassVar

from nwdaf.nf.collector.config import UpfEeTarget
from nwdaf.nf.collector.consumer.ee_subscription import (
    EeSubscription,
    EeSubscriptionError,
    Liveness,
    nf_instance_id,
)
from nwdaf.platform.models.common import to_wire
from nwdaf.platform.models.upf_ee import (
    CreateEventSubscription,
    EventType,
    GranularityOfMeasurement,
    MeasurementType,
    UpfEvent,
    UpfEventMode,
    UpfEventSubscription,
    UpfEventTrigger,
)

__all__ = ["API", "UpfEeSubscription", "UpfSubscriptionError", "build_subscription", "nf_instance_id"]

API = "/nupf-ee/v1/ee-subscriptions"

UpfSubscriptionError = EeSubscriptionError
"""The UPF refused or could not be reached (the shared error, under its earlier name)."""


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


@dataclass
class UpfEeSubscription(EeSubscription):
    """One PERIODIC subscription, re-created when the UPF forgot it (silent for ``silent_periods`` periods).

    Nupf_EventExposure has no read operation, so silence is the only sign of a restarted UPF; the stale
    subscription is deleted first, in case the UPF still holds it.
    """

    request: UpfEventSubscription
    silent_periods: float

    peer: ClassVar[str] = "UPF"
    collection: ClassVar[str] = API

    @property
    def correlation_id(self) -> str:
        return self.request.notifyCorrelationId

    @property
    def period_s(self) -> float:
        return float(self.request.eventReportingMode.repPeriod or 1)

    @property
    def check_interval_s(self) -> float:
        return self.period_s

    def body(self) -> dict[str, Any]:
        return to_wire(CreateEventSubscription(subscription=self.request))

    def overdue(self, now: float) -> bool:
        return now - self.last_notification > self.silent_periods * self.period_s

    async def liveness(self) -> Liveness:
        return Liveness.GONE if self.overdue(time.monotonic()) else Liveness.ALIVE
