"""NFStream CSV importer (the columns NFStreamer.to_csv() writes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nwdaf.lib.flows import FlowFormatError, read_nfstream_csv

pytestmark = pytest.mark.unit

HEADER = (
    "id,expiration_id,src_ip,src_mac,src_port,dst_ip,dst_mac,dst_port,protocol,ip_version,"
    "bidirectional_first_seen_ms,bidirectional_last_seen_ms,bidirectional_duration_ms,bidirectional_packets,"
    "bidirectional_bytes,src2dst_packets,src2dst_bytes,dst2src_packets,dst2src_bytes,application_name,"
    "requested_server_name"
)
ROWS = [
    "0,0,10.45.0.2,aa:bb,50000,142.250.1.1,cc:dd,443,6,4,1700000000123,1700000002623,2500,12,5000,5,600,7,4400,"
    "TLS.Google,www.google.com",
    '1,0,10.45.0.3,aa:bc,5353,224.0.0.251,01:00,5353,17,4,1700000001000,1700000001000,0,1,90,1,90,0,0,MDNS,"a,b"',
    "2,0,10.45.0.3,aa:bc,0,10.45.0.4,01:00,0,1,4,1700000001500,1700000001600,100,2,196,1,98,1,98,ICMP,",
]


def write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "flows.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_columns_map_to_schema(tmp_path: Path) -> None:
    flows = read_nfstream_csv(write(tmp_path, [HEADER, *ROWS])).flows
    tls, mdns, icmp = flows.iter_rows(named=True)
    assert tls["start_ts"] == pytest.approx(1700000000.123)
    assert tls["duration_s"] == pytest.approx(2.5)
    assert (tls["proto"], tls["proto_num"], tls["service"]) == ("tcp", 6, "TLS.Google")
    assert (tls["pkts_fwd"], tls["pkts_bwd"], tls["pkts_total"]) == (5, 7, 12)
    assert (tls["bytes_fwd"], tls["bytes_bwd"], tls["bytes_total"]) == (600, 4400, 5000)
    assert (mdns["proto"], mdns["dst_ip"], mdns["service"]) == ("udp", "224.0.0.251", "MDNS")
    assert (icmp["proto"], icmp["src_port"]) == ("icmp", 0)
    assert flows["label"].null_count() == 3
    assert flows["source"].unique().to_list() == ["nfstream:flows.csv"]


def test_optional_label_column(tmp_path: Path) -> None:
    lines = [HEADER + ",label", ROWS[0] + ",normal", ROWS[1] + ",Unknown", ROWS[2] + ",ddos"]
    flows = read_nfstream_csv(write(tmp_path, lines)).flows
    assert flows["label"].to_list() == ["benign", "background", "malicious"]
    assert flows["label_detail"].to_list() == ["normal", "Unknown", "ddos"]


def test_errors(tmp_path: Path) -> None:
    negative = ROWS[0].replace(",5,600,", ",-5,600,")
    with pytest.raises(FlowFormatError, match=r"flows\.csv:2: column pkts_fwd: expected a count, got '-5'"):
        read_nfstream_csv(write(tmp_path, [HEADER, negative]))
    with pytest.raises(FlowFormatError, match="header lacks column"):
        read_nfstream_csv(write(tmp_path, [HEADER.replace("dst2src_bytes", "x"), ROWS[0]]))
