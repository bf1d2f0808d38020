"""UPF notifications, flow/feature batches and analytics results as stored rows."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from pydantic import ValidationError
from tests.support import storage_data as data

from nwdaf.nf.storage.normalise import analytics_row, feature_rows, flow_rows, usage_rows
from nwdaf.platform.events import FlowRecordBatch, NfNotification
from nwdaf.platform.models import snssai_key
from nwdaf.platform.models.units import UnitFormatError

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


def test_flow_batch_rows_keep_unmodelled_columns_in_extra() -> None:
    batch = data.flow_record_batch(AT, 2)
    rows = flow_rows(batch.model_copy(update={"columns": {**batch.columns, "app": ["web", None]}}))
    assert [r["src_port"] for r in rows] == [40000, 40001]
    assert rows[0]["snssai"] == "1-00000a"
    assert orjson.loads(rows[0]["extra"]) == {"app": "web"}
    assert orjson.loads(rows[1]["extra"]) == {"app": None}


def test_feature_rows_split_numbers_from_evidence() -> None:
    (row,) = feature_rows(data.ue_feature_batch(AT))
    assert row["window_start"] == AT.timestamp()
    assert row["window_end"] == AT.timestamp() + 60
    assert (row["host"], row["supi"]) == (data.UE_IP, data.SUPI)
    assert row["features"] == {"distinct_dst": 3.0, "flows": 12.0, "syn_ratio": None}
    assert orjson.loads(row["details"]) == {"top_destinations": ["93.184.216.34", "8.8.8.8"]}


def test_ragged_or_hostless_batches_are_errors() -> None:
    batch = data.flow_record_batch(AT, 2)
    with pytest.raises(ValueError, match="unequal length"):
        flow_rows(batch.model_copy(update={"columns": {**batch.columns, "supi": ["x"]}}))
    features = data.ue_feature_batch(AT)
    with pytest.raises(ValueError, match="no host"):
        feature_rows(features.model_copy(update={"columns": {**features.columns, "host": [None]}}))


def test_the_processors_own_flow_batches_fit_the_table() -> None:
    from nwdaf.lib.flows.convert import aggregate_flows, notification_rows, rows_frame
    from nwdaf.lib.storage.schema import FLOW_RECORDS, assign_record_ids, encode_row
    from nwdaf.nf.processor.processor import columns_of

    frame = aggregate_flows(rows_frame(notification_rows(data.notification_data(AT))), AT.timestamp())
    batch = FlowRecordBatch(window_start=AT.timestamp(), window_end=AT.timestamp() + 60, columns=columns_of(frame))
    rows = assign_record_ids(flow_rows(batch), "b", "flow_records")
    assert len(rows) == 1  # the sample's one per-flow report
    encoded = dict(zip(FLOW_RECORDS.column_names, encode_row(FLOW_RECORDS, rows[0]), strict=False))
    assert (encoded["supi"], encoded["snssai"], encoded["proto"]) == (data.SUPI, "1-00000a", "udp")
    assert encoded["extra"] == ""
