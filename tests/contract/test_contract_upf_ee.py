"""Nupf_EventExposure (TS 29.564) payloads built with our models validate against the 3GPP YAML."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from nwdaf.platform.models import (
    ApplicationRelatedInformation,
    CreatedEventSubscription,
    CreateEventSubscription,
    DnProtocol,
    DomainInformation,
    EventType,
    FlowDirection,
    FlowInformation,
    GranularityOfMeasurement,
    IpAddr,
    IpFlow,
    MeasurementType,
    NotificationData,
    NotificationItem,
    PatchItem,
    QosMonitoringMeasurement,
    ReportingSuggestionInformation,
    ReportingUrgency,
    Snssai,
    ThroughputMeasurement,
    ThroughputStatisticsMeasurement,
    UpfEvent,
    UpfEventMode,
    UpfEventSubscription,
    UpfEventTrigger,
    UserDataUsageMeasurements,
    VolumeMeasurement,
    format_bit_rate,
    format_flow_description,
    format_packet_rate,
    format_traffic_volume,
    from_wire,
    to_wire,
    to_wire_list,
)
from nwdaf.platform.models.openapi import SpecValidator

pytestmark = pytest.mark.contract

NUPF = "TS29564_Nupf_EventExposure.yaml#/components/schemas/"
PATCH_ITEM = "TS29571_CommonData.yaml#/components/schemas/PatchItem"
NWDAF_ID = UUID("8c3d4f2e-1b7a-4c59-9d1e-2f6a7b8c9d0e")
T0 = datetime(2025, 3, 27, 18, 0, 59, tzinfo=UTC)
SLICE = Snssai(sst=1, sd="000001")


def _subscription(
    granularity: GranularityOfMeasurement, event: EventType, **event_fields: object
) -> UpfEventSubscription:
    return UpfEventSubscription(
        eventList=[UpfEvent(type=event, granularityOfMeasurement=granularity, **event_fields)],
        eventNotifyUri="http://127.0.0.1:8080/nnwdaf-collector/v1/upf-notifications",
        notifyCorrelationId="nwdaf-upf-1",
        eventReportingMode=UpfEventMode(trigger=UpfEventTrigger.PERIODIC, repPeriod=1, sampRatio=100),
        nfId=NWDAF_ID,
        anyUe=True,
        dnn="internet",
        snssai=SLICE,
    )


SUBSCRIPTIONS: dict[str, Callable[[], UpfEventSubscription]] = {
    "per-flow-volume-throughput": lambda: _subscription(
        GranularityOfMeasurement.PER_FLOW,
        EventType.USER_DATA_USAGE_MEASURES,
        measurementTypes=[MeasurementType.VOLUME_MEASUREMENT, MeasurementType.THROUGHPUT_MEASUREMENT],
        trafficFilters=[
            FlowInformation(
                flowDescription=format_flow_description(IpFlow(17, "any", "assigned", dst_ports="50000-50100")),
                flowDirection=FlowDirection.BIDIRECTIONAL,
            )
        ],
    ),
    "per-session-trends": lambda: _subscription(
        GranularityOfMeasurement.PER_SESSION,
        EventType.USER_DATA_USAGE_TRENDS,
        measurementTypes=[MeasurementType.THROUGHPUT_MEASUREMENT],
        reportingSuggestionInfo=ReportingSuggestionInformation(
            reportingUrgency=ReportingUrgency.DELAY_TOLERANT, reportingTimeInfo=5
        ),
    ),
    "per-application": lambda: _subscription(
        GranularityOfMeasurement.PER_APPLICATION,
        EventType.USER_DATA_USAGE_MEASURES,
        measurementTypes=[MeasurementType.VOLUME_MEASUREMENT, MeasurementType.APPLICATION_RELATED_INFO],
        appIds=["video-streaming", "web-browsing"],
        immediateFlag=True,
    ),
}


@pytest.mark.parametrize("name", sorted(SUBSCRIPTIONS))
def test_create_event_subscription_conforms(spec: SpecValidator, name: str) -> None:
    body = CreateEventSubscription(subscription=SUBSCRIPTIONS[name](), supportedFeatures="0")
    spec.validate(to_wire(body), NUPF + "CreateEventSubscription")


def test_subscription_for_one_ue_by_ip_address_conforms(spec: SpecValidator) -> None:
    sub = SUBSCRIPTIONS["per-session-trends"]().model_copy(
        update={"anyUe": None, "ueIpAddress": IpAddr(ipv4Addr="10.42.0.2"), "supi": "imsi-001010000000001"}
    )
    spec.validate(to_wire(CreateEventSubscription(subscription=sub)), NUPF + "CreateEventSubscription")


def _volume(ul: int, dl: int, ul_pkts: int, dl_pkts: int) -> VolumeMeasurement:
    return VolumeMeasurement(
        totalVolume=format_traffic_volume(ul + dl),
        ulVolume=format_traffic_volume(ul),
        dlVolume=format_traffic_volume(dl),
        totalNbOfPackets=ul_pkts + dl_pkts,
        ulNbOfPackets=ul_pkts,
        dlNbOfPackets=dl_pkts,
    )


def _throughput(ul_bps: float, dl_bps: float, ul_pps: float, dl_pps: float) -> ThroughputMeasurement:
    return ThroughputMeasurement(
        ulThroughput=format_bit_rate(ul_bps),
        dlThroughput=format_bit_rate(dl_bps),
        ulPacketThroughput=format_packet_rate(ul_pps),
        dlPacketThroughput=format_packet_rate(dl_pps),
    )


def _statistics() -> ThroughputStatisticsMeasurement:
    return ThroughputStatisticsMeasurement(
        ulAverageThroughput=format_bit_rate(1319),
        dlAverageThroughput=format_bit_rate(1319),
        ulPeakThroughput=format_bit_rate(1344),
        dlPeakThroughPut=format_bit_rate(1344),
        ulAveragePacketThroughput=format_packet_rate(1),
        dlAveragePacketThroughput=format_packet_rate(1),
        ulPeakPacketThroughput=format_packet_rate(2),
        dlPeakPacketThroughput=format_packet_rate(2),
    )


def _item(event: EventType, measurements: list[UserDataUsageMeasurements]) -> NotificationItem:
    return NotificationItem(
        eventType=event,
        ueIpv4Addr="10.42.0.2",
        dnn="internet",
        snssai=SLICE,
        supi="imsi-001010000000001",
        timeStamp=T0 + timedelta(seconds=170),
        startTime=T0,
        userDataUsageMeasurements=measurements,
    )


def _flow(remote: str, remote_port: str, ue_port: str) -> FlowInformation:
    text = format_flow_description(IpFlow(6, remote, "10.42.0.2", remote_port, ue_port))
    return FlowInformation(flowDescription=text, flowDirection=FlowDirection.BIDIRECTIONAL)


ITEMS: dict[str, Callable[[], NotificationItem]] = {
    "per-flow-volume": lambda: _item(
        EventType.USER_DATA_USAGE_MEASURES,
        [
            UserDataUsageMeasurements(
                flowInfo=_flow("142.250.1.1", "443", "50000"), volumeMeasurement=_volume(624, 376, 8, 7)
            )
        ],
    ),
    "per-flow-throughput": lambda: _item(
        EventType.USER_DATA_USAGE_MEASURES,
        [
            UserDataUsageMeasurements(
                flowInfo=_flow("142.250.1.1", "443", "50000"), throughputMeasurement=_throughput(1344, 1344, 2, 2)
            )
        ],
    ),
    "per-flow-trends": lambda: _item(
        EventType.USER_DATA_USAGE_TRENDS,
        [
            UserDataUsageMeasurements(
                flowInfo=_flow("142.250.1.1", "443", "50000"), throughputStatisticsMeasurement=_statistics()
            )
        ],
    ),
    "per-session": lambda: _item(
        EventType.USER_DATA_USAGE_MEASURES,
        [
            UserDataUsageMeasurements(
                volumeMeasurement=_volume(2_500_000, 48_000_000, 2100, 35000),
                throughputMeasurement=_throughput(117_647.06, 2_258_823.5, 12.4, 205.9),
            )
        ],
    ),
    "per-application": lambda: _item(
        EventType.USER_DATA_USAGE_MEASURES,
        [
            UserDataUsageMeasurements(
                appId="video-streaming",
                volumeMeasurement=_volume(120_000, 9_800_000, 300, 7000),
                applicationRelatedInformation=ApplicationRelatedInformation(
                    urls=["https://video.example.com/manifest.mpd"],
                    domainInfoList=[
                        DomainInformation(domainName="video.example.com", domainNameProtocol=DnProtocol.TLS_SNI)
                    ],
                ),
            )
        ],
    ),
    "qos-monitoring": lambda: NotificationItem(
        eventType=EventType.QOS_MONITORING,
        ueIpv6Prefix="2001:db8:abcd:12::/64",
        timeStamp=T0,
        qosMonitoringMeasurement=QosMonitoringMeasurement(
            dlPacketDelay=12, ulPacketDelay=9, rtrPacketDelay=21, dlAveThroughput=format_bit_rate(2.5e6)
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(ITEMS))
def test_notification_data_conforms(spec: SpecValidator, name: str) -> None:
    body = NotificationData(notificationItems=[ITEMS[name]()], correlationId="nwdaf-upf-1", achievedSampRatio=100)
    wire = to_wire(body)
    spec.validate(wire, NUPF + "NotificationData")
    assert from_wire(NotificationData, wire) == body


def test_notification_with_many_items_conforms(spec: SpecValidator) -> None:
    body = NotificationData(notificationItems=[ITEMS[name]() for name in sorted(ITEMS)] * 20)
    assert spec.errors(to_wire(body), NUPF + "NotificationData") == []


def test_created_event_subscription_conforms(spec: SpecValidator) -> None:
    body = CreatedEventSubscription(
        subscription=SUBSCRIPTIONS["per-application"](),
        subscriptionId="http://127.0.0.1:8805/nupf-ee/v1/ee-subscriptions/5f1c",
        reportList=[ITEMS["per-application"]()],
    )
    spec.validate(to_wire(body), NUPF + "CreatedEventSubscription")


def test_patch_body_items_conform(spec: SpecValidator) -> None:
    patch = [
        PatchItem(op="replace", path="/eventReportingMode/repPeriod", value=5),
        PatchItem(op="add", path="/eventList/-", value=to_wire(UpfEvent(type=EventType.USER_DATA_USAGE_TRENDS))),
        PatchItem(op="remove", path="/snssai"),
        PatchItem(op="copy", path="/dnn", **{"from": "/eventNotifyUri"}),
    ]
    wire = to_wire_list(patch)
    assert wire[3]["from"] == "/eventNotifyUri"
    for item in wire:
        spec.validate(item, PATCH_ITEM)
