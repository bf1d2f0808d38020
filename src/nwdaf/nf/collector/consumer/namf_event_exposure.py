"""Namf_EventExposure consumer (TS 29.518 clause 5.3.2): subscribe, refresh, unsubscribe, re-subscribe when lost.

The subscription carries an ``expiry`` that the consumer keeps pushing forward with a Subscribe Modify
(``AmfUpdateEventOptionItem`` replacing ``/options/expiry``): the AMF drops the subscription by itself once this
NWDAF is gone, and a 404 to the refresh tells the collector the AMF lost it. The request models cover the
attributes this consumer sends (TS 29.518 clause 6.2.6.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar
from uuid import UUID

from nwdaf.nf.collector.config import AmfEeTarget
from nwdaf.nf.collector.consumer.ee_subscription import EeSubscription, Liveness
from nwdaf.platform.models.common import DateTime, NfInstanceId, NonEmptyList, Uri, WireModel, to_wire

API = "/namf-evts/v1/subscriptions"
JSON_PATCH = "application/json-patch+json"


class AmfEventType(StrEnum):
    """TS 29.518 clause 6.2.6.3.3 ``AmfEventType`` (the values this consumer may subscribe to)."""

    LOCATION_REPORT = "LOCATION_REPORT"
    REGISTRATION_STATE_REPORT = "REGISTRATION_STATE_REPORT"
    CONNECTIVITY_STATE_REPORT = "CONNECTIVITY_STATE_REPORT"
    REACHABILITY_REPORT = "REACHABILITY_REPORT"
    ACCESS_TYPE_REPORT = "ACCESS_TYPE_REPORT"
    COMMUNICATION_FAILURE_REPORT = "COMMUNICATION_FAILURE_REPORT"
    LOSS_OF_CONNECTIVITY = "LOSS_OF_CONNECTIVITY"


class AmfEventTrigger(StrEnum):
    """TS 29.518 ``AmfEventTrigger``."""

    ONE_TIME = "ONE_TIME"
    CONTINUOUS = "CONTINUOUS"
    PERIODIC = "PERIODIC"


class AmfEvent(WireModel):
    """TS 29.518 ``AmfEvent``: one subscribed event."""

    type: AmfEventType
    immediateFlag: bool | None = None


class AmfEventMode(WireModel):
    """TS 29.518 ``AmfEventMode``: how reports are generated."""

    trigger: AmfEventTrigger
    expiry: DateTime | None = None


class AmfEventSubscription(WireModel):
    """TS 29.518 ``AmfEventSubscription``."""

    eventList: NonEmptyList[AmfEvent]
    eventNotifyUri: Uri
    notifyCorrelationId: str
    nfId: NfInstanceId
    anyUE: bool | None = None
    options: AmfEventMode | None = None


class AmfCreateEventSubscription(WireModel):
    """TS 29.518 ``AmfCreateEventSubscription``: the create request body."""

    subscription: AmfEventSubscription


class AmfUpdateEventOptionItem(WireModel):
    """TS 29.518 ``AmfUpdateEventOptionItem``: the one JSON Patch operation that replaces the expiry."""

    op: str = "replace"
    path: str = "/options/expiry"
    value: DateTime


def build_amf_subscription(target: AmfEeTarget, notify_uri: str, correlation_id: str,
                           nf_id: str) -> AmfEventSubscription:
    """An any-UE CONTINUOUS subscription (its expiry is set when it is sent)."""
    immediate = target.immediate_report or None
    return AmfEventSubscription(
        eventList=[AmfEvent(type=AmfEventType(e), immediateFlag=immediate) for e in target.events],
        eventNotifyUri=notify_uri, notifyCorrelationId=correlation_id, nfId=UUID(nf_id),
        anyUE=True, options=AmfEventMode(trigger=AmfEventTrigger.CONTINUOUS),
    )


@dataclass
class AmfEeSubscription(EeSubscription):
    """One subscription whose expiry is refreshed every ``interval_s``; re-created when the AMF answers 404."""

    request: AmfEventSubscription
    interval_s: float
    expiry_s: float

    peer: ClassVar[str] = "AMF"
    collection: ClassVar[str] = API

    @property
    def correlation_id(self) -> str:
        return self.request.notifyCorrelationId

    @property
    def check_interval_s(self) -> float:
        return self.interval_s

    def expiry(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.expiry_s)

    def body(self) -> dict[str, Any]:
        options = AmfEventMode(trigger=AmfEventTrigger.CONTINUOUS, expiry=self.expiry())
        subscription = self.request.model_copy(update={"options": options})
        return to_wire(AmfCreateEventSubscription(subscription=subscription))

    def refresh_body(self) -> list[dict[str, Any]]:
        return [to_wire(AmfUpdateEventOptionItem(value=self.expiry()))]

    async def liveness(self) -> Liveness:
        return await self.probe("PATCH", json=self.refresh_body(), headers={"content-type": JSON_PATCH})
