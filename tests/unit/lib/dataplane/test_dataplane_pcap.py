"""pcap / pcapng reader: every link type and protocol path, faults, both record walkers."""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import Any

import pytest
from scapy.contrib.gtp import GTP_U_Header, GTPPDUSessionContainer
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_EOL, IPOption_NOP
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop
from scapy.layers.l2 import CookedLinux, Dot1AD, Dot1Q, Ether

from nwdaf.lib.dataplane import PcapError, PcapReader, read_pcap, write_pcap, write_pcapng
from nwdaf.lib.dataplane._walkers import numba_available

pytestmark = pytest.mark.unit

WALKERS = [False, pytest.param(True, marks=pytest.mark.skipif(not numba_available(), reason="numba not installed"))]
T0 = 1_700_000_000_000_000_000


def _eth(pkt: Any) -> bytes:
    return bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / pkt)


def _read(frames: list[bytes], accelerate: bool, linktype: int = 1, **kw: Any) -> tuple[list[dict[str, Any]], Any]:
    f = io.BytesIO()
    write_pcap(f, [(T0 + i * 1000, fr) for i, fr in enumerate(frames)], linktype=linktype, **kw)
    f.seek(0)
    batch, stats = read_pcap(f, accelerate=accelerate)
    return batch.rows(), stats


def _one(frame: bytes, accelerate: bool, linktype: int = 1) -> dict[str, Any]:
    rows, stats = _read([frame], accelerate, linktype)
    assert stats.skipped_total == 0, stats.skipped
    assert len(rows) == 1
    return rows[0]


@pytest.mark.parametrize("accelerate", WALKERS)
def test_ipv4_tcp_fields(accelerate: bool) -> None:
    r = _one(_eth(IP(src="10.45.0.2", dst="93.184.216.34") / TCP(sport=40000, dport=443, flags="SA") / (b"x" * 10)),
             accelerate)
    assert r == {"src": "10.45.0.2", "dst": "93.184.216.34", "ts_ns": T0, "sport": 40000, "dport": 443,
                 "proto": 6, "length": 50, "tcp_flags": 0x12, "teid": 0, "vlan": 0}


@pytest.mark.parametrize("accelerate", WALKERS)
def test_ipv4_options_shift_transport_header(accelerate: bool) -> None:
    nop = [IPOption_NOP(), IPOption_NOP(), IPOption_NOP(), IPOption_EOL()]
    pkt = IP(src="10.0.0.1", dst="10.0.0.2", options=nop) / UDP(sport=1111, dport=53)
    r = _one(_eth(pkt), accelerate)
    assert (r["sport"], r["dport"], r["proto"], r["length"]) == (1111, 53, 17, 32)


@pytest.mark.parametrize("accelerate", WALKERS)
def test_ipv6_udp_and_icmpv6(accelerate: bool) -> None:
    rows, _ = _read([_eth(IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=5353, dport=53) / b"abcd"),
                     _eth(IPv6(src="2001:db8::2", dst="2001:db8::1") / ICMPv6EchoRequest())], accelerate)
    assert [(r["src"], r["dst"], r["proto"], r["sport"], r["dport"], r["length"]) for r in rows] == [
        ("2001:db8::1", "2001:db8::2", 17, 5353, 53, 52), ("2001:db8::2", "2001:db8::1", 58, 0, 0, 48)]


@pytest.mark.parametrize("accelerate", WALKERS)
def test_ipv6_extension_headers_are_skipped(accelerate: bool) -> None:
    pkt = IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() / TCP(
        sport=1, dport=22, flags="S")
    r = _one(_eth(pkt), accelerate)
    assert (r["proto"], r["sport"], r["dport"], r["tcp_flags"]) == (6, 1, 22, 2)


@pytest.mark.parametrize("accelerate", WALKERS)
def test_icmp_has_no_ports(accelerate: bool) -> None:
    r = _one(_eth(IP(src="10.0.0.1", dst="10.0.0.2") / ICMP()), accelerate)
    assert (r["proto"], r["sport"], r["dport"], r["length"]) == (1, 0, 0, 28)


@pytest.mark.parametrize("accelerate", WALKERS)
def test_fragments_only_first_has_ports(accelerate: bool) -> None:
    first = IP(src="10.0.0.1", dst="10.0.0.2", flags="MF", id=7) / UDP(sport=5000, dport=6000) / (b"a" * 32)
    later = IP(src="10.0.0.1", dst="10.0.0.2", frag=5, id=7, proto=17) / (b"b" * 32)
    v6_later = IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrFragment(offset=10, nh=17) / (b"c" * 16)
    rows, _ = _read([_eth(first), _eth(later), _eth(v6_later)], accelerate)
    assert [(r["proto"], r["sport"], r["dport"]) for r in rows] == [(17, 5000, 6000), (17, 0, 0), (17, 0, 0)]


@pytest.mark.parametrize("accelerate", WALKERS)
def test_vlan_stacks_keep_outer_id(accelerate: bool) -> None:
    rows, _ = _read([_eth(Dot1Q(vlan=100) / IP(src="10.0.0.1", dst="10.0.0.2") / UDP()),
                     _eth(Dot1AD(vlan=300) / Dot1Q(vlan=42) / IP(src="10.0.0.3", dst="10.0.0.4") / TCP())],
                    accelerate)
    assert [(r["vlan"], r["src"]) for r in rows] == [(100, "10.0.0.1"), (300, "10.0.0.3")]


@pytest.mark.parametrize("accelerate", WALKERS)
def test_linux_cooked_sll_and_sll2(accelerate: bool) -> None:
    sll = bytes(CookedLinux(pkttype=0, lladdrtype=1, lladdrlen=6, src=b"\x02" * 6 + b"\0\0", proto=0x0800)
                / IP(src="10.1.0.1", dst="10.1.0.2") / UDP(sport=1, dport=2))
    assert _one(sll, accelerate, linktype=113)["src"] == "10.1.0.1"
    ip6 = bytes(IPv6(src="2001:db8::7", dst="2001:db8::8") / TCP(sport=3, dport=4))
    sll2 = struct.pack(">HHIHBB8s", 0x86DD, 0, 2, 1, 0, 6, b"\x02" * 6 + b"\0\0") + ip6
    r = _one(sll2, accelerate, linktype=276)
    assert (r["src"], r["dport"]) == ("2001:db8::7", 4)


@pytest.mark.parametrize("accelerate", WALKERS)
@pytest.mark.parametrize("linktype", [101, 12, 228])
def test_raw_ipv4_link_types(accelerate: bool, linktype: int) -> None:
    r = _one(bytes(IP(src="10.2.0.1", dst="10.2.0.2") / UDP(sport=9, dport=10)), accelerate, linktype)
    assert (r["src"], r["sport"]) == ("10.2.0.1", 9)


@pytest.mark.parametrize("accelerate", WALKERS)
def test_raw_ipv6_link_type_229(accelerate: bool) -> None:
    assert _one(bytes(IPv6(src="::1", dst="::2") / UDP()), accelerate, 229)["dst"] == "::2"


@pytest.mark.parametrize("accelerate", WALKERS)
@pytest.mark.parametrize(("family", "fmt"), [(2, "<I"), (2, ">I"), (30, "<I"), (24, ">I")])
def test_null_loopback_either_byte_order(accelerate: bool, family: int, fmt: str) -> None:
    ip = IP(src="127.0.0.1", dst="127.0.0.2") / UDP() if family == 2 else IPv6(src="::1", dst="::1") / UDP()
    r = _one(struct.pack(fmt, family) + bytes(ip), accelerate, linktype=0)
    assert r["proto"] == 17


@pytest.mark.parametrize("accelerate", WALKERS)
def test_gtpu_decapsulation_with_and_without_extension_headers(accelerate: bool) -> None:
    outer = IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=2152, dport=2152)
    plain = outer / GTP_U_Header(teid=0x1234) / IP(src="10.45.0.2", dst="8.8.8.8") / UDP(sport=3333, dport=53)
    ext = outer / GTP_U_Header(teid=0xABCDEF01, next_ex=0x85) / GTPPDUSessionContainer(type=1, QFI=9) / IPv6(
        src="2001:db8:1::2", dst="2001:db8::53") / TCP(sport=4444, dport=443, flags="S")
    rows, stats = _read([_eth(plain), _eth(ext)], accelerate)
    assert stats.skipped_total == 0
    assert [(r["teid"], r["src"], r["dst"], r["proto"], r["sport"], r["dport"], r["length"]) for r in rows] == [
        (0x1234, "10.45.0.2", "8.8.8.8", 17, 3333, 53, 28),
        (0xABCDEF01, "2001:db8:1::2", "2001:db8::53", 6, 4444, 443, 60)]


@pytest.mark.parametrize("accelerate", WALKERS)
def test_unparseable_frames_are_counted_by_reason(accelerate: bool) -> None:
    arp = bytes.fromhex("ffffffffffff020000000001" "0806") + bytes(28)
    gtp_echo = _eth(IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=2152, dport=2152) / GTP_U_Header(gtp_type=1))
    short_ip = _eth(IP(src="10.0.0.1", dst="10.0.0.2") / TCP())[:14 + 12]
    short_tcp = _eth(IP(src="10.0.0.1", dst="10.0.0.2") / TCP())[:14 + 20 + 2]
    good = _eth(IP(src="10.0.0.1", dst="10.0.0.2") / UDP())
    rows, stats = _read([arp, gtp_echo, short_ip, short_tcp, bytes(8), good], accelerate)
    assert len(rows) == 1
    assert stats.records == 6
    assert dict(stats.skipped) == {"non_ip": 1, "gtpu_not_gpdu": 1, "truncated_ip": 1, "truncated_l4": 1,
                                   "truncated_l2": 1}


def test_unsupported_link_type_is_counted() -> None:
    _, stats = _read([bytes(40)], accelerate=False, linktype=105)
    assert dict(stats.skipped) == {"unsupported_linktype": 1}


@pytest.mark.parametrize("accelerate", WALKERS)
@pytest.mark.parametrize(("nanosecond", "big_endian"), [(True, False), (False, False), (True, True), (False, True)])
def test_classic_byte_orders_and_resolutions(accelerate: bool, nanosecond: bool, big_endian: bool) -> None:
    frame = _eth(IP(src="10.0.0.1", dst="10.0.0.2") / UDP())
    f = io.BytesIO()
    write_pcap(f, [(T0 + 123_456_789, frame)], nanosecond=nanosecond, big_endian=big_endian)
    f.seek(0)
    batch, _ = read_pcap(f, accelerate=accelerate)
    assert batch.ts_ns.tolist() == [T0 + (123_456_789 if nanosecond else 123_456_000)]


@pytest.mark.parametrize("accelerate", WALKERS)
@pytest.mark.parametrize("big_endian", [False, True])
def test_pcapng_interfaces_linktypes_and_resolutions(accelerate: bool, big_endian: bool) -> None:
    eth = _eth(IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=2))
    raw = bytes(IPv6(src="2001:db8::1", dst="2001:db8::2") / TCP(sport=3, dport=4))
    f = io.BytesIO()
    frames = [(0, T0 + 111_111_111, eth), (1, T0 + 222_222_222, raw), (0, T0 + 333_333_333, eth)]
    write_pcapng(f, frames, [(1, 6), (101, 9)], big_endian=big_endian)
    f.seek(0)
    batch, stats = read_pcap(f, accelerate=accelerate)
    assert stats.format == "pcapng"
    assert batch.ts_ns.tolist() == [T0 + 111_111_000, T0 + 222_222_222, T0 + 333_333_000]
    assert [r["dport"] for r in batch.rows()] == [2, 4, 2]


@pytest.mark.parametrize("accelerate", WALKERS)
def test_pcapng_new_section_and_simple_packet_block(accelerate: bool) -> None:
    frame = _eth(IP(src="10.0.0.9", dst="10.0.0.10") / UDP())
    f = io.BytesIO()
    write_pcapng(f, [(0, T0, frame)], [(1, 9)], big_endian=False)
    write_pcapng(f, [(0, T0 + 5, frame)], [(1, 9)], big_endian=True)
    spb_body = struct.pack(">I", len(frame)) + frame + b"\0" * (-len(frame) % 4)
    f.write(struct.pack(">II", 3, 12 + len(spb_body)) + spb_body + struct.pack(">I", 12 + len(spb_body)))
    f.seek(0)
    batch, stats = read_pcap(f, accelerate=accelerate)
    assert stats.records == 3
    assert batch.ts_ns.tolist() == [T0, T0 + 5, T0 + 5]  # the SPB has no timestamp: carried forward


def _drain(reader: PcapReader, sink: Any) -> None:
    for batch in reader:
        sink(batch)


def _good_file(n: int = 10) -> bytes:
    f = io.BytesIO()
    frames = [(T0 + i, _eth(IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=i + 1, dport=53))) for i in range(n)]
    write_pcap(f, frames)
    return f.getvalue()


@pytest.mark.parametrize("accelerate", WALKERS)
def test_truncated_file_yields_earlier_packets_then_raises_with_offset(accelerate: bool) -> None:
    data = _good_file(10)
    record = (len(data) - 24) // 10
    cut = data[: 24 + 7 * record + 16 + 5]
    reader = PcapReader(io.BytesIO(cut), batch_size=4, accelerate=accelerate)
    seen: list[int] = []
    with pytest.raises(PcapError) as err:
        _drain(reader, lambda b: seen.extend(b.sport.tolist()))
    assert seen == list(range(1, 8))
    offset = 24 + 7 * record
    assert err.value.offset == offset
    assert str(err.value) == f"truncated record at offset {offset}: caplen {record - 16} > 5 bytes left"


@pytest.mark.parametrize("accelerate", WALKERS)
def test_truncated_record_header_and_corrupt_caplen(accelerate: bool) -> None:
    data = _good_file(3)
    with pytest.raises(PcapError, match=r"truncated record header at offset \d+: 16 bytes needed, 3 left"):
        read_pcap(io.BytesIO(data + b"abc"), accelerate=accelerate)
    bad = bytearray(data)
    struct.pack_into("<I", bad, 24 + 8, 0x7FFFFFFF)
    with pytest.raises(PcapError, match="corrupt record at offset 24: caplen 2147483647"):
        read_pcap(io.BytesIO(bytes(bad)), accelerate=accelerate)


def test_bad_magic_and_empty_file() -> None:
    with pytest.raises(PcapError, match="bad magic 0x7f454c46 at offset 0"):
        read_pcap(io.BytesIO(b"\x7fELF" + bytes(40)))
    with pytest.raises(PcapError, match="no magic number at offset 0"):
        read_pcap(io.BytesIO(b""))


@pytest.mark.parametrize("accelerate", WALKERS)
def test_truncated_pcapng_block_reports_offset(accelerate: bool) -> None:
    f = io.BytesIO()
    frame = _eth(IP(src="10.0.0.1", dst="10.0.0.2") / UDP())
    write_pcapng(f, [(0, T0, frame), (0, T0 + 1, frame)], [(1, 9)])
    data = f.getvalue()[:-10]
    reader = PcapReader(io.BytesIO(data), accelerate=accelerate)
    got: list[int] = []
    with pytest.raises(PcapError, match=r"truncated block at offset \d+: block length \d+ > \d+ bytes left"):
        _drain(reader, lambda b: got.append(len(b)))
    assert got == [1]


@pytest.mark.parametrize("accelerate", WALKERS)
def test_small_chunks_and_batches_give_same_packets(accelerate: bool, tmp_path: Path) -> None:
    data = _good_file(50)
    path = tmp_path / "x.pcap"
    path.write_bytes(data)
    whole, _ = read_pcap(path, accelerate=accelerate)
    parts = list(PcapReader(path, batch_size=7, chunk_bytes=64, accelerate=accelerate))
    assert [len(p) for p in parts[:-1]] == [7] * (len(parts) - 1)
    assert [s for p in parts for s in p.sport.tolist()] == whole.sport.tolist()
