"""The sample payloads printed in the closed-loop NWDAF paper of Shafiee Ardestani et al. (its Appendix C and E),
kept as published and corrected to TS 29.520 / TS 29.564 / TS 29.571. Each original must fail the YAML or our
models (or not even be JSON); each corrected payload must pass both. Every correction is commented where it is
made."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from nwdaf.platform.models import (
    NnwdafEventsSubscription,
    NnwdafEventsSubscriptionNotification,
    NotificationData,
    ThroughputMeasurement,
    ThroughputStatisticsMeasurement,
    VolumeMeasurement,
    WireModel,
    from_wire,
    parse_bit_rate,
    parse_packet_rate,
    parse_traffic_volume,
)
from nwdaf.platform.models.openapi import SchemaViolation, SpecValidator

pytestmark = pytest.mark.contract

EES = "TS29520_Nnwdaf_EventsSubscription.yaml#/components/schemas/"
NUPF = "TS29564_Nupf_EventExposure.yaml#/components/schemas/"

# Appendix C, Listing 1: SMF subscription request to NWDAF (as published).
SMF_SUBSCRIPTION_ORIGINAL = """
{
  "notificationURI": "http://smf-nsmf.../notification",
  "eventSubscriptions": [
    {
      "event": "ABNORMAL_BEHAVIOUR",
      "exceptReques": [
        {
          "exceptId": "SUSPICION_OF_DDOS_ATTACK"
        }
      ],
      "notificationMethod": "PERIODIC",
      "repetitionPeriod": 1
    }
  ]
}
"""

SMF_SUBSCRIPTION_CORRECTED: dict[str, Any] = {
    "notificationURI": "http://smf.example.org/nsmf-nwdaf/v1/notification",  # a real URI instead of "..."
    "eventSubscriptions": [
        {
            "event": "ABNORMAL_BEHAVIOUR",
            # "exceptReques" -> "excepRequs" and "exceptId" -> "excepId" (TS 29.520 EventSubscription, Exception)
            "excepRequs": [{"excepId": "SUSPICION_OF_DDOS_ATTACK"}],
            "notificationMethod": "PERIODIC",
            "repetitionPeriod": 1,
        }
    ],
}

# Appendix C, Listing 2: NWDAF notification to SMF (as published; note the trailing commas).
NWDAF_NOTIFICATION_ORIGINAL = """
{
  "event": "ABNORMAL_BEHAVIOUR",
  "abnorBehavrs": [
    {
      "supis": ["10.42.0.2-2742"],
      "except": {
        "exceptId": "SUSPICION_OF_DDOS_ATTACK",
        },
      }
  ]
}
"""

# Listing 2 with only its JSON syntax repaired (trailing commas removed), to show the schema errors remain.
NWDAF_NOTIFICATION_SYNTAX_REPAIRED: dict[str, Any] = {
    "event": "ABNORMAL_BEHAVIOUR",
    "abnorBehavrs": [{"supis": ["10.42.0.2-2742"], "except": {"exceptId": "SUSPICION_OF_DDOS_ATTACK"}}],
}

NWDAF_NOTIFICATION_CORRECTED: dict[str, Any] = {
    # The callback body is NnwdafEventsSubscriptionNotification: a required subscriptionId and an
    # "eventNotifications" array of EventNotification, not a bare EventNotification.
    "subscriptionId": "1",
    "eventNotifications": [
        {
            "event": "ABNORMAL_BEHAVIOUR",
            "abnorBehavrs": [
                {
                    # "10.42.0.2-2742" (UE IP and port) matches the YAML's catch-all ".+" but is no SUPI
                    # (TS 23.003 clause 2.2A): use an IMSI-based SUPI.
                    "supis": ["imsi-001010000000001"],
                    # "except"/"exceptId" -> "excep"/"excepId" (TS 29.520 AbnormalBehaviour, Exception)
                    "excep": {"excepId": "SUSPICION_OF_DDOS_ATTACK"},
                }
            ],
        }
    ],
}

# Appendix E, Listing 1: per-flow user data usage notification (as published: not JSON, see below).
UPF_NOTIFICATION_ORIGINAL = """
{
  "eventType": "USER_DATA_USAGE_MEASURES |
  USER_DATA_USAGE_TRENDS",
  "ueIpv4Addr": "10.42.0.2",
  "snssai": {
    "sst": 2,
    "sd": "00002"
  },
  "timeStamp": "2025-03-27T18:03:49Z",
  "startTime": "2025-03-27T18:00:59Z",
  "userDataUsageMeasurements": [
    {
      "flowInfo": {
        "packFiltId": {
          "SrcIp": "10.42.0.2",
          "DstIp": "142.***.***.***",
          ..
        },
        "fDir": "BIDIRECTIONAL",
        "volumeMeasurement": null | { .. },
        "throughputMeasurement": null | { .. },
        "throughputStatisticsMeasurement": null | { .. }
      }
    }
  ]
}
"""

# Listing 1 made JSON while keeping its modelling errors ("..", "null | {..}" and the line break in a string
# dropped; the redacted address left as published).
UPF_NOTIFICATION_SYNTAX_REPAIRED: dict[str, Any] = {
    "eventType": "USER_DATA_USAGE_MEASURES | USER_DATA_USAGE_TRENDS",
    "ueIpv4Addr": "10.42.0.2",
    "snssai": {"sst": 2, "sd": "00002"},
    "timeStamp": "2025-03-27T18:03:49Z",
    "startTime": "2025-03-27T18:00:59Z",
    "userDataUsageMeasurements": [
        {
            "flowInfo": {
                "packFiltId": {"SrcIp": "10.42.0.2", "DstIp": "142.***.***.***"},
                "fDir": "BIDIRECTIONAL",
                "throughputStatisticsMeasurement": {"ulAverageThroughput": "1319bps"},
            }
        }
    ],
}

UPF_NOTIFICATION_CORRECTED: dict[str, Any] = {
    # The callback body is NotificationData: an array "notificationItems" of NotificationItem.
    "correlationId": "nwdaf-upf-1",
    "notificationItems": [
        {
            # One EventType per item; "A | B" is not a value (throughput statistics come with TRENDS).
            "eventType": "USER_DATA_USAGE_TRENDS",
            "ueIpv4Addr": "10.42.0.2",
            "snssai": {"sst": 2, "sd": "000002"},  # sd is exactly 6 hex digits
            "timeStamp": "2025-03-27T18:03:49Z",
            "startTime": "2025-03-27T18:00:59Z",
            "userDataUsageMeasurements": [
                {
                    "flowInfo": {
                        # The 5-tuple goes in "flowDescription" (an IPFilterRule, TS 29.212 clause 5.4.2);
                        # "packFiltId" is a string id. The direction is "flowDirection" ("fDir" belongs to
                        # EthFlowDescription). 142.250.1.1 stands in for the redacted address.
                        "flowDescription": "permit out ip from 142.250.1.1 to 10.42.0.2",
                        "flowDirection": "BIDIRECTIONAL",
                    },
                    # Measurements are siblings of "flowInfo" in UserDataUsageMeasurements, not inside it.
                    "throughputStatisticsMeasurement": {"ulAverageThroughput": "1319 bps"},
                }
            ],
        }
    ],
}

# Appendix E, Listings 2-4 (fragments), as published and corrected: a space between number and unit
# (TS 29.571 TrafficVolume/BitRate/PacketRate patterns) and "dlPeakThroughPut", spelled so in TS 29.564.
FRAGMENTS: list[tuple[str, type[WireModel], dict[str, Any], dict[str, Any]]] = [
    (
        "VolumeMeasurement",
        VolumeMeasurement,
        {
            "totalVolume": "1000B",
            "ulVolume": "624B",
            "dlVolume": "376B",
            "totalNbOfPackets": 15,
            "ulNbOfPackets": 8,
            "dlNbOfPackets": 7,
        },
        {
            "totalVolume": "1000 B",
            "ulVolume": "624 B",
            "dlVolume": "376 B",
            "totalNbOfPackets": 15,
            "ulNbOfPackets": 8,
            "dlNbOfPackets": 7,
        },
    ),
    (
        "ThroughputMeasurement",
        ThroughputMeasurement,
        {
            "ulThroughput": "1344bps",
            "dlThroughput": "1344bps",
            "ulPacketThroughput": "2pps",
            "dlPacketThroughput": "2pps",
        },
        {
            "ulThroughput": "1344 bps",
            "dlThroughput": "1344 bps",
            "ulPacketThroughput": "2 pps",
            "dlPacketThroughput": "2 pps",
        },
    ),
    (
        "ThroughputStatisticsMeasurement",
        ThroughputStatisticsMeasurement,
        {
            "ulAverageThroughput": "1319bps",
            "dlAverageThroughput": "1319bps",
            "ulPeakThroughput": "1344bps",
            "dlPeakThroughput": "1344bps",
            "ulAveragePacketThroughput": "1pps",
            "dlAveragePacketThroughput": "1pps",
            "ulPeakPacketThroughput": "2pps",
            "dlPeakPacketThroughput": "2pps",
        },
        {
            "ulAverageThroughput": "1319 bps",
            "dlAverageThroughput": "1319 bps",
            "ulPeakThroughput": "1344 bps",
            "dlPeakThroughPut": "1344 bps",
            "ulAveragePacketThroughput": "1 pps",
            "dlAveragePacketThroughput": "1 pps",
            "ulPeakPacketThroughput": "2 pps",
            "dlPeakPacketThroughput": "2 pps",
        },
    ),
]


def test_smf_subscription_original_is_rejected_by_our_models(spec: SpecValidator) -> None:
    original = json.loads(SMF_SUBSCRIPTION_ORIGINAL)
    # The YAML tolerates unknown attributes, so the misspelt "exceptReques" slips through schema validation...
    assert spec.is_valid(original, EES + "NnwdafEventsSubscription")
    # ...but an ABNORMAL_BEHAVIOUR subscription without excepRequs/exptAnaType cannot be served.
    with pytest.raises(ValidationError, match="excepRequs"):
        from_wire(NnwdafEventsSubscription, original)


def test_smf_subscription_corrected_passes(spec: SpecValidator) -> None:
    spec.validate(SMF_SUBSCRIPTION_CORRECTED, EES + "NnwdafEventsSubscription")
    model = from_wire(NnwdafEventsSubscription, SMF_SUBSCRIPTION_CORRECTED)
    assert model.eventSubscriptions[0].excepRequs is not None
    assert model.eventSubscriptions[0].excepRequs[0].excepId == "SUSPICION_OF_DDOS_ATTACK"


def test_nwdaf_notification_original_fails(spec: SpecValidator) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(NWDAF_NOTIFICATION_ORIGINAL)
    with pytest.raises(SchemaViolation) as raised:
        spec.validate(NWDAF_NOTIFICATION_SYNTAX_REPAIRED, EES + "NnwdafEventsSubscriptionNotification")
    assert "/subscriptionId" in {e.path for e in raised.value.errors}
    # Even read as the EventNotification it is, the abnormal behaviour lacks its required "excep".
    errors = spec.errors(NWDAF_NOTIFICATION_SYNTAX_REPAIRED, EES + "EventNotification")
    assert [e.path for e in errors] == ["/abnorBehavrs/0/excep"]
    with pytest.raises(ValidationError):
        from_wire(NnwdafEventsSubscriptionNotification, NWDAF_NOTIFICATION_SYNTAX_REPAIRED)


def test_nwdaf_notification_corrected_passes(spec: SpecValidator) -> None:
    spec.validate(NWDAF_NOTIFICATION_CORRECTED, EES + "NnwdafEventsSubscriptionNotification")
    model = from_wire(NnwdafEventsSubscriptionNotification, NWDAF_NOTIFICATION_CORRECTED)
    assert model.eventNotifications is not None
    assert model.eventNotifications[0].abnorBehavrs is not None


def test_upf_notification_original_fails(spec: SpecValidator) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(UPF_NOTIFICATION_ORIGINAL)
    errors = {e.path for e in spec.errors(UPF_NOTIFICATION_SYNTAX_REPAIRED, NUPF + "NotificationItem")}
    assert errors == {"/snssai/sd", "/userDataUsageMeasurements/0/flowInfo/packFiltId"}
    assert not spec.is_valid(UPF_NOTIFICATION_SYNTAX_REPAIRED, NUPF + "NotificationData")
    with pytest.raises(ValidationError, match="eventType"):
        from_wire(NotificationData, {"notificationItems": [UPF_NOTIFICATION_SYNTAX_REPAIRED]})


def test_upf_notification_corrected_passes(spec: SpecValidator) -> None:
    spec.validate(UPF_NOTIFICATION_CORRECTED, NUPF + "NotificationData")
    model = from_wire(NotificationData, UPF_NOTIFICATION_CORRECTED)
    usage = model.notificationItems[0].userDataUsageMeasurements
    assert usage is not None
    assert usage[0].throughputStatisticsMeasurement is not None
    assert usage[0].throughputStatisticsMeasurement.ulAverageThroughput == "1319 bps"


@pytest.mark.parametrize(("schema", "model", "original", "corrected"), FRAGMENTS, ids=[f[0] for f in FRAGMENTS])
def test_measurement_fragments(
    spec: SpecValidator, schema: str, model: type[WireModel], original: dict[str, Any], corrected: dict[str, Any]
) -> None:
    failing = {e.path for e in spec.errors(original, NUPF + schema)}
    unit_fields = {f"/{k}" for k, v in original.items() if isinstance(v, str) and k != "dlPeakThroughput"}
    assert failing == unit_fields
    with pytest.raises(ValidationError):
        from_wire(model, original)
    spec.validate(corrected, NUPF + schema)
    assert from_wire(model, corrected).model_dump(exclude_none=True) == corrected


def test_corrected_fragments_carry_the_published_numbers() -> None:
    volume, throughput, _ = (f[3] for f in FRAGMENTS)
    assert parse_traffic_volume(volume["totalVolume"]) == 1000
    assert parse_traffic_volume(volume["ulVolume"]) + parse_traffic_volume(volume["dlVolume"]) == 1000
    assert parse_bit_rate(throughput["ulThroughput"]) == 1344.0
    assert parse_packet_rate(throughput["dlPacketThroughput"]) == 2.0


@pytest.mark.parametrize(
    "original",
    [SMF_SUBSCRIPTION_ORIGINAL, NWDAF_NOTIFICATION_ORIGINAL, UPF_NOTIFICATION_ORIGINAL],
    ids=["smf-subscription", "nwdaf-notification", "upf-notification"],
)
def test_originals_are_verbatim_from_the_paper(spec: SpecValidator, original: str) -> None:
    published = _paper_text(spec)
    assert " ".join(original.split()) in published


@pytest.mark.parametrize("fragment", [f[2] for f in FRAGMENTS], ids=[f[0] for f in FRAGMENTS])
def test_fragment_originals_are_verbatim_from_the_paper(spec: SpecValidator, fragment: dict[str, Any]) -> None:
    published = _paper_text(spec)
    assert " ".join(json.dumps(fragment, indent=1)[1:-1].split()) in published


def _paper_text(spec: SpecValidator) -> str:
    """The paper's text with whitespace collapsed, from its plain-text copy kept beside the 3GPP YAML directory
    (``seeds/003_*.txt`` under the directory's grandparent); the check is skipped where there is none."""
    copies = sorted((spec.directory.parents[1] / "seeds").glob("003_*.txt"))
    if not copies:
        pytest.skip(f"no plain-text copy of the paper (seeds/003_*.txt) next to {spec.directory}")
    return " ".join(copies[0].read_text(encoding="utf-8").split())
