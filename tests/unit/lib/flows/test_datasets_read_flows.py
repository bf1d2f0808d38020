"""read_flows(FORMAT:PATH): dispatch, globbing, gzip, error policies, the shared schema."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

import nwdaf.lib.flows as datasets
from nwdaf.lib.flows import (
    FLOW_SCHEMA,
    FLOW_SCHEMA_NO_LABELS,
    BadRowError,
    FlowFormatError,
    FlowImport,
    conform_flows,
    empty_flows,
    read_flows,
)

pytestmark = pytest.mark.unit

CSV = [
    "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,TotPkts,TotBytes,SrcBytes,Label",
    "2011/08/18 15:47:57.983212,0.1,udp,10.0.0.1,1025,<->,10.0.0.2,53,CON,2,203,64,flow=From-Botnet-1",
    "2011/08/18 15:47:58,0.1,udp,10.0.0.1,1026,<->,10.0.0.2,53,CON,2,203,64,flow=From-Normal-1",
]


def test_all_is_exported() -> None:
    assert set(datasets.__all__) <= set(dir(datasets))
    assert "read_flows" in datasets.__all__


def test_glob_and_gzip_concatenate_in_sorted_order(tmp_path: Path) -> None:
    (tmp_path / "b.binetflow.gz").write_bytes(gzip.compress("\n".join(CSV).encode()))
    (tmp_path / "a.binetflow").write_text("\n".join(CSV[:2]))
    flows = read_flows(f"binetflow:{tmp_path}/*.binetflow*")
    assert flows.schema == FLOW_SCHEMA
    assert flows["source"].to_list() == ["binetflow:a.binetflow", *["binetflow:b.binetflow.gz"] * 2]


def test_count_mode_returns_stats_per_file(tmp_path: Path) -> None:
    (tmp_path / "a.binetflow").write_text("\n".join([*CSV, "garbage"]))
    (tmp_path / "b.binetflow").write_text("\n".join(CSV))
    result = read_flows(f"binetflow:{tmp_path}/*.binetflow", on_error="count", include_labels=False)
    assert isinstance(result, FlowImport)
    assert result.flows.schema == FLOW_SCHEMA_NO_LABELS
    assert result.flows.height == 4
    assert [(s.rows_read, s.rows_skipped) for s in result.stats] == [(3, 1), (2, 0)]
    assert result.stats[0].errors[0].line == 4
    with pytest.raises(BadRowError, match=r"a\.binetflow:4: expected 13 fields, found 1"):
        read_flows(f"binetflow:{tmp_path}/a.binetflow", strict=True)


@pytest.mark.parametrize("spec", ["binetflow", "pcap:/x", "/tmp/x.csv", ":x"])
def test_bad_spec(spec: str) -> None:
    with pytest.raises(ValueError, match="FORMAT:PATH"):
        read_flows(spec)


def test_missing_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_flows(f"zeek:{tmp_path}/conn.log")
    with pytest.raises(FileNotFoundError, match="no file matches"):
        read_flows(f"zeek:{tmp_path}/*.log")


def test_corrupt_gzip_is_a_file_error(tmp_path: Path) -> None:
    (tmp_path / "bad.gz").write_bytes(b"\x1f\x8b" + b"\x00" * 30)
    with pytest.raises(FlowFormatError, match="corrupt gzip"):
        read_flows(f"nfstream:{tmp_path}/bad.gz")


def test_conform_flows_for_upf_records() -> None:
    upf = pl.DataFrame(
        {
            "start_ts": [1.0],
            "proto": ["TCP"],
            "src_ip": ["10.45.0.2"],
            "dst_ip": ["1.1.1.1"],
            "bytes_fwd": [10],
            "bytes_bwd": [30],
            "supi": ["imsi-001010000000001"],
        }
    )
    flows = conform_flows(upf)
    assert flows.columns == [*FLOW_SCHEMA.names(), "supi"]
    row = flows.row(0, named=True)
    assert (row["bytes_total"], row["pkts_total"], row["proto"], row["proto_num"], row["label"]) == (
        40,
        None,
        "tcp",
        6,
        None,
    )
    with pytest.raises(ValueError, match=r"lack required column\(s\) \['dst_ip'\]"):
        conform_flows(upf.drop("dst_ip"))
    assert empty_flows(include_labels=False).schema == FLOW_SCHEMA_NO_LABELS


def test_conform_flows_numeric_proto_and_datetime_start() -> None:
    upf = pl.DataFrame(
        {
            "start_ts": [datetime(2024, 1, 1, tzinfo=UTC)],
            "proto": [17],
            "src_ip": ["10.45.0.2"],
            "dst_ip": ["9.9.9.9"],
            "pkts_fwd": [1],
            "pkts_bwd": [2],
        }
    )
    row = conform_flows(upf).row(0, named=True)
    assert (row["start_ts"], row["proto"], row["proto_num"], row["pkts_total"]) == (1704067200.0, "udp", 17, 3)
