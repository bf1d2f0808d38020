"""UPF notifications, flow/feature batches and analytics results as stored rows."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from pydantic import ValidationError

from nwdaf.events import NfNotification
from nwdaf.models.units import UnitFormatError
from nwdaf.storage.normalise import analytics_row, snssai_key, usage_rows
from nwdaf.storage.records import FlowRecord, UeFeatureVector
from nwdaf.testing import storage_data as data

pytestmark = pytest.mark.unit
AT = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


def note(body: dict[str, object]) -> NfNotification:
    return NfNotification(source="upf-ee", received_at=AT, body=body)


def test_usage_rows_one_per_measurement_with_parsed_units() -> None:
    rows = usage_rows(note(data.notification_data(AT, ul_bytes=1500)))
    assert rows.ignored_items == 1  # the QOS_MONITORING item has no usage measurement
    app, flow = rows.reports
    assert app["ts"] == AT.timestamp()
    assert app["start_ts"] == AT.timestamp() - 10
    assert (app["supi"], app["ue_ip"], app["snssai"], app["dnn"]) == (data.SUPI, data.UE_IP, "1-00000a", "internet")
    assert (app["granularity"], app["app_id"]) == ("PER_APPLICATION", "web")
    assert (app["ul_bytes"], app["dl_bytes"], app["ul_packets"], app["dl_packets"]) == (1500, 2500, 10, 20)
    assert (app["ul_throughput_bps"], app["dl_throughput_bps"]) == (800.0, 2000.0)
    assert app["correlation_id"] == "corr-1"
    assert flow["granularity"] == "PER_FLOW"
    assert (flow["proto"], flow["src_ip"], flow["src_port"], flow["dst_ip"], flow["dst_port"]) == (
        17, "8.8.8.8", 53, data.UE_IP, 40000)
    assert (flow["total_bytes"], flow["total_packets"]) == (1_500_000, 1200)


def test_timeseries_points_keep_identity_tags() -> None:
    points = usage_rows(note(data.notification_data(AT))).timeseries()
    assert [p["flow"] for p in points] == ["", f"permit out 17 from 8.8.8.8 53 to {data.UE_IP} 40000"]
    assert all(p["reports"] == 1 for p in points)
    assert "correlation_id" not in points[0]


def test_session_granularity_when_neither_app_nor_flow() -> None:
    body = data.notification_data(AT)
    body["notificationItems"][0]["userDataUsageMeasurements"] = [{"volumeMeasurement": {"totalVolume": "1 GB"}}]
    (row,) = usage_rows(note(body)).reports
    assert (row["granularity"], row["total_bytes"]) == ("PER_SESSION", 10**9)


def test_malformed_volume_is_an_error_not_a_zero() -> None:
    body = data.notification_data(AT)
    body["notificationItems"][0]["userDataUsageMeasurements"][0]["volumeMeasurement"]["ulVolume"] = "12 XB"
    with pytest.raises((ValidationError, UnitFormatError)):
        usage_rows(note(body))


def test_missing_notification_items_is_an_error() -> None:
    with pytest.raises(ValidationError, match="notificationItems"):
        usage_rows(note({"correlationId": "x"}))


def test_snssai_key_forms() -> None:
    assert snssai_key({"sst": 1}) == "1"
    assert snssai_key({"sst": 2, "sd": "ABCDEF"}) == "2-abcdef"
    assert snssai_key(None) is None


def test_analytics_row_flattens_the_finding() -> None:
    row = analytics_row(data.analytics_result(AT))
    assert (row["event"], row["supi"], row["snssai"], row["exception_id"]) == (
        "ABNORMAL_BEHAVIOUR", data.SUPI, "1-00000a", "SUSPICION_OF_DDOS_ATTACK")
    assert (row["ratio"], row["confidence"], row["score"], row["model_version"]) == (40.0, 88.0, 0.97, "3")
    assert row["ts"] == AT.timestamp()
    assert row["window_start"] == AT.timestamp() - 60
    assert orjson.loads(row["details"]) == {"addtMeas": {"ddosAttack": {"ipv4Addrs": ["198.51.100.7"]}}}


def test_records_reject_bad_values_by_name() -> None:
    with pytest.raises(ValidationError, match="snssai"):
        FlowRecord(start_ts=1.0, proto="tcp", src_ip="a", dst_ip="b", snssai="300")
    with pytest.raises(ValidationError, match="extra"):
        FlowRecord.model_validate({"start_ts": 1.0, "proto": "tcp", "src_ip": "a", "dst_ip": "b", "colour": 1})
    with pytest.raises(ValidationError, match="window_end"):
        UeFeatureVector(window_start=10.0, window_end=10.0, host="h", features={})
    with pytest.raises(ValidationError, match="infinite"):
        UeFeatureVector(window_start=0.0, window_end=10.0, host="h", features={"x": float("inf")})
    vector = UeFeatureVector(window_start=0.0, window_end=10.0, host="h", snssai="1-ABCDEF",
                             features={"x": float("nan")})
    assert vector.features == {"x": None}
    assert vector.snssai == "1-abcdef"
