"""Training input from the warehouse: paging through the read side, the labels file, the config and CLI options.

The end-to-end run on chdb (write through the storage backend, train from it, registered) is in
tests/integration/nf/mtlf/test_warehouse_training.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from pydantic import ValidationError

from nwdaf.lib.storage.backends import RecordQuery
from nwdaf.nf.mtlf.train.config import TrainConfig
from nwdaf.nf.mtlf.train.dataset import DatasetError, load_flows, read_flow_records
from nwdaf.nf.mtlf.train.labels import LabelsFileError, apply_labels, read_labels

pytestmark = pytest.mark.unit
T0 = 1_800_000_000.0
START, END = datetime.fromtimestamp(T0, UTC), datetime.fromtimestamp(T0 + 3600, UTC)


class PagedReader:
    """The read side's contract: rows in [start, end), newest first, at most ``limit`` per query."""

    def __init__(self, starts: list[float]) -> None:
        self.rows = [{"start_ts": ts, "src_ip": f"10.0.0.{i % 7}", "dst_ip": "198.51.100.1", "proto": "tcp",
                      "src_port": i, "label": None} for i, ts in enumerate(starts)]
        self.rows.sort(key=lambda r: (-r["start_ts"], r["src_port"]))
        self.queries: list[RecordQuery] = []

    async def query(self, table: str, query: RecordQuery) -> list[dict[str, Any]]:
        assert table == "flow_records"
        self.queries.append(query)
        lo, hi = query.bounds()
        hits = [r for r in self.rows if (lo is None or r["start_ts"] >= lo) and (hi is None or r["start_ts"] < hi)]
        return hits[: query.limit]


async def test_pages_return_every_record_once_even_across_shared_instants() -> None:
    # Several records share an instant at what becomes a page boundary (a batch stored with one start time).
    starts = [T0 + 10.0] * 4 + [T0 + 10.5] * 3 + [T0 + 0.25 * i for i in range(30)] + [T0 + 3600.0]
    reader = PagedReader(starts)
    frame = await read_flow_records(reader, START, END, page=5)
    assert sorted(frame.get_column("src_port").to_list()) == list(range(len(starts) - 1)), "end is exclusive"
    assert frame.get_column("start_ts").is_sorted()
    assert len(reader.queries) > 5
    assert all(q.start == START for q in reader.queries)


async def test_more_records_in_one_microsecond_than_a_page_is_a_clear_error() -> None:
    reader = PagedReader([T0 + 1.0] * 6)
    with pytest.raises(DatasetError, match="within one microsecond"):
        await read_flow_records(reader, START, END, page=5)


def write_labels(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "labels.csv"
    path.write_text(text)
    return path


def test_labels_file_overrides_by_host_and_time_later_rows_win(tmp_path: Path) -> None:
    flows = pl.DataFrame({
        "start_ts": [T0, T0 + 100, T0 + 200, T0 + 300, T0 + 50],
        "src_ip": ["10.0.0.1", "10.0.0.1", "10.0.0.1", "10.0.0.1", "10.0.0.2"],
        "label": [None, None, None, None, "benign"],
    })
    path = write_labels(tmp_path, "host,label,label_detail,start,end\n"
                                  "10.0.0.1,benign,,,\n"
                                  f"10.0.0.1,malicious,scan,{datetime.fromtimestamp(T0 + 100, UTC).isoformat()},"
                                  f"{T0 + 300}\n")
    labelled = apply_labels(flows, read_labels(path), "src_ip")
    assert labelled.get_column("label").to_list() == ["benign", "malicious", "malicious", "benign", "benign"]
    assert labelled.get_column("label_detail").to_list() == [None, "scan", "scan", None, None]
    assert labelled.get_column("start_ts").to_list() == flows.get_column("start_ts").to_list()


@pytest.mark.parametrize(("text", "message"), [
    ("ip,label\n1.2.3.4,benign\n", "no column"),
    ("host,label\n1.2.3.4,evil\n", "line 2"),
    ("host,label,start\n1.2.3.4,benign,2026-01-01T00:00:00\n", "UTC offset"),
    ("host,label,start,end\n1.2.3.4,benign,20,10\n", "start must be before end"),
    ("host,label\n", "no rows"),
])
def test_bad_labels_files_are_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(LabelsFileError, match=message):
        read_labels(write_labels(tmp_path, text))


def test_unlabelled_records_need_labels_and_the_file_changes_the_fingerprint(tmp_path: Path) -> None:
    flows = pl.DataFrame({"start_ts": [T0, T0 + 1], "src_ip": ["10.0.0.1", "10.0.0.2"], "dst_ip": ["a", "b"],
                          "proto": ["tcp", "tcp"], "label": pl.Series([None, None], dtype=pl.String)})
    with pytest.raises(DatasetError, match="labels file"):
        load_flows([], flows)
    one = write_labels(tmp_path, "host,label\n10.0.0.1,malicious\n")
    labelled, fingerprint = load_flows([], flows, labels=one)
    assert labelled.get_column("label").to_list() == ["malicious", None]
    one.write_text("host,label\n10.0.0.1,benign\n")
    assert load_flows([], flows, labels=one)[1] != fingerprint


def test_warehouse_config_needs_an_aware_range() -> None:
    url = "chdb://./.run/chdb"
    config = TrainConfig(warehouse_url=url, start="2026-01-01T00:00:00Z", end="2026-01-02T00:00:00+00:00")
    assert config.start == datetime(2026, 1, 1, tzinfo=UTC)
    for bad, message in (({"start": None}, "needs start and end"),
                         ({"start": "2026-01-01T00:00:00"}, "UTC offset"),
                         ({"start": "2026-01-03T00:00:00Z"}, "must be before"),
                         ({"warehouse_url": "influxdb://h:8086/db"}, "chdb://PATH or clickhouse://")):
        values = {"warehouse_url": url, "start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"} | bad
        with pytest.raises(ValidationError, match=message):
            TrainConfig(**values)
    with pytest.raises(ValidationError, match="give the warehouse URL"):
        TrainConfig(inputs=["zeek:a.log"], start="2026-01-01T00:00:00Z")
