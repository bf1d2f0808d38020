"""Row checking and encoding shared by every backend."""

from __future__ import annotations

import math

import pytest

from nwdaf.lib.storage.schema import (
    FLOW_RECORDS,
    TABLES,
    UE_FEATURES,
    UPF_USAGE,
    EncodedRows,
    RowError,
    assign_record_ids,
    decode_row,
    encode_row,
    encode_rows,
    record_id,
)

pytestmark = pytest.mark.unit


def test_record_ids_are_deterministic_per_batch_table_and_position() -> None:
    assert record_id("b1", "flow_records", 0) == record_id("b1", "flow_records", 0)
    ids = {record_id(b, t, i) for b in ("b1", "b2") for t in ("flow_records", "ue_features") for i in range(50)}
    assert len(ids) == 200
    assert all(0 <= i < 2**64 for i in ids)


def test_assign_record_ids_keeps_an_explicit_id() -> None:
    rows = assign_record_ids([{"a": 1}, {"a": 2, "record_id": 7}], "batch", "upf_usage")
    assert rows[0]["record_id"] == record_id("batch", "upf_usage", 0)
    assert rows[1]["record_id"] == 7


def test_assign_record_ids_gives_the_ids_of_record_id() -> None:
    rows = assign_record_ids([{"a": i} for i in range(12)], "topic/envelope-1", "flow_records")
    assert [r["record_id"] for r in rows] == [record_id("topic/envelope-1", "flow_records", i) for i in range(12)]


def test_encode_rows_reuses_encoded_rows_and_encodes_anything_else() -> None:
    rows = assign_record_ids([{"ts": 1.0 + i, "reports": 1} for i in range(3)], "b", UPF_USAGE.name)
    tuples = [encode_row(UPF_USAGE, r) for r in rows]
    pre = EncodedRows(UPF_USAGE, rows, tuples)
    assert list(pre) == rows
    assert len(pre) == 3
    assert pre[1] is rows[1]
    assert encode_rows(UPF_USAGE, pre, "another-batch") is pre.encoded  # reused, not encoded again
    assert list(encode_rows(UPF_USAGE, [{k: v for k, v in r.items() if k != "record_id"} for r in rows], "b")) \
        == tuples
    assert list(encode_rows(FLOW_RECORDS, [{"start_ts": 1.0}], "b")) != list(pre.encoded)  # other table: encoded
    with pytest.raises(ValueError, match="2 rows but 3"):
        EncodedRows(UPF_USAGE, rows[:2], tuples)


def test_encode_orders_columns_fills_absent_tags_and_nulls() -> None:
    row = {"ts": 1700000000.5, "supi": "imsi-1", "ul_bytes": 10, "reports": 1, "record_id": 5}
    encoded = encode_row(UPF_USAGE, row)
    values = dict(zip((*UPF_USAGE.column_names, "record_id"), encoded, strict=True))
    assert values["ts"] == 1700000000.5
    assert values["ue_ip"] == ""  # absent tag: empty string, never NULL (sort key)
    assert values["dl_bytes"] is None
    assert values["record_id"] == 5


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"supi": "x", "reports": 1}, "ts is required"),
        ({"ts": -1.0, "reports": 1}, "between 1970 and 2106"),
        ({"ts": 2.0**33, "reports": 1}, "between 1970 and 2106"),
        ({"ts": 1.0, "reports": 1, "ul_bytes": -5}, "cannot be negative"),
        ({"ts": 1.0, "reports": 1, "ul_bytes": 1.5}, "whole number"),
        ({"ts": 1.0, "reports": 1, "ul_bytes": "10"}, "must be a number"),
        ({"ts": 1.0, "reports": 1, "ul_throughput_bps": math.inf}, "finite"),
        ({"ts": 1.0, "reports": 1, "colour": "red"}, "unknown column"),
    ],
)
def test_encode_rejects_bad_rows_naming_the_column(row: dict[str, object], message: str) -> None:
    with pytest.raises(RowError, match=message):
        encode_row(UPF_USAGE, {"record_id": 1, **row})


def test_encode_requires_a_record_id() -> None:
    with pytest.raises(RowError, match="record_id"):
        encode_row(UPF_USAGE, {"ts": 1.0, "reports": 1})


def test_nan_in_a_nullable_number_is_stored_as_null() -> None:
    encoded = encode_row(FLOW_RECORDS, {"start_ts": 1.0, "duration_s": math.nan, "record_id": 1})
    assert encoded[FLOW_RECORDS.column_names.index("duration_s")] is None


def test_feature_map_round_trips_through_parallel_arrays() -> None:
    row = {"window_start": 60.0, "window_end": 120.0, "host": "10.0.0.1", "record_id": 1,
           "features": {"flows": 3.0, "ratio": None}}
    encoded = encode_row(UE_FEATURES, row)
    names = UE_FEATURES.column_names
    assert encoded[names.index("feature_names")] == ["flows", "ratio"]
    assert encoded[names.index("feature_values")] == [3.0, None]
    decoded = decode_row(UE_FEATURES, [*encoded[:-3], [3, None], ""])  # values as JSON prints them
    assert decoded["features"] == {"flows": 3.0, "ratio": None}
    assert isinstance(decoded["features"]["flows"], float)
    assert decoded["supi"] is None


def test_every_table_has_a_time_column_and_sort_key_of_its_own_columns() -> None:
    for tbl in TABLES.values():
        assert tbl.by_name[tbl.time_column].role == "time"
        assert set(tbl.order_by) <= set(tbl.column_names)
        assert all(not tbl.by_name[c].nullable for c in tbl.order_by), tbl.name
    assert [t.name for t in TABLES.values() if t.timeseries] == ["upf_usage"]


def test_decode_restores_column_types_from_json_output() -> None:
    values = dict.fromkeys(UPF_USAGE.column_names)
    values.update(ts=1000000000, supi="imsi-1", ue_ip="", ul_bytes="18446744073709551615", reports="1",
                  ul_throughput_bps=2)
    row = decode_row(UPF_USAGE, list(values.values()))
    assert isinstance(row["ts"], float)
    assert row["ul_bytes"] == 2**64 - 1
    assert row["reports"] == 1
    assert isinstance(row["ul_throughput_bps"], float)
    assert row["ue_ip"] is None


def test_public_names_are_exported() -> None:
    import nwdaf.nf.storage

    assert len(set(nwdaf.nf.storage.__all__)) == len(nwdaf.nf.storage.__all__)
    for name in nwdaf.nf.storage.__all__:
        assert getattr(nwdaf.nf.storage, name) is not None
    assert set(TABLES) == {"upf_usage", "upf_usage_reports", "flow_records", "ue_features", "slice_features",
                           "analytics_results"}
