"""Nsmf_EventExposure consumer (TS 29.508 clause 5.2.2): subscribe, unsubscribe, re-subscribe what the SMF lost.

The request models cover the attributes this consumer sends (TS 29.508 clause 6.1.6.2.2 ``NsmfEventExposure``,
6.1.6.2.4 ``EventSubscription``); notifications are validated against the YAML by the Data Receiver.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar
from uuid import UUID

from nwdaf.nf.collector.config import SmfEeTarget
from nwdaf.nf.collector.consumer.ee_subscription import EeSubscription, Liveness
from nwdaf.platform.models.common import NfInstanceId, NonEmptyList, NsmfNotificationMethod, Uri, WireModel, to_wire

API = "/nsmf-event-exposure/v1/subscriptions"


class SmfEvent(StrEnum):
    """TS 29.508 clause 6.1.6.3.3 ``SmfEvent`` (the values this consumer may subscribe to)."""

    PDU_SES_EST = "PDU_SES_EST"
    PDU_SES_REL = "PDU_SES_REL"
    UE_IP_CH = "UE_IP_CH"
    QFI_ALLOC = "QFI_ALLOC"
    AC_TY_CH = "AC_TY_CH"
    RAT_TY_CH = "RAT_TY_CH"
    PLMN_CH = "PLMN_CH"
    UP_PATH_CH = "UP_PATH_CH"
    COMM_FAIL = "COMM_FAIL"


class SmfEventSubscription(WireModel):
    """TS 29.508 ``EventSubscription``: one subscribed event."""

    event: SmfEvent


class NsmfEventExposure(WireModel):
    """TS 29.508 ``NsmfEventExposure``: the subscription resource (create request body)."""

    notifId: str
    notifUri: Uri
    eventSubs: NonEmptyList[SmfEventSubscription]
    anyUeInd: bool | None = None
    nfId: NfInstanceId | None = None
    ImmeRep: bool | None = None
    notifMethod: NsmfNotificationMethod | None = None


def build_smf_subscription(target: SmfEeTarget, notify_uri: str, correlation_id: str, nf_id: str) -> NsmfEventExposure:
    """An any-UE subscription reporting each event when it happens."""
    return NsmfEventExposure(
        notifId=correlation_id, notifUri=notify_uri, anyUeInd=True, nfId=UUID(nf_id),
        eventSubs=[SmfEventSubscription(event=SmfEvent(e)) for e in target.events],
        ImmeRep=target.immediate_report or None, notifMethod=NsmfNotificationMethod.ON_EVENT_DETECTION,
    )


@dataclass
class SmfEeSubscription(EeSubscription):
    """One subscription, read back every ``interval_s``; re-created when the SMF answers 404."""

    request: NsmfEventExposure
    interval_s: float

    peer: ClassVar[str] = "SMF"
    collection: ClassVar[str] = API

    @property
    def correlation_id(self) -> str:
        return self.request.notifId

    @property
    def check_interval_s(self) -> float:
        return self.interval_s

    def body(self) -> dict[str, Any]:
        return to_wire(self.request)

    async def liveness(self) -> Liveness:
        # TS 29.508 clause 5.2.2.2 has no modify-to-refresh; GetIndividualSubcription tells whether it exists.
        return await self.probe("GET")
