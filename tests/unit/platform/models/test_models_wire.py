"""Wire-model behaviour: serialisation, strict parsing, closed enumerations and the rules the YAML states as
required/oneOf/anyOf/not (checked here at construction time, so a model that builds is a valid payload)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError

from nwdaf.platform.models import (
    AnalyticsException,
    EventFilter,
    EventNotification,
    EventSubscription,
    EventType,
    ExceptionId,
    ExceptionTrend,
    IpAddr,
    IpEthFlowDescription,
    MLEventNotif,
    MLModelAddr,
    NnwdafEventsSubscription,
    NnwdafEventsSubscriptionNotification,
    NotificationData,
    NotificationItem,
    NotificationMethod,
    NsmfNotificationMethod,
    NwdafEvent,
    PatchDocument,
    PatchItem,
    ReportingInformation,
    Snssai,
    TimeWindow,
    TrafficCharacterization,
    UeCommunication,
    UpfEventMode,
    UpfEventTrigger,
    VolumeMeasurement,
    format_datetime,
    from_wire,
    snssai_key,
    to_wire,
)

pytestmark = pytest.mark.unit

T0 = datetime(2025, 3, 27, 18, 3, 49, tzinfo=UTC)


def _item(**overrides: Any) -> dict[str, Any]:
    return {
        "eventType": "USER_DATA_USAGE_MEASURES",
        "ueIpv4Addr": "10.42.0.2",
        "timeStamp": "2025-03-27T18:03:49Z",
        **overrides,
    }


def test_datetimes_serialise_as_rfc3339_utc_with_z() -> None:
    cest = timezone(timedelta(hours=2))
    item = NotificationItem(
        eventType=EventType.USER_DATA_USAGE_MEASURES,
        ueIpv4Addr="10.42.0.2",
        timeStamp=datetime(2025, 3, 27, 20, 3, 49, 250000, tzinfo=cest),
        startTime=datetime(2025, 3, 27, 18, 0, 59, tzinfo=UTC),
    )
    wire = to_wire(item)
    assert wire["timeStamp"] == "2025-03-27T18:03:49.250000Z"
    assert wire["startTime"] == "2025-03-27T18:00:59Z"
    assert item.model_dump()["startTime"] == datetime(2025, 3, 27, 18, 0, 59, tzinfo=UTC)


def test_datetimes_without_offset_are_rejected() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        from_wire(NotificationItem, _item(timeStamp="2025-03-27T18:03:49"))
    with pytest.raises(ValueError, match="timezone"):
        format_datetime(datetime(2025, 3, 27))


def test_to_wire_omits_absent_attributes_and_uses_aliases() -> None:
    assert to_wire(Snssai(sst=1)) == {"sst": 1}
    assert to_wire(PatchItem(op="move", path="/a", from_="/b")) == {"op": "move", "path": "/a", "from": "/b"}


def test_from_wire_is_strict_about_json_types() -> None:
    with pytest.raises(ValidationError, match="valid integer"):
        from_wire(VolumeMeasurement, {"totalNbOfPackets": "15"})
    assert from_wire(VolumeMeasurement, b'{"totalNbOfPackets": 15}').totalNbOfPackets == 15


def test_from_wire_ignores_unknown_attributes() -> None:
    assert from_wire(Snssai, {"sst": 1, "sd": "00000a", "vendorSpecific-000001": {"x": 1}}) == Snssai(
        sst=1, sd="00000a"
    )


@pytest.mark.parametrize(
    ("model", "payload", "field"),
    [
        (NotificationItem, _item(eventType="USER_DATA_USAGE_FORECAST"), "eventType"),
        (AnalyticsException, {"excepId": "SUSPICION_OF_BOTNET"}, "excepId"),
        (AnalyticsException, {"excepId": "SUSPICION_OF_DDOS_ATTACK", "excepTrend": "UNKNOWN"}, "excepTrend"),
        (EventSubscription, {"event": "BOT_DETECTION", "exptAnaType": "COMMUN"}, "event"),
        (UpfEventMode, {"trigger": "ON_EVENT_DETECTION"}, "trigger"),
        (ReportingInformation, {"notifMethod": "THRESHOLD"}, "notifMethod"),
    ],
)
def test_unknown_enumeration_values_are_rejected(model: type[Any], payload: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        from_wire(model, payload)
    assert raised.value.errors()[0]["loc"] == (field,)


def test_unknow_is_the_spelling_of_the_spec() -> None:
    assert (
        AnalyticsException.model_validate({"excepId": "WRONG_DESTINATION_ADDRESS", "excepTrend": "UNKNOW"}).excepTrend
        is ExceptionTrend.UNKNOW
    )


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"sst": 256}, "less than or equal to 255"),
        ({"sst": 1, "sd": "00002"}, "pattern"),
        ({"sst": 1, "sd": "00000g"}, "pattern"),
    ],
)
def test_snssai_bounds(payload: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Snssai.model_validate(payload)


def test_snssai_key() -> None:
    assert Snssai(sst=1, sd="000001").to_key() == "1-000001"
    assert Snssai(sst=2).to_key() == "2"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ueIpv4Addr", "10.42.0.256"),
        ("ueIpv6Prefix", "2001:DB8::/64"),
        ("ueIpv6Prefix", "2001:db8::"),
        ("ueMacAddr", "00:11:22:33:44:55"),
        ("supi", ""),
    ],
)
def test_address_and_identity_patterns(field: str, value: str) -> None:
    with pytest.raises(ValidationError) as raised:
        from_wire(NotificationItem, _item(**{field: value}))
    assert raised.value.errors()[0]["loc"] == (field,)


def test_notification_item_needs_a_ue_address() -> None:
    with pytest.raises(ValidationError, match="ueIpv4Addr, ueIpv6Prefix, ueMacAddr"):
        from_wire(NotificationItem, {"eventType": "USER_DATA_USAGE_MEASURES", "timeStamp": "2025-03-27T18:03:49Z"})
    assert from_wire(NotificationItem, _item(ueIpv4Addr=None, ueMacAddr="00-11-22-33-44-55")).ueMacAddr


def test_notification_item_start_not_after_timestamp() -> None:
    with pytest.raises(ValidationError, match="after timeStamp"):
        from_wire(NotificationItem, _item(startTime="2025-03-27T18:04:00Z"))


def test_empty_arrays_are_rejected_because_the_yaml_says_min_items_1() -> None:
    with pytest.raises(ValidationError, match="at least 1 item"):
        from_wire(NotificationData, {"notificationItems": []})
    with pytest.raises(ValidationError, match="at least 1 item"):
        from_wire(NotificationItem, _item(userDataUsageMeasurements=[]))


def test_periodic_upf_reporting_needs_a_positive_period() -> None:
    with pytest.raises(ValidationError, match="repPeriod is required"):
        UpfEventMode(trigger=UpfEventTrigger.PERIODIC)
    with pytest.raises(ValidationError, match=">= 1 second"):
        UpfEventMode(trigger=UpfEventTrigger.PERIODIC, repPeriod=0)
    assert UpfEventMode(trigger=UpfEventTrigger.ONE_TIME).repPeriod is None


def test_reporting_information_periodic_needs_rep_period() -> None:
    with pytest.raises(ValidationError, match="repPeriod is required"):
        ReportingInformation(notifMethod=NsmfNotificationMethod.PERIODIC)


def test_abnormal_behaviour_subscription_names_what_to_detect() -> None:
    with pytest.raises(ValidationError, match="excepRequs"):
        EventSubscription(event=NwdafEvent.ABNORMAL_BEHAVIOUR)
    both = {
        "event": "ABNORMAL_BEHAVIOUR",
        "exptAnaType": "COMMUN",
        "excepRequs": [{"excepId": "SUSPICION_OF_DDOS_ATTACK"}],
    }
    with pytest.raises(ValidationError, match="mutually exclusive"):
        EventSubscription.model_validate(both)
    assert EventSubscription(event=NwdafEvent.UE_COMMUNICATION).excepRequs is None


def test_periodic_event_subscription_needs_a_period() -> None:
    periodic = EventSubscription(
        event=NwdafEvent.ABNORMAL_BEHAVIOUR,
        notificationMethod=NotificationMethod.PERIODIC,
        excepRequs=[AnalyticsException(excepId=ExceptionId.SUSPICION_OF_DDOS_ATTACK)],
    )
    with pytest.raises(ValidationError, match=r"eventSubscriptions\[0\] is PERIODIC"):
        NnwdafEventsSubscription(eventSubscriptions=[periodic])
    NnwdafEventsSubscription(
        eventSubscriptions=[periodic],
        evtReq=ReportingInformation(notifMethod=NsmfNotificationMethod.PERIODIC, repPeriod=5),
    )
    NnwdafEventsSubscription(eventSubscriptions=[periodic.model_copy(update={"repetitionPeriod": 1})])


def test_events_notification_is_reports_or_relocation() -> None:
    report = EventNotification(event=NwdafEvent.ABNORMAL_BEHAVIOUR)
    NnwdafEventsSubscriptionNotification(subscriptionId="1", eventNotifications=[report])
    NnwdafEventsSubscriptionNotification(subscriptionId="1", resourceUri="http://127.0.0.1/s/2", oldSubscriptionId="1")
    with pytest.raises(ValidationError, match="either eventNotifications"):
        NnwdafEventsSubscriptionNotification(subscriptionId="1")
    with pytest.raises(ValidationError, match="either eventNotifications"):
        NnwdafEventsSubscriptionNotification(subscriptionId="1", resourceUri="http://127.0.0.1/s/2")
    with pytest.raises(ValidationError, match="either eventNotifications"):
        NnwdafEventsSubscriptionNotification(
            subscriptionId="1", eventNotifications=[report], resourceUri="http://127.0.0.1/s/2", oldSubscriptionId="1"
        )


def test_ue_communication_needs_exactly_one_time_reference() -> None:
    traffic = TrafficCharacterization(ulVol=10)
    UeCommunication(commDur=60, trafChar=traffic, ts=T0)
    with pytest.raises(ValidationError, match="exactly one of ts, recurringTime"):
        UeCommunication(commDur=60, trafChar=traffic)
    with pytest.raises(ValidationError, match="ulVol or dlVol"):
        TrafficCharacterization()


@pytest.mark.parametrize(
    ("model", "kwargs", "message"),
    [
        (IpAddr, {}, "exactly one"),
        (IpAddr, {"ipv4Addr": "10.0.0.1", "ipv6Addr": "2001:db8::1"}, "exactly one"),
        (MLModelAddr, {}, "exactly one of mLModelUrl, mlFileFqdn"),
        (IpEthFlowDescription, {}, "exactly one of ipTrafficFilter"),
        (MLEventNotif, {"event": "ABNORMAL_BEHAVIOUR"}, "exactly one of mLFileAddr, mLModelAdrf"),
        (EventFilter, {"anySlice": True, "snssais": [{"sst": 1}]}, "mutually exclusive"),
        (TimeWindow, {"startTime": T0, "stopTime": T0 - timedelta(seconds=1)}, "before startTime"),
    ],
)
def test_one_of_rules(model: type[Any], kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        model.model_validate(kwargs)


def test_patch_items_need_their_operands_and_keep_null_values() -> None:
    with pytest.raises(ValidationError, match="needs a value"):
        PatchItem(op="replace", path="/dnn")
    with pytest.raises(ValidationError, match="needs 'from'"):
        PatchItem(op="copy", path="/dnn")
    items = PatchDocument.validate_json(
        b'[{"op": "replace", "path": "/snssai/sd", "value": null}, {"op": "remove", "path": "/dnn"}]'
    )
    assert [to_wire(i) for i in items] == [
        {"op": "replace", "path": "/snssai/sd", "value": None},
        {"op": "remove", "path": "/dnn"},
    ]


def test_nf_instance_ids_are_uuids() -> None:
    nf_id = "8c3d4f2e-1b7a-4c59-9d1e-2f6a7b8c9d0e"
    event_filter = from_wire(EventFilter, {"nfInstanceIds": [nf_id]})
    assert event_filter.nfInstanceIds == [UUID(nf_id)]
    assert to_wire(event_filter) == {"nfInstanceIds": [nf_id]}
    with pytest.raises(ValidationError):
        from_wire(EventFilter, {"nfInstanceIds": ["nwdaf-1"]})


@dataclass(frozen=True)
class _DataPlaneSlice:
    sst: int
    sd: str | None = None


def test_one_slice_gets_one_key_whatever_the_case_of_its_sd() -> None:
    forms = [Snssai(sst=1, sd="0000AB"), Snssai(sst=1, sd="0000ab"), {"sst": 1, "sd": "0000AB"},
             {"sst": 1, "sd": "0000ab"}, "1-0000AB", "1-0000ab", _DataPlaneSlice(1, "0000AB")]
    assert {snssai_key(f) for f in forms} == {"1-0000ab"}
    assert Snssai(sst=1, sd="0000AB").to_key() == "1-0000ab"
    assert {snssai_key(f) for f in (Snssai(sst=2), {"sst": 2}, "2", {"sst": 2, "sd": None})} == {"2"}
    assert snssai_key(None) is None
    assert snssai_key({"sd": "000001"}) is None
    assert Snssai.from_key("1-0000AB") == Snssai(sst=1, sd="0000ab")
    assert Snssai.from_key("2") == Snssai(sst=2)
    for bad in ("x", "1-", "1-00000g", "256"):
        with pytest.raises(ValueError, match=r"S-NSSAI key|validation error"):
            Snssai.from_key(bad)
