"""Argus .binetflow importer on hand-written CTU-13-style files."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from nwdaf.lib.flows import FlowFormatError, read_binetflow

pytestmark = pytest.mark.unit

HEADER = "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes,Label"
ROWS = [
    "2011/08/18 15:47:57.983212,0.000197,udp,147.32.84.165,1025,  <->,147.32.80.9,53,CON,0,0,2,203,64,"
    "flow=From-Botnet-V52-1-UDP-DNS",
    "2011/08/18 15:48:00.252763,0.036866,tcp,147.32.84.165,1027,   ->,74.125.232.201,80,SRPA_SPA,0,0,7,882,629,"
    "flow=From-Normal-V52-Grill",
    "2011/08/18 15:48:01.000000,1.5,icmp,147.32.84.165,0x0303,   ->,147.32.80.9,0xb01d,URP,0,,1,70,70,"
    "flow=Background-UDP-Established",
    "2011/08/18 15:48:02.5,0,arp,147.32.84.1,,  who,147.32.84.165,,CON,0,0,2,120,60,flow=To-Background",
]


def write(tmp_path: Path, lines: list[str], name: str = "t.binetflow", gz: bool = False) -> Path:
    path = tmp_path / name
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def test_reads_values_labels_and_hex_ports(tmp_path: Path) -> None:
    flows = read_binetflow(write(tmp_path, [HEADER, *ROWS])).flows
    assert flows.height == 4
    first = flows.row(0, named=True)
    assert first["start_ts"] == pytest.approx(datetime(2011, 8, 18, 15, 47, 57, 983212, tzinfo=UTC).timestamp())
    assert first["duration_s"] == pytest.approx(0.000197)
    assert (first["proto"], first["proto_num"], first["src_port"], first["dst_port"]) == ("udp", 17, 1025, 53)
    assert (first["pkts_total"], first["pkts_fwd"], first["pkts_bwd"]) == (2, None, None)
    assert (first["bytes_total"], first["bytes_fwd"], first["bytes_bwd"]) == (203, 64, 139)
    assert first["state"] == "CON"
    assert first["source"] == "binetflow:t.binetflow"
    assert flows["label"].to_list() == ["malicious", "benign", "background", "background"]
    assert flows["label_detail"][0] == "flow=From-Botnet-V52-1-UDP-DNS"
    icmp = flows.row(2, named=True)
    assert (icmp["src_port"], icmp["dst_port"]) == (0x0303, 0xB01D)
    arp = flows.row(3, named=True)
    assert (arp["proto_num"], arp["src_port"], arp["dst_port"]) == (None, None, None)


def test_gzip_is_transparent_and_time_zone_applies(tmp_path: Path) -> None:
    plain = read_binetflow(write(tmp_path, [HEADER, *ROWS])).flows
    zipped = read_binetflow(write(tmp_path, [HEADER, *ROWS], "t.binetflow.gz", gz=True)).flows
    assert plain.drop("source").equals(zipped.drop("source"))
    prague = read_binetflow(write(tmp_path, [HEADER, *ROWS]), time_zone="Europe/Prague").flows
    assert plain["start_ts"][0] - prague["start_ts"][0] == pytest.approx(7200.0)  # CEST = UTC+2


def test_malformed_row_names_file_and_line(tmp_path: Path) -> None:
    bad = ROWS[1].replace(",7,882,", ",seven,882,")
    path = write(tmp_path, [HEADER, ROWS[0], bad, ROWS[2]])
    with pytest.raises(FlowFormatError, match=r"t\.binetflow:3: column pkts_total: expected a packet count") as exc:
        read_binetflow(path)
    assert (exc.value.line, exc.value.path) == (3, str(path))


def test_count_mode_skips_and_counts(tmp_path: Path) -> None:
    ragged = ",".join(ROWS[0].split(",")[:10])
    src_bytes_too_big = ROWS[2].replace(",1,70,70,", ",1,70,71,")
    path = write(tmp_path, [HEADER, ROWS[0], "", ragged, ROWS[1], src_bytes_too_big])
    result = read_binetflow(path, on_error="count")
    assert result.flows.height == 2
    (stats,) = result.stats
    assert (stats.rows_read, stats.rows_skipped, stats.rows_ok) == (4, 2, 2)
    assert result.rows_skipped == 2
    assert [e.line for e in stats.errors] == [4, 6]
    assert "expected 15 fields, found 10" in stats.errors[0].reason
    assert "SrcBytes" in stats.errors[1].reason


def test_missing_header_column_is_a_file_error(tmp_path: Path) -> None:
    path = write(tmp_path, [HEADER.replace("TotBytes", "Bytes"), *ROWS])
    with pytest.raises(FlowFormatError, match=r":1: header lacks column\(s\) \['TotBytes'\]"):
        read_binetflow(path, on_error="count")


def test_without_label_column_and_without_labels(tmp_path: Path) -> None:
    no_label = [",".join(line.split(",")[:14]) for line in [HEADER, *ROWS]]
    flows = read_binetflow(write(tmp_path, no_label)).flows
    assert flows["label"].null_count() == 4
    hidden = read_binetflow(write(tmp_path, [HEADER, *ROWS]), include_labels=False).flows
    assert "label" not in hidden.columns
    assert "label_detail" not in hidden.columns
    assert hidden.schema["start_ts"] == pl.Float64
