"""CICFlowMeter CSV importer: improved CIC-IDS2017 headers, original headers with leading spaces, labels."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from nwdaf.lib.flows import FlowFormatError, read_cicflow

pytestmark = pytest.mark.unit

IMPROVED = (
    "id,Flow ID,Src IP,Src Port,Dst IP,Dst Port,Protocol,Timestamp,Flow Duration,Total Fwd Packet,"
    "Total Bwd packets,Total Length of Fwd Packet,Total Length of Bwd Packet,Flow Bytes/s,Label,Attempted Category"
)
ROWS = [
    "1,a,192.168.10.5,58181,192.168.10.3,53,17,2017-07-06 12:39:06.818901,245,2,2,70,102,Infinity,BENIGN,-1",
    "2,b,172.16.0.1,35473,192.168.10.50,80,6,2017-07-07 15:56:12,15885639,9,8,2827,2334,1.5,DDoS,-1",
    "3,c,172.16.0.1,35474,192.168.10.50,80,6,2017-07-05 10:00:00.5,100,1,0,0,0,0,DoS Hulk - Attempted,2",
    '4,"d,e",205.174.165.73,8080,192.168.10.15,49188,6,2017-07-07 16:00:00,5,3,3,10,20,0,Botnet,-1',
]


def write(tmp_path: Path, lines: list[str], name: str = "sample.csv") -> Path:
    path = tmp_path / name
    path.write_text("\r\n".join(lines) + "\r\n")
    return path


def test_improved_release(tmp_path: Path) -> None:
    flows = read_cicflow(write(tmp_path, [IMPROVED, *ROWS])).flows
    assert flows.height == 4
    dns = flows.row(0, named=True)
    assert dns["start_ts"] == pytest.approx(datetime(2017, 7, 6, 12, 39, 6, 818901, tzinfo=UTC).timestamp())
    assert dns["duration_s"] == pytest.approx(245e-6)
    assert (dns["proto"], dns["proto_num"], dns["dst_port"]) == ("udp", 17, 53)
    assert (dns["pkts_fwd"], dns["pkts_bwd"], dns["pkts_total"]) == (2, 2, 4)
    assert (dns["bytes_fwd"], dns["bytes_bwd"], dns["bytes_total"]) == (70, 102, 172)
    assert dns["state"] is None
    assert flows["label"].to_list() == ["benign", "malicious", "background", "malicious"]
    assert flows["label_detail"].to_list() == ["BENIGN", "DDoS", "DoS Hulk - Attempted", "Botnet"]
    assert flows["src_ip"][3] == "205.174.165.73"  # quoted field holding a comma kept the row aligned


def test_original_release_headers_with_leading_spaces(tmp_path: Path) -> None:
    header = (
        "Flow ID, Source IP, Source Port, Destination IP, Destination Port, Protocol, Timestamp, Flow Duration,"
        " Total Fwd Packets, Total Backward Packets,Total Length of Fwd Packets, Total Length of Bwd Packets, Label"
    )
    row = "x,192.168.10.5,443,8.8.8.8,53,17,3/7/2017 8:55,1000000,1,1,40,60,BENIGN"
    flows = read_cicflow(write(tmp_path, [header, row]), time_zone="America/Halifax").flows
    first = flows.row(0, named=True)
    assert first["start_ts"] == pytest.approx(datetime(2017, 7, 3, 11, 55, tzinfo=UTC).timestamp())  # ADT = UTC-3
    assert (first["src_port"], first["dst_ip"], first["duration_s"], first["label"]) == (443, "8.8.8.8", 1.0, "benign")


def test_bad_values_and_missing_columns(tmp_path: Path) -> None:
    bad_proto = ROWS[1].replace(",6,2017-07-07", ",tcp,2017-07-07")
    with pytest.raises(FlowFormatError, match=r"sample\.csv:3: column proto_num: expected a protocol number"):
        read_cicflow(write(tmp_path, [IMPROVED, ROWS[0], bad_proto]))
    bad_category = ROWS[2].replace("Attempted,2", "Attempted,two")
    bad_time = ROWS[0].replace("2017-07-06 12:39:06.818901", "06.07.2017")
    result = read_cicflow(write(tmp_path, [IMPROVED, bad_time, ROWS[1], bad_category]), on_error="count")
    assert result.flows["label_detail"].to_list() == ["DDoS"]
    assert [e.line for e in result.stats[0].errors] == [2, 4]
    assert "Timestamp" not in result.stats[0].errors[0].reason
    assert "start_ts: expected a timestamp, got '06.07.2017'" in result.stats[0].errors[0].reason
    assert "expected an integer category" in result.stats[0].errors[1].reason
    with pytest.raises(FlowFormatError, match=r"header lacks column\(s\) \['dst port'\]"):
        read_cicflow(write(tmp_path, [IMPROVED.replace("Dst Port", "Port"), ROWS[0]]))


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("\n\n")
    with pytest.raises(FlowFormatError, match="empty file"):
        read_cicflow(path)
