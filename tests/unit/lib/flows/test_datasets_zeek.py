"""Zeek conn.log importer: plain Zeek TSV, the IoT-23 three-space quirk, the Slips labelled variant."""

from __future__ import annotations

from pathlib import Path

import pytest

from nwdaf.lib.flows import FlowFormatError, read_zeek_conn

pytestmark = pytest.mark.unit

FIELDS = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "service",
    "duration",
    "orig_bytes",
    "resp_bytes",
    "conn_state",
    "local_orig",
    "local_resp",
    "missed_bytes",
    "history",
    "orig_pkts",
    "orig_ip_bytes",
    "resp_pkts",
    "resp_ip_bytes",
    "tunnel_parents",
]
PREAMBLE = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", "#path\tconn"]
ROWS = [
    "1545403816.962094 C1 192.168.1.195 41040 185.244.25.235 80 tcp - 3.139211 0 0 S0 - - 0 S 3 180 0 0 -",
    "1545403848.981338 C2 192.168.1.195 41041 185.244.25.235 80 tcp http 1.477656 149 128252 SF - - 2896 "
    "ShADadttcfF 94 5525 96 139044 -",
    "1545490198.463564 C3 192.168.1.195 8 147.251.48.140 0 icmp - - - - OTH - - 0 - 1 84 0 0 (empty)",
]
LABELS = [("Benign", "-"), ("Malicious", "C&C"), ("Malicious", "PartOfAHorizontalPortScan")]


def tsv(row: str) -> str:
    return "\t".join(row.split(" "))


def write(tmp_path: Path, lines: list[str], name: str = "conn.log") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def plain_log(rows: list[str]) -> list[str]:
    return [*PREAMBLE, "#fields\t" + "\t".join(FIELDS), *rows, "#close\t2019-03-15-14-55-00"]


def iot23_log() -> list[str]:
    header = "#fields\t" + "\t".join(FIELDS) + "   label   detailed-label"
    rows = [f"{tsv(r)}   {label}   {detail}" for r, (label, detail) in zip(ROWS, LABELS, strict=True)]
    return [*PREAMBLE, header, *rows]


def test_plain_conn_log(tmp_path: Path) -> None:
    flows = read_zeek_conn(write(tmp_path, plain_log([tsv(r) for r in ROWS]))).flows
    assert flows.height == 3
    s0, sf, icmp = flows.iter_rows(named=True)
    assert s0["start_ts"] == pytest.approx(1545403816.962094)
    assert (s0["state"], s0["service"], s0["duration_s"]) == ("S0", None, pytest.approx(3.139211))
    assert (s0["pkts_fwd"], s0["pkts_bwd"], s0["pkts_total"]) == (3, 0, 3)
    assert (sf["bytes_fwd"], sf["bytes_bwd"], sf["bytes_total"]) == (5525, 139044, 144569)  # IP-level bytes
    assert sf["service"] == "http"
    assert (icmp["proto"], icmp["proto_num"], icmp["duration_s"]) == ("icmp", 1, None)
    assert flows["label"].null_count() == 3


def test_iot23_three_space_quirk_and_labels(tmp_path: Path) -> None:
    flows = read_zeek_conn(write(tmp_path, iot23_log(), "conn.log.labeled")).flows
    assert flows["label"].to_list() == ["benign", "malicious", "malicious"]
    assert flows["label_detail"].to_list() == ["Benign", "C&C", "PartOfAHorizontalPortScan"]
    assert flows["dst_port"].to_list() == [80, 80, 0]


def test_slips_detailedlabel_and_unknown(tmp_path: Path) -> None:
    header = "#fields\t" + "\t".join([*FIELDS, "label", "detailedlabel"])
    rows = [
        tsv(ROWS[0]) + "\tMalicious\tFrom_malicious-To_malicious-Malware_data_exfiltration-RemcosRAT",
        tsv(ROWS[1]) + "\tUnknown\t(empty)",
        tsv(ROWS[2]) + "\tBenign\tFrom_benign-To_benign-DHCP",
    ]
    flows = read_zeek_conn(write(tmp_path, [*PREAMBLE, header, *rows])).flows
    assert flows["label"].to_list() == ["malicious", "background", "benign"]
    assert flows["label_detail"][1] == "Unknown"


def test_malformed_rows_report_real_line_numbers(tmp_path: Path) -> None:
    bad_port = tsv(ROWS[1].replace(" 41041 ", " 70000 "))
    lines = plain_log([tsv(ROWS[0]), bad_port, tsv(ROWS[2])])
    path = write(tmp_path, lines)
    with pytest.raises(FlowFormatError, match=r"conn\.log:8: column src_port: expected a port, got '70000'"):
        read_zeek_conn(path)
    short = "\t".join(tsv(ROWS[0]).split("\t")[:5])
    bad_ts = tsv(ROWS[2].replace("1545490198.463564", "yesterday"))
    result = read_zeek_conn(write(tmp_path, plain_log([short, tsv(ROWS[1]), bad_ts])), on_error="count")
    assert result.flows.height == 1
    assert [(e.line, e.reason) for e in result.stats[0].errors] == [
        (7, "expected 21 fields, found 5"),
        (9, "column start_ts: expected epoch seconds, got 'yesterday'"),
    ]


def test_required_value_missing(tmp_path: Path) -> None:
    no_ip = tsv(ROWS[0].replace("192.168.1.195", "-"))
    with pytest.raises(FlowFormatError, match="column src_ip: missing value"):
        read_zeek_conn(write(tmp_path, plain_log([no_ip])))


def test_not_a_zeek_log(tmp_path: Path) -> None:
    with pytest.raises(FlowFormatError, match="no '#fields' header"):
        read_zeek_conn(write(tmp_path, [tsv(r) for r in ROWS]))
    missing = [*PREAMBLE, "#fields\t" + "\t".join(f for f in FIELDS if f != "proto"), tsv(ROWS[0])]
    with pytest.raises(FlowFormatError, match=r"header lacks column\(s\) \['proto'\]"):
        read_zeek_conn(write(tmp_path, missing))


def test_include_labels_false_hides_labels(tmp_path: Path) -> None:
    flows = read_zeek_conn(write(tmp_path, iot23_log()), include_labels=False).flows
    assert {"label", "label_detail"}.isdisjoint(flows.columns)
    assert flows.height == 3
