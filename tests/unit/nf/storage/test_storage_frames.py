"""Columnar rows (TableFrame): the same checks and ids as the row path, and the InfluxDB line protocol of a frame."""

from __future__ import annotations

import math
from typing import Any

import polars as pl
import pytest
from tests.support import storage_data as data

from nwdaf.lib.storage.backends.influxdb import lines
from nwdaf.lib.storage.frames import TableFrame, frame_schema, record_ids
from nwdaf.lib.storage.schema import (
    UPF_USAGE,
    UPF_USAGE_REPORTS,
    RowError,
    assign_record_ids,
    encode_row,
    record_id,
)
from nwdaf.nf.storage import normalise
from nwdaf.platform.bus import decode
from nwdaf.platform.events import NF_NOTIFICATION, NfNotification

pytestmark = pytest.mark.unit


def usage(i: int, **extra: Any) -> dict[str, Any]:
    return {"ts": 1_700_000_000.25 + i, "supi": f"imsi-{i}", "ul_bytes": 100 * i, "dl_throughput_bps": 2.5 * i,
            "reports": 1, **extra}


def test_record_ids_are_those_of_record_id() -> None:
    ids = record_ids("topic/envelope-1", "upf_usage", 300)
    assert ids.dtype == pl.UInt64
    assert ids.to_list() == [record_id("topic/envelope-1", "upf_usage", i) for i in range(300)]
    assert record_ids("b", "upf_usage", 0).to_list() == []


def test_a_checked_frame_is_what_encode_row_gives_the_rows() -> None:
    rows = [usage(i) for i in range(5)] + [usage(5, snssai=None, ul_bytes=None, dl_throughput_bps=math.nan)]
    frame = TableFrame.check(UPF_USAGE, pl.DataFrame(rows), "topic/e1")
    expected = [encode_row(UPF_USAGE, r) for r in assign_record_ids(rows, "topic/e1", "upf_usage")]
    assert frame.frame.rows() == expected
    assert frame.frame.schema == frame_schema(UPF_USAGE)
    assert TableFrame.of_rows(UPF_USAGE, rows, "topic/e1").frame.equals(frame.frame)


def test_a_frame_is_a_read_only_sequence_of_its_rows() -> None:
    frame = TableFrame.check(UPF_USAGE, pl.DataFrame([usage(0), usage(1)]), "b")
    assert len(frame) == 2
    assert frame[1]["supi"] == "imsi-1"
    assert frame[1]["ue_ip"] == ""  # encoded: an absent tag is an empty string
    assert [r["record_id"] for r in frame] == [record_id("b", "upf_usage", i) for i in range(2)]
    assert [r["ts"] for r in frame[:1]] == [usage(0)["ts"]]
    joined = TableFrame.concat([frame, frame])
    assert len(joined) == 4
    other = TableFrame.check(UPF_USAGE_REPORTS, pl.DataFrame([{"ts": 1.0}]), "b")
    with pytest.raises(ValueError, match="one table"):
        TableFrame.concat([frame, other])


def test_given_record_ids_are_kept_and_checked() -> None:
    frame = TableFrame.check(UPF_USAGE, pl.DataFrame([{**usage(0), "record_id": 7}]), "b")
    assert frame[0]["record_id"] == 7
    with pytest.raises(RowError, match="record_id must be a UInt64"):
        TableFrame.check(UPF_USAGE, pl.DataFrame([{**usage(0), "record_id": -1}]), "b")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"ts": None}, "ts is required, got None (row 1)"),
        ({"ts": math.nan}, "ts is required"),
        ({"ts": -1.0}, "between 1970 and 2106, got -1.0 (row 1)"),
        ({"ts": 2.0**33}, "between 1970 and 2106"),
        ({"ul_bytes": -5}, "ul_bytes cannot be negative, got -5 (row 1)"),
        ({"ul_bytes": 1.5}, "ul_bytes must be a whole number, got 1.5"),
        ({"ul_bytes": math.inf}, "ul_bytes must be a whole number"),
        ({"ul_throughput_bps": math.inf}, "ul_throughput_bps must be finite"),
        ({"colour": "red"}, "unknown column"),
    ],
)
def test_each_rule_of_encode_row_is_checked_per_column(bad: dict[str, Any], message: str) -> None:
    with pytest.raises(RowError, match=f"table upf_usage: .*{message.replace('(', '[(]').replace(')', '[)]')}"):
        TableFrame.check(UPF_USAGE, pl.DataFrame([usage(0), {**usage(1), **bad}], strict=False), "b")
    with pytest.raises(RowError):  # the row path refuses the same row
        encode_row(UPF_USAGE, {**usage(1), **bad, "record_id": 1})


def test_integers_must_fit_their_column_type() -> None:
    # A stricter check than the row path's: the columnar insert would not carry such a value intact.
    with pytest.raises(RowError, match=r"reports does not fit UInt32, got 1099511627776 \(row 1\)"):
        TableFrame.check(UPF_USAGE, pl.DataFrame([usage(0), usage(1, reports=2**40)]), "b")
    with pytest.raises(RowError, match="proto does not fit Int16"):
        TableFrame.check(UPF_USAGE_REPORTS, pl.DataFrame([{"ts": 1.0, "proto": 70_000.0}]), "b")


@pytest.mark.parametrize(("column", "values"), [("ul_bytes", ["10", "20"]), ("reports", [True, False])])
def test_a_column_of_the_wrong_kind_is_refused(column: str, values: list[Any]) -> None:
    with pytest.raises(RowError, match=f"{column} must be a number, got a column of"):
        TableFrame.check(UPF_USAGE, pl.DataFrame([usage(0), usage(1)]).with_columns(pl.Series(column, values)), "b")


def test_a_required_column_that_is_absent_is_named() -> None:
    with pytest.raises(RowError, match="ts is required"):
        TableFrame.check(UPF_USAGE, pl.DataFrame({"supi": ["imsi-1"]}), "b")


def test_line_protocol_of_a_frame_escapes_tags_and_skips_nulls() -> None:
    rows = [usage(0, supi="imsi 1,a=b\\", flow="permit out 6 from a to b"), usage(1, dl_throughput_bps=None)]
    points = lines(UPF_USAGE, TableFrame.of_rows(UPF_USAGE, rows, "b").frame).to_list()
    assert points == [
        r"upf_usage,supi=imsi\ 1\,a\=b\\,flow=permit\ out\ 6\ from\ a\ to\ b "
        "ul_bytes=0i,dl_throughput_bps=0.0,reports=1i 1700000000250000000",
        "upf_usage,supi=imsi-1 ul_bytes=100i,reports=1i 1700000001250000000",
    ]


def test_line_protocol_refuses_line_breaks_and_marks_rows_without_fields() -> None:
    with pytest.raises(RowError, match="line break"):
        lines(UPF_USAGE, TableFrame.of_rows(UPF_USAGE, [usage(0, supi="a\nb")], "b").frame)
    frame = TableFrame.check(UPF_USAGE, pl.DataFrame({"ts": [1.0], "reports": [1]}), "b").frame
    assert lines(UPF_USAGE, frame.with_columns(pl.lit(None, pl.UInt32).alias("reports"))).to_list() == [None]


def test_line_protocol_timestamps_round_as_python_does() -> None:
    times = [1_700_000_000.0000005, 1_700_000_000.0000015, 0.0000025, 1.23456789]
    frame = TableFrame.of_rows(UPF_USAGE, [usage(0, ts=t) for t in times], "b").frame
    stamps = [int(p.rsplit(" ", 1)[1]) for p in lines(UPF_USAGE, frame).to_list()]
    assert stamps == [round(t * 1_000_000) * 1000 for t in times]


def test_a_notification_becomes_report_columns_and_usage_points() -> None:
    note = decode(data.upf_message(data.now_utc()), NfNotification, type_=NF_NOTIFICATION).payload
    reports = normalise.usage_frame_of(note)
    assert reports.height == 2
    assert TableFrame.check(UPF_USAGE_REPORTS, reports, "b").frame.rows() == [
        encode_row(UPF_USAGE_REPORTS, r)
        for r in assign_record_ids(normalise.usage_rows(note).reports, "b", "upf_usage_reports")]
    points = TableFrame.check(UPF_USAGE, normalise.usage_points(reports), "b")
    expected = assign_record_ids(normalise.usage_rows(note).timeseries(), "b", "upf_usage")
    assert points.frame.rows() == [encode_row(UPF_USAGE, r) for r in expected]
    assert normalise.ignored_items(note.body) == 1  # the QOS_MONITORING item
    assert normalise.ignored_items({"notificationItems": "nonsense"}) == 0
