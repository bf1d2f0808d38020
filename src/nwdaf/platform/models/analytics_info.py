"""Nnwdaf_AnalyticsInfo wire models (TS 29.520, ``TS29520_Nnwdaf_AnalyticsInfo.yaml``), root
``/nnwdaf-analyticsinfo/v1``.

``GET /analytics?event-id=<EventId>&ana-req=<EventReportingRequirement>&event-filter=<EventFilter>&tgt-ue=
<TargetUeInformation>`` (the last three JSON-encoded) answers 200 :class:`AnalyticsData` or 204.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import model_validator

from nwdaf.platform.models.analytics import AbnormalBehaviour, AnalyticsMetadataInfo, ExceptionId, UeCommunication
from nwdaf.platform.models.common import (
    ApplicationId,
    DateTime,
    Dnn,
    DurationSec,
    NfInstanceId,
    NfSetId,
    NonEmptyList,
    Snssai,
    SupportedFeatures,
    Uinteger,
    WireModel,
)
from nwdaf.platform.models.events_subscription import ExpectedAnalyticsType, UeCommReq


class EventId(StrEnum):
    """Analytics types of Nnwdaf_AnalyticsInfo. Not ``NwdafEvent``: it has LOAD_LEVEL_INFORMATION where
    NwdafEvent has SLICE_LOAD_LEVEL, and lacks NUM_OF_UE, MOV_UE_RATIO, AVR_SPEED, SPEED_THRESHOLD and
    MOV_UE_DIRECTION."""

    LOAD_LEVEL_INFORMATION = "LOAD_LEVEL_INFORMATION"
    NETWORK_PERFORMANCE = "NETWORK_PERFORMANCE"
    NF_LOAD = "NF_LOAD"
    SERVICE_EXPERIENCE = "SERVICE_EXPERIENCE"
    UE_MOBILITY = "UE_MOBILITY"
    UE_COMMUNICATION = "UE_COMMUNICATION"
    QOS_SUSTAINABILITY = "QOS_SUSTAINABILITY"
    ABNORMAL_BEHAVIOUR = "ABNORMAL_BEHAVIOUR"
    USER_DATA_CONGESTION = "USER_DATA_CONGESTION"
    NSI_LOAD_LEVEL = "NSI_LOAD_LEVEL"
    SM_CONGESTION = "SM_CONGESTION"
    DISPERSION = "DISPERSION"
    RED_TRANS_EXP = "RED_TRANS_EXP"
    WLAN_PERFORMANCE = "WLAN_PERFORMANCE"
    DN_PERFORMANCE = "DN_PERFORMANCE"
    PFD_DETERMINATION = "PFD_DETERMINATION"
    PDU_SESSION_TRAFFIC = "PDU_SESSION_TRAFFIC"
    E2E_DATA_VOL_TRANS_TIME = "E2E_DATA_VOL_TRANS_TIME"
    MOVEMENT_BEHAVIOUR = "MOVEMENT_BEHAVIOUR"
    LOC_ACCURACY = "LOC_ACCURACY"
    RELATIVE_PROXIMITY = "RELATIVE_PROXIMITY"


class EventFilter(WireModel):
    """Analytics filter of an AnalyticsInfo request, also the ``mLEventFilter`` of an ML model subscription.
    ``anySlice`` and ``snssais`` are mutually exclusive."""

    anySlice: bool | None = None
    snssais: NonEmptyList[Snssai] | None = None
    appIds: NonEmptyList[ApplicationId] | None = None
    dnns: NonEmptyList[Dnn] | None = None
    temporalGranSize: DurationSec | None = None
    maxTopAppUlNbr: Uinteger | None = None
    maxTopAppDlNbr: Uinteger | None = None
    nfInstanceIds: NonEmptyList[NfInstanceId] | None = None
    nfSetIds: NonEmptyList[NfSetId] | None = None
    excepIds: NonEmptyList[ExceptionId] | None = None
    exptAnaType: ExpectedAnalyticsType | None = None
    ueCommReqs: NonEmptyList[UeCommReq] | None = None
    useCaseCxt: str | None = None

    @model_validator(mode="after")
    def _slice_choice(self) -> Self:
        if self.anySlice is not None and self.snssais is not None:
            raise ValueError("anySlice and snssais are mutually exclusive")
        return self


class AnalyticsData(WireModel):
    """200 body of ``GET /analytics``: the analytics for the requested ``EventId``."""

    start: DateTime | None = None
    expiry: DateTime | None = None
    timeStampGen: DateTime | None = None
    anaMetaInfo: AnalyticsMetadataInfo | None = None
    ueComms: NonEmptyList[UeCommunication] | None = None
    abnorBehavrs: NonEmptyList[AbnormalBehaviour] | None = None
    suppFeat: SupportedFeatures | None = None
