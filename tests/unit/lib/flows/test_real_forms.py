"""Forms real files hold that the importers read (not skip): Argus hex ports, ESP SPIs, every ``Dir``, ARP and LLC
rows with MAC addresses and empty ports, IPv6; Zeek ``-``/``(empty)`` and the Stratosphere 23-field labelled logs;
CICFlowMeter original columns with leading blanks, ``Infinity``/``NaN`` and empty rows."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from nwdaf.lib.flows import SkipReport, read_flows

pytestmark = pytest.mark.unit

ARGUS_HEADER = "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes,Label"
ARGUS_ROWS = [
    # proto, src, sport, dir, dst, dport -> expected (src_port, dst_port, proto_num)
    ("icmp", "147.32.84.165", "0x0303", "   ->", "147.32.80.9", "0xb01d", (0x0303, 0xB01D, 1)),
    ("icmp", "147.32.84.165", "0x0008", "  <->", "147.32.80.9", "0x2020", (8, 0x2020, 1)),
    ("esp", "147.32.84.46", "0x2020597d", "   ->", "147.32.80.13", "0x2020597d", (None, None, 50)),
    ("esp", "147.32.84.46", "", "  <?>", "147.32.80.13", "0x2020597d", (None, None, 50)),
    ("arp", "147.32.84.164", "", "  who", "147.32.84.1", "", (None, None, None)),
    ("llc", "0:1e:49:db:19:c3", "0x0042", "   ->", "1:80:c2:0:0:0", "0x0042", (0x42, 0x42, None)),
    ("ipx/spx", "0:1e:49:db:19:c3", "0x4008", "   ?>", "ff:ff:ff:ff:ff:ff", "0x0453", (0x4008, 0x453, None)),
    ("ipv6-icmp", "fe80::2c0:9fff:fe48:a1a0", "0x0087", "  <? ", "ff02::1:ff00:1", "0x0000", (0x87, 0, 58)),
    ("udp", "2001:718:1:a200::11", "53", "  <- ", "2001:db8::1", "41030", (53, 41030, 17)),
    ("tcp", "147.32.84.165", "1040", "  <?>", "64.233.183.99", "80", (1040, 80, 6)),
    ("rtp", "147.32.84.165", "1025", "  <->", "147.32.80.9", "5004", (1025, 5004, None)),
]


def argus_line(proto: str, src: str, sport: str, direction: str, dst: str, dport: str) -> str:
    return f"2011/08/18 15:47:57.983212,0.000197,{proto},{src},{sport},{direction},{dst},{dport},INT,,,2,203,64,flow=x"


def test_argus_real_forms_are_read(tmp_path: Path) -> None:
    path = tmp_path / "forms.binetflow"
    path.write_text("\n".join([ARGUS_HEADER, *(argus_line(*r[:6]) for r in ARGUS_ROWS)]) + "\n")
    skips = SkipReport(strict=True)
    flows = read_flows(f"binetflow:{path}", skips=skips)
    assert skips.skipped == 0
    assert flows.height == len(ARGUS_ROWS)
    got = list(zip(flows["src_port"].to_list(), flows["dst_port"].to_list(), flows["proto_num"].to_list(),
                   strict=True))
    assert got == [r[6] for r in ARGUS_ROWS]
    assert flows["src_ip"][5] == "0:1e:49:db:19:c3"
    assert flows["dst_ip"][7] == "ff02::1:ff00:1"


def test_argus_tcp_with_a_non_port_is_still_a_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.binetflow"
    lines = [ARGUS_HEADER, argus_line("tcp", "10.0.0.1", "0x2020597d", "->", "10.0.0.2", "80"),
             argus_line("udp", "10.0.0.1", "", "->", "10.0.0.2", "53")]
    path.write_text("\n".join(lines) + "\n")
    skips = SkipReport()
    assert read_flows(f"binetflow:{path}", skips=skips).height == 1
    assert list(skips.files[str(path)].reasons) == ["column src_port: expected a port"]
    assert read_flows(f"binetflow:{path}", skips=SkipReport())["src_port"].to_list() == [None]


ZEEK_FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration",
               "orig_bytes", "resp_bytes", "conn_state", "local_orig", "local_resp", "missed_bytes", "history",
               "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "tunnel_parents", "label", "detailedlabel"]
ZEEK_ROWS = [
    "1655071198.444458 C1 147.32.81.167 62771 40.74.108.123 443 tcp ssl 1.135424 1596 4039 SF T F 5138 ShADdaFf "
    "14 1016 16 1226 (empty) Benign Microsoft",
    "1655072341.393873 C2 218.75.6.134 8 147.32.81.167 0 icmp - 0.000006 0 0 OTH F T 0 - 2 56 0 0 (empty) "
    "Malicious External-Attack-to-Device",
    "1655072341.4 C3 fe80::1 135 ff02::1 136 icmp - - - - OTH F F 0 - 1 72 0 0 (empty) Background (empty)",
    "1655072341.5 C4 147.32.81.167 5353 224.0.0.251 5353 udp dns - - - S0 T F 0 D 1 100 0 0 (empty) Background -",
]


def test_stratosphere_23_field_labelled_log(tmp_path: Path) -> None:
    header = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", "#path\tconn",
              "#fields\t" + "\t".join(ZEEK_FIELDS), "#types\t" + "\t".join(["string"] * len(ZEEK_FIELDS))]
    path = tmp_path / "008.conn.log.labeled"
    path.write_text("\n".join([*header, *("\t".join(r.split(" ")) for r in ZEEK_ROWS), "#close\tx"]) + "\n")
    flows = read_flows(f"zeek:{path}", strict=True)
    assert flows["label"].to_list() == ["benign", "malicious", "background", "background"]
    assert flows["label_detail"].to_list() == ["Microsoft", "External-Attack-to-Device", "Background", "Background"]
    assert flows["duration_s"].to_list()[2:] == [None, None]
    assert flows["src_port"].to_list() == [62771, 8, 135, 5353]
    assert flows["bytes_total"].to_list() == [2242, 56, 72, 100]


CIC_ORIGINAL = ("Flow ID, Source IP, Source Port, Destination IP, Destination Port, Protocol, Timestamp, Flow Duration,"
                " Total Fwd Packets, Total Backward Packets,Total Length of Fwd Packets, Total Length of Bwd Packets,"
                "Flow Bytes/s, Flow Packets/s, Label")
CIC_ROWS = [
    "192.168.10.5-104.16.207.165-54865-443-6,104.16.207.165,443,192.168.10.5,54865,6,3/7/2017 8:55,3,2,0,12,0,"
    "4000000,666666.6667,BENIGN",
    "192.168.10.5-8.8.8.8-1-1-0,192.168.10.5,0,8.8.8.8,0,0,7/7/2017 3:30:00 PM,0,2,0,0,0,Infinity,Infinity,BENIGN",
    "x,172.16.0.1,33070,192.168.10.50,80,6,5/7/2017 10:14,4,1,1,0,0,NaN,NaN,DoS Hulk",
    ",,,,,,,,,,,,,,",
]


def test_cicflow_original_columns_infinity_nan_and_empty_rows(tmp_path: Path) -> None:
    path = tmp_path / "Wednesday-workingHours.pcap_ISCX.csv"
    path.write_text("\n".join([CIC_ORIGINAL, *CIC_ROWS]) + "\n")
    skips = SkipReport()
    flows = read_flows(f"cicflow:{path}", skips=skips)
    assert flows.height == 3
    assert flows["proto"].to_list() == ["tcp", "hopopt", "tcp"]
    assert flows["label"].to_list() == ["benign", "benign", "malicious"]
    assert flows["start_ts"].is_not_null().all()
    assert skips.skipped == 1
    assert skips.files[str(path)].reasons["column start_ts: missing value"].lines == [5]
    assert isinstance(flows, pl.DataFrame)


def test_zeek_iot23_tail_under_a_clean_header(tmp_path: Path) -> None:
    fields = ["ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "tunnel_parents", "label",
              "detailed-label"]
    rows = ["1545403816.9\t10.0.0.1\t41040\t10.0.0.2\t80\ttcp\t-   Malicious   DDoS",
            "1545403817.9\t10.0.0.1\t41041\t10.0.0.2\t80\ttcp\t-\tBenign\t-"]
    path = tmp_path / "conn.log.labeled"
    path.write_text("\n".join(["#separator \\x09", "#fields\t" + "\t".join(fields), *rows]) + "\n")
    flows = read_flows(f"zeek:{path}", strict=True)
    assert flows["label"].to_list() == ["malicious", "benign"]
    assert flows["label_detail"].to_list() == ["DDoS", "Benign"]
