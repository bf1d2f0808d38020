"""Nnwdaf_EventsSubscription wire models (TS 29.520, ``TS29520_Nnwdaf_EventsSubscription.yaml``), root
``/nnwdaf-eventssubscription/v1``.

``POST /subscriptions`` takes and returns :class:`NnwdafEventsSubscription`; notifications are POSTed to its
``notificationURI`` as :class:`NnwdafEventsSubscriptionNotification`. Only the attributes this NWDAF acts on
are modelled (events ABNORMAL_BEHAVIOUR and UE_COMMUNICATION in particular); others are ignored on input.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import model_validator

from nwdaf.platform.models.analytics import (
    AbnormalBehaviour,
    Accuracy,
    AnalyticsException,
    AnalyticsMetadataIndication,
    AnalyticsMetadataInfo,
    UeCommunication,
)
from nwdaf.platform.models.common import (
    ApplicationId,
    BitRate,
    DateTime,
    Dnn,
    DurationSec,
    Gpsi,
    GroupId,
    NfInstanceId,
    NfSetId,
    NonEmptyList,
    ReportingInformation,
    SamplingRatio,
    Snssai,
    Supi,
    SupportedFeatures,
    TimeWindow,
    Uinteger,
    Uri,
    WireModel,
)


class NwdafEvent(StrEnum):
    """Analytics events of Nnwdaf_EventsSubscription (not the same list as AnalyticsInfo's ``EventId``)."""

    SLICE_LOAD_LEVEL = "SLICE_LOAD_LEVEL"
    NETWORK_PERFORMANCE = "NETWORK_PERFORMANCE"
    NF_LOAD = "NF_LOAD"
    SERVICE_EXPERIENCE = "SERVICE_EXPERIENCE"
    UE_MOBILITY = "UE_MOBILITY"
    UE_COMMUNICATION = "UE_COMMUNICATION"
    QOS_SUSTAINABILITY = "QOS_SUSTAINABILITY"
    ABNORMAL_BEHAVIOUR = "ABNORMAL_BEHAVIOUR"
    USER_DATA_CONGESTION = "USER_DATA_CONGESTION"
    NSI_LOAD_LEVEL = "NSI_LOAD_LEVEL"
    DN_PERFORMANCE = "DN_PERFORMANCE"
    DISPERSION = "DISPERSION"
    RED_TRANS_EXP = "RED_TRANS_EXP"
    WLAN_PERFORMANCE = "WLAN_PERFORMANCE"
    SM_CONGESTION = "SM_CONGESTION"
    PFD_DETERMINATION = "PFD_DETERMINATION"
    PDU_SESSION_TRAFFIC = "PDU_SESSION_TRAFFIC"
    E2E_DATA_VOL_TRANS_TIME = "E2E_DATA_VOL_TRANS_TIME"
    MOVEMENT_BEHAVIOUR = "MOVEMENT_BEHAVIOUR"
    NUM_OF_UE = "NUM_OF_UE"
    MOV_UE_RATIO = "MOV_UE_RATIO"
    AVR_SPEED = "AVR_SPEED"
    SPEED_THRESHOLD = "SPEED_THRESHOLD"
    MOV_UE_DIRECTION = "MOV_UE_DIRECTION"
    LOC_ACCURACY = "LOC_ACCURACY"
    RELATIVE_PROXIMITY = "RELATIVE_PROXIMITY"


class NotificationMethod(StrEnum):
    """TS 29.520 notification method: every ``repetitionPeriod`` seconds, or when a threshold is crossed."""

    PERIODIC = "PERIODIC"
    THRESHOLD = "THRESHOLD"


class ExpectedAnalyticsType(StrEnum):
    """Abnormal behaviour analytics category a consumer expects (instead of listing exception ids)."""

    MOBILITY = "MOBILITY"
    COMMUN = "COMMUN"
    MOBILITY_AND_COMMUN = "MOBILITY_AND_COMMUN"


class MatchingDirection(StrEnum):
    """Direction in which a threshold must be crossed."""

    ASCENDING = "ASCENDING"
    DESCENDING = "DESCENDING"
    CROSSED = "CROSSED"


class UeCommOrderCriterion(StrEnum):
    """Order of UE communication analytics in a report."""

    START_TIME = "START_TIME"
    DURATION = "DURATION"


class NwdafFailureCode(StrEnum):
    """Why analytics for an event could not be provided."""

    UNAVAILABLE_DATA = "UNAVAILABLE_DATA"
    BOTH_STAT_PRED_NOT_ALLOWED = "BOTH_STAT_PRED_NOT_ALLOWED"
    PREDICTION_NOT_ALLOWED = "PREDICTION_NOT_ALLOWED"
    UNSATISFIED_REQUESTED_ANALYTICS_TIME = "UNSATISFIED_REQUESTED_ANALYTICS_TIME"
    OTHER = "OTHER"


class TermCause(StrEnum):
    """Why the NWDAF terminates a subscription."""

    USER_CONSENT_REVOKED = "USER_CONSENT_REVOKED"
    NWDAF_OVERLOAD = "NWDAF_OVERLOAD"
    UE_LEFT_AREA = "UE_LEFT_AREA"


class AnalyticsMetadata(StrEnum):
    """Analytics metadata a consumer may ask to receive with the analytics."""

    NUM_OF_SAMPLES = "NUM_OF_SAMPLES"
    DATA_WINDOW = "DATA_WINDOW"
    DATA_STAT_PROPS = "DATA_STAT_PROPS"
    STRATEGY = "STRATEGY"
    ACCURACY = "ACCURACY"


class TargetUeInformation(WireModel):
    """The UEs analytics are about: any UE, or lists of SUPIs, GPSIs or internal group ids."""

    anyUe: bool | None = None
    supis: NonEmptyList[Supi] | None = None
    gpsis: NonEmptyList[Gpsi] | None = None
    intGroupIds: NonEmptyList[GroupId] | None = None


class UeCommReq(WireModel):
    """Ordering of UE communication analytics."""

    orderCriterion: UeCommOrderCriterion | None = None
    orderDirection: MatchingDirection | None = None


class EventReportingRequirement(WireModel):
    """Analytics reporting requirements: accuracy, statistics (past) or prediction (future) window, limits."""

    accuracy: Accuracy | None = None
    accPerSubset: NonEmptyList[Accuracy] | None = None
    startTs: DateTime | None = None
    endTs: DateTime | None = None
    offsetPeriod: int | None = None
    sampRatio: SamplingRatio | None = None
    maxObjectNbr: Uinteger | None = None
    maxSupiNbr: Uinteger | None = None
    timeAnaNeeded: DateTime | None = None
    anaMeta: NonEmptyList[AnalyticsMetadata] | None = None
    anaMetaInd: AnalyticsMetadataIndication | None = None
    histAnaTimePeriod: TimeWindow | None = None

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.startTs is not None and self.endTs is not None and self.endTs < self.startTs:
            raise ValueError(f"endTs {self.endTs} is before startTs {self.startTs}")
        return self


class EventSubscription(WireModel):
    """Subscription to one analytics event with its filters and reporting parameters."""

    event: NwdafEvent
    notificationMethod: NotificationMethod | None = None
    repetitionPeriod: DurationSec | None = None
    matchingDir: MatchingDirection | None = None
    tgtUe: TargetUeInformation | None = None
    anySlice: bool | None = None
    snssaia: NonEmptyList[Snssai] | None = None  # sic: "snssaia" in the YAML
    appIds: NonEmptyList[ApplicationId] | None = None
    dnns: NonEmptyList[Dnn] | None = None
    nfInstanceIds: NonEmptyList[NfInstanceId] | None = None
    nfSetIds: NonEmptyList[NfSetId] | None = None
    ranUeThrouThds: NonEmptyList[BitRate] | None = None
    excepRequs: NonEmptyList[AnalyticsException] | None = None
    exptAnaType: ExpectedAnalyticsType | None = None
    ueCommReqs: NonEmptyList[UeCommReq] | None = None
    extraReportReq: EventReportingRequirement | None = None
    useCaseCxt: str | None = None
    pauseFlg: bool | None = None
    resumeFlg: bool | None = None

    @model_validator(mode="after")
    def _abnormal_behaviour_target(self) -> Self:
        if self.excepRequs is not None and self.exptAnaType is not None:
            raise ValueError("excepRequs and exptAnaType are mutually exclusive")
        # TS 23.288 clause 6.7.5.1: an abnormal behaviour request names either exception ids or an expected
        # analytics type; with neither, the NWDAF would not know what to detect.
        if self.event is NwdafEvent.ABNORMAL_BEHAVIOUR and self.excepRequs is None and self.exptAnaType is None:
            raise ValueError("ABNORMAL_BEHAVIOUR needs excepRequs (list of Exception with excepId) or exptAnaType")
        if self.repetitionPeriod is not None and self.repetitionPeriod < 1:
            raise ValueError(f"repetitionPeriod must be >= 1 second, got {self.repetitionPeriod}")
        if self.pauseFlg and self.resumeFlg:
            raise ValueError("pauseFlg and resumeFlg cannot both be true")
        return self


class FailureEventInfo(WireModel):
    """An event of a subscription the NWDAF could not accept, and why."""

    event: NwdafEvent
    failureCode: NwdafFailureCode


class EventNotification(WireModel):
    """Analytics for one subscribed event (or, with ``failNotifyCode``, why there are none)."""

    event: NwdafEvent
    start: DateTime | None = None
    expiry: DateTime | None = None
    timeStampGen: DateTime | None = None
    failNotifyCode: NwdafFailureCode | None = None
    rvWaitTime: DurationSec | None = None
    anaMetaInfo: AnalyticsMetadataInfo | None = None
    ueComms: NonEmptyList[UeCommunication] | None = None
    abnorBehavrs: NonEmptyList[AbnormalBehaviour] | None = None
    pauseInd: bool | None = None
    resumeInd: bool | None = None


class NnwdafEventsSubscription(WireModel):
    """Body of ``POST /subscriptions`` and of its 201 response (then with ``eventNotifications`` for
    immediate reports and ``failEventReports`` for rejected events)."""

    eventSubscriptions: NonEmptyList[EventSubscription]
    evtReq: ReportingInformation | None = None
    notificationURI: Uri | None = None
    notifCorrId: str | None = None
    supportedFeatures: SupportedFeatures | None = None
    eventNotifications: NonEmptyList[EventNotification] | None = None
    failEventReports: NonEmptyList[FailureEventInfo] | None = None

    @model_validator(mode="after")
    def _periodic_has_period(self) -> Self:
        # A PERIODIC event needs a period: its own repetitionPeriod or the common evtReq.repPeriod (TS 29.520).
        common_period = self.evtReq is not None and self.evtReq.repPeriod is not None
        for index, sub in enumerate(self.eventSubscriptions):
            periodic = sub.notificationMethod is NotificationMethod.PERIODIC
            if periodic and sub.repetitionPeriod is None and not common_period:
                raise ValueError(
                    f"eventSubscriptions[{index}] is PERIODIC but has no repetitionPeriod (and evtReq has no repPeriod)"
                )
        return self


class NnwdafEventsSubscriptionNotification(WireModel):
    """Body POSTed to ``notificationURI``: ``eventNotifications``, or ``resourceUri`` and ``oldSubscriptionId``
    together when a subscription was moved to another NWDAF."""

    eventNotifications: NonEmptyList[EventNotification] | None = None
    subscriptionId: str
    notifCorrId: str | None = None
    oldSubscriptionId: str | None = None
    resourceUri: Uri | None = None
    termCause: TermCause | None = None
    transEvents: NonEmptyList[NwdafEvent] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        relocated = self.resourceUri is not None and self.oldSubscriptionId is not None
        if (self.eventNotifications is not None) == relocated:
            raise ValueError(
                "needs either eventNotifications, or resourceUri together with oldSubscriptionId (not both)"
            )
        return self
