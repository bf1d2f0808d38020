"""Crafted frames (Scapy) -> pcap file -> the real reader -> session classification -> the real accounting.

Covers the accounting paths the list-built batches of ``test_dataplane_accounting`` cannot: IPv6 (prefix sessions,
extension headers), 802.1Q / 802.1ad VLAN tags and GTP-U encapsulated N3 traffic with and without extension
headers. Every expected value is computed by hand from the header sizes (noted beside each frame); volumes are IP
lengths, of the inner packet for GTP-U.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scapy.contrib.gtp import GTP_U_Header, GTPEchoRequest, GTPHeader, GTPPDUSessionContainer
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, IPv6, IPv6ExtHdrHopByHop
from scapy.layers.l2 import Dot1AD, Dot1Q, Ether
from scapy.utils import wrpcap

from nwdaf.lib.dataplane import APPLICATIONS, PcapReader, SessionTable, UsageAccounting, UsageReport, format_ips
from nwdaf.lib.dataplane.counters import Measures

pytestmark = pytest.mark.unit

T0_S = 1_700_000_000
Volumes = tuple[int, int, int, int]
"""(UL bytes, DL bytes, UL packets, DL packets)."""


def _capture(tmp_path: Path, frames: list[Any]) -> Path:
    """Ethernet frames 10 ms apart in a classic pcap written by Scapy (not by the project's writer)."""
    pkts = [Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / f for f in frames]
    for i, p in enumerate(pkts):
        p.time = T0_S + i / 100
    path = tmp_path / "crafted.pcap"
    wrpcap(str(path), pkts)
    return path


def _account(path: Path, table: SessionTable) -> tuple[UsageReport, PcapReader]:
    reader = PcapReader(path)
    acc = UsageAccounting(table, start_ns=T0_S * 10**9)
    for batch in reader:
        acc.process(batch)
    return acc.snapshot_and_reset_period((T0_S + 10) * 10**9), reader


def _v(m: Measures, i: int) -> Volumes:
    return int(m.ul_bytes[i]), int(m.dl_bytes[i]), int(m.ul_packets[i]), int(m.dl_packets[i])


def _flows(r: UsageReport) -> dict[tuple[str, int, str, int, int], tuple[str, Volumes]]:
    f = r.flows
    ue, remote = format_ips(f.ue_addr), format_ips(f.remote_addr)
    return {(ue[i], int(f.ue_port[i]), remote[i], int(f.remote_port[i]), int(f.proto[i])):
            (APPLICATIONS[int(f.app_id[i])], _v(f.measures, i)) for i in range(len(f))}


def _sessions(r: UsageReport, table: SessionTable) -> dict[str, Volumes]:
    s = r.sessions
    return {table.sessions[int(idx)].supi: _v(s.measures, i) for i, idx in enumerate(s.session)}


def _apps(r: UsageReport, table: SessionTable) -> dict[tuple[str, str], Volumes]:
    a = r.applications
    return {(table.sessions[int(a.session[i])].supi, APPLICATIONS[int(a.app_id[i])]): _v(a.measures, i)
            for i in range(len(a.session))}


def test_ipv6_prefix_session_flows_and_applications(tmp_path: Path) -> None:
    ue, ue2, dns, web = "2001:db8:1:2::10", "2001:db8:1:2::11", "2001:db8::53", "2001:db8::443"
    table = SessionTable()
    table.establish("imsi-001010000000001", ue_ipv6_prefix="2001:db8:1:2::/64")
    path = _capture(tmp_path, [
        IPv6(src=ue, dst=dns) / UDP(sport=5000, dport=53) / (b"q" * 30),                  # 40+8+30 = 78
        IPv6(src=ue, dst=dns) / IPv6ExtHdrHopByHop() / UDP(sport=5000, dport=53) / (b"q" * 30),  # +8 = 86
        IPv6(src=dns, dst=ue) / UDP(sport=53, dport=5000) / (b"a" * 100),                 # 148
        IPv6(src=ue, dst=web) / TCP(sport=40000, dport=443, flags="S"),                    # 40+20 = 60
        IPv6(src=web, dst=ue) / TCP(sport=443, dport=40000, flags="SA"),                   # 60
        IPv6(src=ue, dst=web) / TCP(sport=40000, dport=443, flags="A") / (b"x" * 200),     # 260
        IPv6(src=ue, dst="2001:db8::1") / ICMPv6EchoRequest(),                             # 40+8 = 48
        IPv6(src="2001:db8::1", dst=ue) / ICMPv6EchoReply(),                               # 48
        IPv6(src=ue2, dst="2001:db8::123") / UDP(sport=6000, dport=123) / (b"t" * 48),    # 40+8+48 = 96
        IPv6(src="2001:db8::123", dst=ue2) / UDP(sport=123, dport=6000) / (b"t" * 48),    # 96
        IPv6(src="2001:db8:9::1", dst=dns) / UDP(sport=1, dport=53),                       # no session: not counted
    ])
    r, reader = _account(path, table)
    assert reader.stats.skipped_total == 0
    assert _flows(r) == {
        (ue, 5000, dns, 53, 17): ("dns", (164, 148, 2, 1)),
        (ue, 40000, web, 443, 6): ("https", (320, 60, 2, 1)),
        (ue, 0, "2001:db8::1", 0, 58): ("icmp", (48, 48, 1, 1)),
        (ue2, 6000, "2001:db8::123", 123, 17): ("ntp", (96, 96, 1, 1)),
    }
    assert _sessions(r, table) == {"imsi-001010000000001": (628, 352, 6, 4)}, "both addresses of the /64"
    assert _apps(r, table) == {
        ("imsi-001010000000001", "dns"): (164, 148, 2, 1), ("imsi-001010000000001", "https"): (320, 60, 2, 1),
        ("imsi-001010000000001", "icmp"): (48, 48, 1, 1), ("imsi-001010000000001", "ntp"): (96, 96, 1, 1)}
    assert (table.unmatched_packets, table.unmatched_bytes) == (1, 48)


def test_vlan_tagged_traffic_is_accounted_by_five_tuple(tmp_path: Path) -> None:
    a, b, web = "10.45.0.2", "10.45.0.3", "93.184.216.34"
    table = SessionTable()
    table.establish("imsi-001010000000001", ue_ipv4=a)
    table.establish("imsi-001010000000002", ue_ipv4=b)
    path = _capture(tmp_path, [
        Dot1Q(vlan=100) / IP(src=a, dst=web) / TCP(sport=40000, dport=80, flags="S"),                # 20+20 = 40
        Dot1Q(vlan=100) / IP(src=web, dst=a) / TCP(sport=80, dport=40000, flags="SA"),               # 40
        IP(src=a, dst=web) / TCP(sport=40000, dport=80, flags="A") / (b"g" * 500),                    # 540, untagged
        Dot1AD(vlan=300) / Dot1Q(vlan=42) / IP(src=b, dst="8.8.8.8") / UDP(sport=33333, dport=53) / (b"q" * 20),
        Dot1AD(vlan=300) / Dot1Q(vlan=42) / IP(src="8.8.8.8", dst=b) / UDP(sport=53, dport=33333) / (b"a" * 100),
        Dot1Q(vlan=7) / IP(src=b, dst="8.8.4.4") / ICMP(),                                            # 20+8 = 28
    ])
    r, reader = _account(path, table)
    assert reader.stats.skipped_total == 0
    assert _flows(r) == {
        (a, 40000, web, 80, 6): ("http", (580, 40, 2, 1)),
        (b, 33333, "8.8.8.8", 53, 17): ("dns", (48, 128, 1, 1)),  # QinQ: 20+8+20 = 48, 20+8+100 = 128
        (b, 0, "8.8.4.4", 0, 1): ("icmp", (28, 0, 1, 0)),
    }
    assert _sessions(r, table) == {"imsi-001010000000001": (580, 40, 2, 1), "imsi-001010000000002": (76, 128, 2, 1)}
    assert _apps(r, table) == {
        ("imsi-001010000000001", "http"): (580, 40, 2, 1), ("imsi-001010000000002", "dns"): (48, 128, 1, 1),
        ("imsi-001010000000002", "icmp"): (28, 0, 1, 0)}


def _n3(inner: Any, teid: int, *, ext: int | None = None, v6: bool = False) -> Any:
    """A G-PDU gNB <-> UPF on N3; ``ext`` is the PDU Session Container type (0 DL, 1 UL, TS 38.415)."""
    outer = (IPv6(src="2001:db8:3::1", dst="2001:db8:3::2") if v6 else IP(src="192.0.2.1", dst="192.0.2.2")) / UDP(
        sport=2152, dport=2152)
    if ext is None:
        return outer / GTP_U_Header(teid=teid) / inner
    return outer / GTP_U_Header(teid=teid, next_ex=0x85) / GTPPDUSessionContainer(type=ext, QFI=9) / inner


def test_gtpu_n3_traffic_with_and_without_extension_headers(tmp_path: Path) -> None:
    ue, ue3 = "10.45.0.2", "10.45.0.3"
    table = SessionTable()
    table.establish("imsi-001010000000001", ue_ipv4=ue, teid=0x100, dl_teid=0x200)
    table.establish("imsi-001010000000002", ue_ipv4=ue3)  # no TEIDs: matched by the inner UE address
    path = _capture(tmp_path, [
        _n3(IP(src=ue, dst="8.8.8.8") / UDP(sport=3333, dport=53) / (b"q" * 12), 0x100),                  # 40
        _n3(IP(src="8.8.8.8", dst=ue) / UDP(sport=53, dport=3333) / (b"a" * 52), 0x200, ext=0),           # 80
        _n3(IP(src=ue, dst="1.1.1.1") / TCP(sport=40000, dport=443, flags="S"), 0x100, ext=1),            # 40
        Dot1Q(vlan=3) / _n3(IP(src="1.1.1.1", dst=ue) / TCP(sport=443, dport=40000, flags="SA"), 0x200, v6=True),
        _n3(IP(src=ue, dst="1.1.1.1") / TCP(sport=40000, dport=443, flags="A") / (b"x" * 100), 0x100, ext=1),  # 140
        _n3(IP(src=ue3, dst="9.9.9.9") / UDP(sport=5000, dport=123) / (b"t" * 48), 0x999),                 # 76
        IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=2152, dport=2152) / GTPHeader(seq=1) / GTPEchoRequest(),
    ])
    r, reader = _account(path, table)
    assert dict(reader.stats.skipped) == {"gtpu_not_gpdu": 1}, "an echo request is no user traffic"
    assert _flows(r) == {
        (ue, 3333, "8.8.8.8", 53, 17): ("dns", (40, 80, 1, 1)),
        (ue, 40000, "1.1.1.1", 443, 6): ("https", (180, 40, 2, 1)),  # the SYN-ACK came over IPv6 N3 in a VLAN
        (ue3, 5000, "9.9.9.9", 123, 17): ("ntp", (76, 0, 1, 0)),
    }
    assert _sessions(r, table) == {"imsi-001010000000001": (220, 120, 3, 2), "imsi-001010000000002": (76, 0, 1, 0)}
    assert _apps(r, table) == {
        ("imsi-001010000000001", "dns"): (40, 80, 1, 1), ("imsi-001010000000001", "https"): (180, 40, 2, 1),
        ("imsi-001010000000002", "ntp"): (76, 0, 1, 0)}
    assert r.counters["unmatched_packets"] == 0
