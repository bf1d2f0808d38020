"""Nupf_EventExposure wire models (TS 29.564, ``TS29564_Nupf_EventExposure.yaml``), root ``/nupf-ee/v1``.

``POST /ee-subscriptions`` takes :class:`CreateEventSubscription` and answers 201 :class:`CreatedEventSubscription`;
``PATCH /ee-subscriptions/{subscriptionId}`` takes a JSON Patch array of
:class:`~nwdaf.platform.models.common.PatchItem`;
reports are POSTed to ``UpfEventSubscription.eventNotifyUri`` as :class:`NotificationData`.
A report is per PDU session (no ``appId``/``flowInfo``), per application (``appId``) or per flow (``flowInfo``),
as the subscription's ``granularityOfMeasurement`` asks.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, Self

from pydantic import model_validator

from nwdaf.platform.models.common import (
    ApplicationId,
    BitRate,
    DateTime,
    Dnn,
    DurationSec,
    Fqdn,
    Gpsi,
    IpAddr,
    Ipv4Addr,
    Ipv6Prefix,
    MacAddr48,
    NfInstanceId,
    NonEmptyList,
    NotificationFlag,
    PacketRate,
    PartitioningCriteria,
    Pei,
    SamplingRatio,
    Snssai,
    Supi,
    SupportedFeatures,
    TrafficVolume,
    Uint32,
    Uint64,
    Uri,
    WireModel,
)
from nwdaf.platform.models.flows import FlowInformation


class EventType(StrEnum):
    """UPF events a consumer can subscribe to."""

    QOS_MONITORING = "QOS_MONITORING"
    USER_DATA_USAGE_MEASURES = "USER_DATA_USAGE_MEASURES"
    USER_DATA_USAGE_TRENDS = "USER_DATA_USAGE_TRENDS"
    TSC_MNGT_INFO = "TSC_MNGT_INFO"


class UpfEventTrigger(StrEnum):
    """Report once, or every ``UpfEventMode.repPeriod`` seconds. (TS 29.571's ``ReportingTrigger`` is an
    unrelated MDT enumeration.)"""

    ONE_TIME = "ONE_TIME"
    PERIODIC = "PERIODIC"


class MeasurementType(StrEnum):
    """What a user data usage report measures."""

    VOLUME_MEASUREMENT = "VOLUME_MEASUREMENT"
    THROUGHPUT_MEASUREMENT = "THROUGHPUT_MEASUREMENT"
    APPLICATION_RELATED_INFO = "APPLICATION_RELATED_INFO"


class GranularityOfMeasurement(StrEnum):
    """Aggregation level of a user data usage report."""

    PER_APPLICATION = "PER_APPLICATION"
    PER_SESSION = "PER_SESSION"
    PER_FLOW = "PER_FLOW"


class DnProtocol(StrEnum):
    """Where a domain name was learnt from (DNS query name or a TLS field)."""

    DNS_QNAME = "DNS_QNAME"
    TLS_SNI = "TLS_SNI"
    TLS_SAN = "TLS_SAN"
    TLS_SCN = "TLS_SCN"


class ReportingUrgency(StrEnum):
    """Whether reports may be delayed and batched."""

    DELAY_TOLERANT = "DELAY_TOLERANT"
    NON_DELAY_TOLERANT = "NON_DELAY_TOLERANT"


class ReportingSuggestionInformation(WireModel):
    """Reporting urgency and, for delay-tolerant reports, a suggested reporting time."""

    reportingUrgency: ReportingUrgency
    reportingTimeInfo: DurationSec | None = None


class UpfEvent(WireModel):
    """One subscribed UPF event with its measurement parameters."""

    type: EventType
    immediateFlag: bool | None = None
    measurementTypes: NonEmptyList[MeasurementType] | None = None
    appIds: NonEmptyList[ApplicationId] | None = None
    trafficFilters: NonEmptyList[FlowInformation] | None = None
    granularityOfMeasurement: GranularityOfMeasurement | None = None
    reportingSuggestionInfo: ReportingSuggestionInformation | None = None


class UpfEventMode(WireModel):
    """When to report: ``trigger`` plus period, report count limit, expiry and sampling ratio."""

    trigger: UpfEventTrigger
    maxReports: int | None = None
    expiry: DateTime | None = None
    repPeriod: DurationSec | None = None
    sampRatio: SamplingRatio | None = None
    partitioningCriteria: NonEmptyList[PartitioningCriteria] | None = None
    notifFlag: NotificationFlag | None = None

    @model_validator(mode="after")
    def _period(self) -> Self:
        # A PERIODIC trigger is meaningless without its period (TS 29.564 UpfEventMode: repPeriod is
        # conditional on trigger PERIODIC); a non-positive period would ask for a busy loop.
        if self.trigger is UpfEventTrigger.PERIODIC and self.repPeriod is None:
            raise ValueError("repPeriod is required when trigger is PERIODIC")
        if self.repPeriod is not None and self.repPeriod < 1:
            raise ValueError(f"repPeriod must be >= 1 second, got {self.repPeriod}")
        if self.maxReports is not None and self.maxReports < 1:
            raise ValueError(f"maxReports must be >= 1, got {self.maxReports}")
        return self


class UpfEventSubscription(WireModel):
    """A subscription to UPF events for one UE (``ueIpAddress``/``supi``/``gpsi``/``pei``) or any UE."""

    eventList: NonEmptyList[UpfEvent]
    eventNotifyUri: Uri
    notifyCorrelationId: str
    eventReportingMode: UpfEventMode
    nfId: NfInstanceId
    ueIpAddress: IpAddr | None = None
    supi: Supi | None = None
    gpsi: Gpsi | None = None
    pei: Pei | None = None
    anyUe: bool | None = None
    dnn: Dnn | None = None
    snssai: Snssai | None = None


class CreateEventSubscription(WireModel):
    """Body of ``POST /ee-subscriptions``."""

    subscription: UpfEventSubscription
    supportedFeatures: SupportedFeatures | None = None


class VolumeMeasurement(WireModel):
    """Volumes ("1500 B": see :mod:`nwdaf.platform.models.units`) and packet counts, total/uplink/downlink."""

    totalVolume: TrafficVolume | None = None
    ulVolume: TrafficVolume | None = None
    dlVolume: TrafficVolume | None = None
    totalNbOfPackets: Uint64 | None = None
    ulNbOfPackets: Uint64 | None = None
    dlNbOfPackets: Uint64 | None = None


class ThroughputMeasurement(WireModel):
    """Bit and packet throughput, uplink/downlink."""

    ulThroughput: BitRate | None = None
    dlThroughput: BitRate | None = None
    ulPacketThroughput: PacketRate | None = None
    dlPacketThroughput: PacketRate | None = None


class ThroughputStatisticsMeasurement(WireModel):
    """Average and peak throughput over the reporting period (reported for USER_DATA_USAGE_TRENDS)."""

    ulAverageThroughput: BitRate | None = None
    dlAverageThroughput: BitRate | None = None
    ulPeakThroughput: BitRate | None = None
    dlPeakThroughPut: BitRate | None = None  # sic: capital P in TS 29.564, unlike ulPeakThroughput
    ulAveragePacketThroughput: PacketRate | None = None
    dlAveragePacketThroughput: PacketRate | None = None
    ulPeakPacketThroughput: PacketRate | None = None
    dlPeakPacketThroughput: PacketRate | None = None


class DomainInformation(WireModel):
    """A domain name the UE used and how it was observed."""

    domainName: Fqdn
    domainNameProtocol: DnProtocol | None = None


class ApplicationRelatedInformation(WireModel):
    """URLs and domain names seen in the UE's traffic."""

    urls: NonEmptyList[Uri] | None = None
    domainInfoList: NonEmptyList[DomainInformation] | None = None


class UserDataUsageMeasurements(WireModel):
    """Measurements for the PDU session (neither ``appId`` nor ``flowInfo``), one application (``appId``) or
    one flow (``flowInfo``)."""

    appId: ApplicationId | None = None
    flowInfo: FlowInformation | None = None
    volumeMeasurement: VolumeMeasurement | None = None
    throughputMeasurement: ThroughputMeasurement | None = None
    applicationRelatedInformation: ApplicationRelatedInformation | None = None
    throughputStatisticsMeasurement: ThroughputStatisticsMeasurement | None = None


class QosMonitoringMeasurement(WireModel):
    """QoS monitoring result: packet delays (ms) and average throughput, or ``measureFailure``."""

    flowInfos: NonEmptyList[FlowInformation] | None = None
    appIds: NonEmptyList[ApplicationId] | None = None
    dlPacketDelay: Uint32 | None = None
    ulPacketDelay: Uint32 | None = None
    rtrPacketDelay: Uint32 | None = None
    measureFailure: Literal[True] | None = None
    dlAveThroughput: BitRate | None = None
    ulAveThroughput: BitRate | None = None
    dlCongestion: str | None = None
    ulCongestion: str | None = None
    defaultQosFlowInd: bool | None = None


class NotificationItem(WireModel):
    """One report on one subscribed event for one UE, identified by at least one of ``ueIpv4Addr``,
    ``ueIpv6Prefix`` or ``ueMacAddr``."""

    eventType: EventType
    ueIpv4Addr: Ipv4Addr | None = None
    ueIpv6Prefix: Ipv6Prefix | None = None
    ueMacAddr: MacAddr48 | None = None
    dnn: Dnn | None = None
    snssai: Snssai | None = None
    gpsi: Gpsi | None = None
    supi: Supi | None = None
    timeStamp: DateTime
    startTime: DateTime | None = None
    qosMonitoringMeasurement: QosMonitoringMeasurement | None = None
    userDataUsageMeasurements: NonEmptyList[UserDataUsageMeasurements] | None = None

    @model_validator(mode="after")
    def _identifies_ue(self) -> Self:
        if self.ueIpv4Addr is None and self.ueIpv6Prefix is None and self.ueMacAddr is None:
            raise ValueError("NotificationItem needs at least one of ueIpv4Addr, ueIpv6Prefix, ueMacAddr")
        if self.startTime is not None and self.startTime > self.timeStamp:
            raise ValueError(f"startTime {self.startTime} is after timeStamp {self.timeStamp}")
        return self


class NotificationData(WireModel):
    """Body POSTed to ``eventNotifyUri``: one or more reports, tagged with the subscription's
    ``notifyCorrelationId`` as ``correlationId``."""

    notificationItems: NonEmptyList[NotificationItem]
    correlationId: str | None = None
    achievedSampRatio: SamplingRatio | None = None


class CreatedEventSubscription(WireModel):
    """201 body of ``POST /ee-subscriptions``; ``reportList`` carries immediate reports (``immediateFlag``)."""

    subscription: UpfEventSubscription
    subscriptionId: Uri
    reportList: NonEmptyList[NotificationItem] | None = None
    supportedFeatures: SupportedFeatures | None = None
