"""Analytics output types of TS 29.520 (``TS29520_Nnwdaf_EventsSubscription.yaml``) shared by
Nnwdaf_EventsSubscription notifications and Nnwdaf_AnalyticsInfo ``AnalyticsData``: abnormal behaviour
(ABNORMAL_BEHAVIOUR) and UE communication (UE_COMMUNICATION) analytics, plus analytics metadata."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from nwdaf.platform.models.common import (
    ApplicationId,
    DateTime,
    Dnn,
    DurationSec,
    Float,
    FlowDescription,
    Ipv4Addr,
    Ipv6Addr,
    NfInstanceId,
    NonEmptyList,
    PduSessionId,
    SamplingRatio,
    Snssai,
    Supi,
    TimeWindow,
    Uinteger,
    Volume,
    WireModel,
)
from nwdaf.platform.models.flows import EthFlowDescription


class ExceptionId(StrEnum):
    """Kinds of abnormal behaviour an NWDAF can detect (TS 23.288 clause 6.7.5.1)."""

    UNEXPECTED_UE_LOCATION = "UNEXPECTED_UE_LOCATION"
    UNEXPECTED_LONG_LIVE_FLOW = "UNEXPECTED_LONG_LIVE_FLOW"
    UNEXPECTED_LARGE_RATE_FLOW = "UNEXPECTED_LARGE_RATE_FLOW"
    UNEXPECTED_WAKEUP = "UNEXPECTED_WAKEUP"
    SUSPICION_OF_DDOS_ATTACK = "SUSPICION_OF_DDOS_ATTACK"
    WRONG_DESTINATION_ADDRESS = "WRONG_DESTINATION_ADDRESS"
    TOO_FREQUENT_SERVICE_ACCESS = "TOO_FREQUENT_SERVICE_ACCESS"
    UNEXPECTED_RADIO_LINK_FAILURES = "UNEXPECTED_RADIO_LINK_FAILURES"
    PING_PONG_ACROSS_CELLS = "PING_PONG_ACROSS_CELLS"


class ExceptionTrend(StrEnum):
    """Trend of an exception level. ``UNKNOW`` is spelled so in TS 29.520 and on the wire."""

    UP = "UP"
    DOWN = "DOWN"
    UNKNOW = "UNKNOW"
    STABLE = "STABLE"


class Accuracy(StrEnum):
    """Preferred (or reached) accuracy level of analytics."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    HIGHEST = "HIGHEST"


class DatasetStatisticalProperty(StrEnum):
    """Statistical property the data used for analytics must have."""

    UNIFORM_DIST_DATA = "UNIFORM_DIST_DATA"
    NO_OUTLIERS = "NO_OUTLIERS"


class OutputStrategy(StrEnum):
    """BINARY: report only when the requested accuracy is reached; GRADIENT: report every period."""

    BINARY = "BINARY"
    GRADIENT = "GRADIENT"


class AnalyticsException(WireModel):
    """TS 29.520 ``Exception`` (renamed in Python: ``Exception`` is a builtin). Used both as a requirement in a
    subscription (``excepRequs``, with ``excepLevel`` as a threshold) and as a result (``AbnormalBehaviour.excep``)."""

    excepId: ExceptionId
    excepLevel: int | None = None
    excepTrend: ExceptionTrend | None = None


class AddressList(WireModel):
    """IP addresses, e.g. the targets of a suspected DDoS attack or wrong destinations."""

    ipv4Addrs: NonEmptyList[Ipv4Addr] | None = None
    ipv6Addrs: NonEmptyList[Ipv6Addr] | None = None


class IpEthFlowDescription(WireModel):
    """Exactly one of an IP packet filter (``ipTrafficFilter``) or an Ethernet flow (``ethTrafficFilter``)."""

    ipTrafficFilter: FlowDescription | None = None
    ethTrafficFilter: EthFlowDescription | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.ipTrafficFilter is None) == (self.ethTrafficFilter is None):
            raise ValueError("IpEthFlowDescription needs exactly one of ipTrafficFilter, ethTrafficFilter")
        return self


class CircumstanceDescription(WireModel):
    """When/how often/how much an exception occurred (``locArea`` is not modelled)."""

    freq: Float | None = None
    tm: DateTime | None = None
    vol: Volume | None = None


class AdditionalMeasurement(WireModel):
    """Evidence attached to an abnormal behaviour (``unexpLoc`` is not modelled)."""

    unexpFlowTeps: NonEmptyList[IpEthFlowDescription] | None = None
    unexpWakes: NonEmptyList[DateTime] | None = None
    ddosAttack: AddressList | None = None
    wrgDest: AddressList | None = None
    circums: NonEmptyList[CircumstanceDescription] | None = None


class AbnormalBehaviour(WireModel):
    """One detected abnormal behaviour: which exception, for which UEs, with what confidence."""

    supis: NonEmptyList[Supi] | None = None
    excep: AnalyticsException
    dnn: Dnn | None = None
    snssai: Snssai | None = None
    ratio: SamplingRatio | None = None
    confidence: Uinteger | None = None
    addtMeasInfo: AdditionalMeasurement | None = None


class TrafficCharacterization(WireModel):
    """Traffic of a UE communication; at least one of ``ulVol``/``dlVol``."""

    dnn: Dnn | None = None
    snssai: Snssai | None = None
    appId: ApplicationId | None = None
    fDescs: Annotated[list[IpEthFlowDescription], Field(min_length=1, max_length=2)] | None = None
    ulVol: Volume | None = None
    ulVolVariance: Float | None = None
    dlVol: Volume | None = None
    dlVolVariance: Float | None = None

    @model_validator(mode="after")
    def _has_volume(self) -> Self:
        if self.ulVol is None and self.dlVol is None:
            raise ValueError("TrafficCharacterization needs ulVol or dlVol")
        return self


DayOfWeek = Annotated[int, Field(ge=1, le=7)]  # 1 = Monday ... 7 = Sunday (TS 29.122)


class ScheduledCommunicationTime(WireModel):
    """Recurring communication time (TS 29.122); ``timeOfDay*`` are RFC 3339 partial-time strings."""

    daysOfWeek: Annotated[list[DayOfWeek], Field(min_length=1, max_length=6)] | None = None
    timeOfDayStart: str | None = None
    timeOfDayEnd: str | None = None


class AppListForUeComm(WireModel):
    """An application a UE communicates with."""

    appId: ApplicationId
    startTime: DateTime | None = None
    appDur: DurationSec | None = None
    occurRatio: SamplingRatio | None = None


class SessInactTimerForUeComm(WireModel):
    """Suggested inactivity timer of an N4 session."""

    n4SessId: PduSessionId
    sessInactiveTimer: DurationSec


class UeCommunication(WireModel):
    """UE communication analytics: ``commDur`` and ``trafChar`` are required, and exactly one of ``ts`` (start
    time) or ``recurringTime``."""

    commDur: DurationSec
    commDurVariance: Float | None = None
    perioTime: DurationSec | None = None
    perioTimeVariance: Float | None = None
    ts: DateTime | None = None
    tsVariance: Float | None = None
    recurringTime: ScheduledCommunicationTime | None = None
    trafChar: TrafficCharacterization
    ratio: SamplingRatio | None = None
    perioCommInd: bool | None = None
    confidence: Uinteger | None = None
    anaOfAppList: AppListForUeComm | None = None
    sessInactTimer: SessInactTimerForUeComm | None = None

    @model_validator(mode="after")
    def _one_time_reference(self) -> Self:
        if (self.ts is None) == (self.recurringTime is None):
            raise ValueError("UeCommunication needs exactly one of ts, recurringTime")
        return self


class AnalyticsMetadataInfo(WireModel):
    """How the reported analytics were produced (number of samples, data window, accuracy reached...)."""

    numSamples: Uinteger | None = None
    dataWindow: TimeWindow | None = None
    dataStatProps: NonEmptyList[DatasetStatisticalProperty] | None = None
    strategy: OutputStrategy | None = None
    accuracy: Accuracy | None = None


class AnalyticsMetadataIndication(WireModel):
    """Analytics metadata a consumer asks the NWDAF to apply when generating analytics."""

    dataWindow: TimeWindow | None = None
    dataStatProps: NonEmptyList[DatasetStatisticalProperty] | None = None
    strategy: OutputStrategy | None = None
    aggrNwdafIds: NonEmptyList[NfInstanceId] | None = None
