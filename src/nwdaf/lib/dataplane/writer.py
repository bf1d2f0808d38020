"""pcap / pcapng writers: raw frames, or a :class:`PacketBatch` rendered to Ethernet frames.

Rendering is vectorised (a header matrix filled column-wise) so multi-million-packet test and
benchmark captures are written in seconds. Payload bytes are zeros; ``snaplen`` truncates frames
like ``tcpdump -s`` (the IP length fields keep the real size). Rows with a non-zero ``teid`` are
written GTP-U encapsulated (N3, TS 29.281) with a PDU Session Container extension (TS 38.415).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from nwdaf.lib.dataplane.batch import PacketBatch, ip_to_pair, is_ipv4
from nwdaf.lib.dataplane.decode import GTPU_PORT, LINKTYPE_ETHERNET

I64 = NDArray[np.int64]
_MAX_HDR = 14 + 4 + 20 + 8 + 16 + 40 + 20
_CHUNK = 65536
_SRC_MAC = bytes.fromhex("020000000001")
_DST_MAC = bytes.fromhex("020000000002")


def _open(path: str | Path | IO[bytes]) -> tuple[IO[bytes], bool]:
    if isinstance(path, str | Path):
        return open(path, "wb"), True
    return path, False


def pcap_global_header(linktype: int, *, nanosecond: bool = True, snaplen: int = 262144,
                       big_endian: bool = False) -> bytes:
    """The 24-byte classic pcap file header."""
    magic = 0xA1B23C4D if nanosecond else 0xA1B2C3D4
    return struct.pack((">" if big_endian else "<") + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)


def write_pcap(
    path: str | Path | IO[bytes],
    packets: PacketBatch | Iterable[tuple[int, bytes]],
    *,
    linktype: int = LINKTYPE_ETHERNET,
    nanosecond: bool = True,
    snaplen: int = 262144,
    big_endian: bool = False,
    n3: tuple[str, str] = ("192.0.2.1", "192.0.2.2"),
) -> int:
    """Write a classic pcap file; returns the number of records written.

    ``packets`` is either a :class:`PacketBatch` (rendered as Ethernet frames, ``linktype`` ignored;
    ``n3`` = outer (gNB, UPF) addresses for GTP-U rows) or ``(ts_ns, frame_bytes)`` pairs of
    ``linktype`` frames.
    """
    fh, owned = _open(path)
    try:
        if isinstance(packets, PacketBatch):
            fh.write(pcap_global_header(LINKTYPE_ETHERNET, nanosecond=nanosecond, snaplen=snaplen,
                                        big_endian=big_endian))
            for start in range(0, len(packets), _CHUNK):
                part = packets.take(np.arange(start, min(start + _CHUNK, len(packets))))
                fh.write(render_pcap_records(part, snaplen=snaplen, nanosecond=nanosecond,
                                             big_endian=big_endian, n3=n3))
            return len(packets)
        fh.write(pcap_global_header(linktype, nanosecond=nanosecond, snaplen=snaplen, big_endian=big_endian))
        return _write_raw(fh, packets, nanosecond, snaplen, big_endian)
    finally:
        if owned:
            fh.close()


def _write_raw(fh: IO[bytes], frames: Iterable[tuple[int, bytes]], nano: bool, snaplen: int, big: bool) -> int:
    rec = struct.Struct((">" if big else "<") + "IIII")
    count = 0
    for ts_ns, frame in frames:
        sec, frac = divmod(int(ts_ns), 1_000_000_000)
        cap = frame[:snaplen]
        fh.write(rec.pack(sec, frac if nano else frac // 1000, len(cap), len(frame)))
        fh.write(cap)
        count += 1
    return count


def write_pcapng(
    path: str | Path | IO[bytes],
    frames: Iterable[tuple[int, int, bytes]],
    interfaces: Sequence[tuple[int, int]],
    *,
    big_endian: bool = False,
) -> int:
    """Write a pcapng file: one section, ``interfaces`` = ``(linktype, if_tsresol)`` pairs,
    ``frames`` = ``(interface_id, ts_ns, frame_bytes)`` written as Enhanced Packet Blocks."""
    e = ">" if big_endian else "<"
    fh, owned = _open(path)
    try:
        fh.write(_block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1)))
        for linktype, tsresol in interfaces:
            opts = struct.pack(e + "HHB3x", 9, 1, tsresol) + struct.pack(e + "HH", 0, 0)
            fh.write(_block(e, 1, struct.pack(e + "HHI", linktype, 0, 262144) + opts))
        count = 0
        for iface, ts_ns, frame in frames:
            ts = _to_resolution(int(ts_ns), interfaces[iface][1])
            pad = b"\0" * (-len(frame) % 4)
            body = struct.pack(e + "IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, len(frame), len(frame))
            fh.write(_block(e, 6, body + frame + pad))
            count += 1
        return count
    finally:
        if owned:
            fh.close()


def _to_resolution(ts_ns: int, tsresol: int) -> int:
    if tsresol & 0x80:
        return (ts_ns << (tsresol & 0x7F)) // 1_000_000_000
    return int(ts_ns * 10**tsresol // 1_000_000_000)


def _block(e: str, btype: int, body: bytes) -> bytes:
    blen = 12 + len(body)
    return struct.pack(e + "II", btype, blen) + body + struct.pack(e + "I", blen)


class _Hdr:
    """Header matrix under construction: one row per packet, ``pos`` = next write offset per row."""

    def __init__(self, n: int) -> None:
        self.m = np.zeros((n, _MAX_HDR), np.uint8)
        self.pos = np.zeros(n, np.int64)
        self.rows = np.arange(n)

    def put(self, rows: I64, at: I64, value: NDArray[Any] | int, width: int) -> None:
        v = np.broadcast_to(np.asarray(value, dtype=np.uint64), rows.shape)
        for k in range(width):
            self.m[rows, at + k] = ((v >> np.uint64(8 * (width - 1 - k))) & np.uint64(0xFF)).astype(np.uint8)


def render_pcap_records(b: PacketBatch, *, snaplen: int = 262144, nanosecond: bool = True, big_endian: bool = False,
                        n3: tuple[str, str] = ("192.0.2.1", "192.0.2.2")) -> bytes:
    """pcap records (no file header) of ``b`` rendered as Ethernet frames; see :func:`write_pcap`."""
    nano, big = nanosecond, big_endian
    h = _Hdr(len(b))
    _ethernet(h, b)
    gtp = np.flatnonzero(b.teid != 0)
    inner_start = _n3_outer(h, b, gtp, n3)
    ip_hlen = _ip(h, b)
    l4_hlen = _l4(h, b)
    if np.any(b.length < ip_hlen + l4_hlen):
        raise ValueError("PacketBatch.length is smaller than the IP + transport headers of some rows")
    hdr_len = h.pos
    wire = inner_start + b.length.astype(np.int64)
    cap = np.minimum(wire, snaplen)
    return _serialise(h.m, np.minimum(hdr_len, cap), cap, wire, b.ts_ns, nano, big)


def _ethernet(h: _Hdr, b: PacketBatch) -> None:
    h.m[:, 0:6] = np.frombuffer(_DST_MAC, np.uint8)
    h.m[:, 6:12] = np.frombuffer(_SRC_MAC, np.uint8)
    tagged = np.flatnonzero(b.vlan != 0)
    h.put(tagged, np.full(len(tagged), 12), 0x8100, 2)
    h.put(tagged, np.full(len(tagged), 14), b.vlan[tagged], 2)
    h.pos[:] = 12 + 4 * (b.vlan != 0)
    outer_v6 = ~is_ipv4(b.src) & (b.teid == 0)
    h.put(h.rows, h.pos, np.where(outer_v6, 0x86DD, 0x0800), 2)
    h.pos += 2


def _n3_outer(h: _Hdr, b: PacketBatch, rows: I64, n3: tuple[str, str]) -> I64:
    """Outer IPv4/UDP/GTP-U headers for ``rows``; returns the L2 + outer header length of every row."""
    start = h.pos.copy()
    at = h.pos[rows]
    inner = b.length[rows].astype(np.int64)
    gnb, upf = (ip_to_pair(a)[1] & 0xFFFFFFFF for a in n3)
    h.put(rows, at, 0x4500, 2)
    h.put(rows, at + 2, 20 + 8 + 16 + inner, 2)
    h.put(rows, at + 8, 0x4011, 2)
    h.put(rows, at + 12, gnb, 4)
    h.put(rows, at + 16, upf, 4)
    _ipv4_checksum(h, rows, at)
    h.put(rows, at + 20, GTPU_PORT, 2)
    h.put(rows, at + 22, GTPU_PORT, 2)
    h.put(rows, at + 24, 8 + 16 + inner, 2)
    g = at + 28
    h.put(rows, g, 0x34FF, 2)  # version 1, PT=1, E=1; message type 255 = G-PDU
    h.put(rows, g + 2, 8 + inner, 2)
    h.put(rows, g + 4, b.teid[rows], 4)
    h.put(rows, g + 11, 0x85, 1)  # next extension: PDU Session Container
    h.put(rows, g + 12, 0x01_10_09_00, 4)  # length 1 (x4), UL PDU SESSION INFORMATION, QFI 9, no next
    h.pos[rows] = at + 44
    start[rows] = h.pos[rows]
    return start


def _ipv4_checksum(h: _Hdr, rows: I64, at: I64) -> None:
    words = h.m[rows[:, None], at[:, None] + np.arange(20)].astype(np.uint32)
    total = (words[:, 0::2] << 8 | words[:, 1::2]).sum(axis=1)
    total = (total & 0xFFFF) + (total >> 16)
    total = (total & 0xFFFF) + (total >> 16)
    h.put(rows, at + 10, (~total) & 0xFFFF, 2)


def _ip(h: _Hdr, b: PacketBatch) -> I64:
    v4 = is_ipv4(b.src)
    r4, r6 = np.flatnonzero(v4), np.flatnonzero(~v4)
    at = h.pos[r4]
    h.put(r4, at, 0x4500, 2)
    h.put(r4, at + 2, b.length[r4], 2)
    h.put(r4, at + 8, 0x4000 | b.proto[r4].astype(np.uint64), 2)
    h.put(r4, at + 12, b.src[r4, 1] & np.uint64(0xFFFFFFFF), 4)
    h.put(r4, at + 16, b.dst[r4, 1] & np.uint64(0xFFFFFFFF), 4)
    _ipv4_checksum(h, r4, at)
    at = h.pos[r6]
    h.put(r6, at, 0x6000_0000, 4)
    h.put(r6, at + 4, b.length[r6].astype(np.int64) - 40, 2)
    h.put(r6, at + 6, (b.proto[r6].astype(np.uint64) << np.uint64(8)) | np.uint64(64), 2)
    for k, col in enumerate((b.src[r6, 0], b.src[r6, 1], b.dst[r6, 0], b.dst[r6, 1])):
        h.put(r6, at + 8 + 8 * k, col, 8)
    hlen = np.where(v4, 20, 40)
    h.pos += hlen
    return hlen


def _l4(h: _Hdr, b: PacketBatch) -> I64:
    hlen = np.select([b.proto == 6, np.isin(b.proto, (17, 1, 58))], [20, 8], 0).astype(np.int64)
    ported = np.flatnonzero(np.isin(b.proto, (6, 17)))
    h.put(ported, h.pos[ported], b.sport[ported], 2)
    h.put(ported, h.pos[ported] + 2, b.dport[ported], 2)
    tcp = np.flatnonzero(b.proto == 6)
    h.put(tcp, h.pos[tcp] + 12, 0x50, 1)
    h.put(tcp, h.pos[tcp] + 13, b.tcp_flags[tcp], 1)
    h.put(tcp, h.pos[tcp] + 14, 0xFFFF, 2)
    udp = np.flatnonzero(b.proto == 17)
    ip_hlen = np.where(is_ipv4(b.src), 20, 40)
    h.put(udp, h.pos[udp] + 4, b.length[udp].astype(np.int64) - ip_hlen[udp], 2)
    icmp = np.flatnonzero(np.isin(b.proto, (1, 58)))
    h.put(icmp, h.pos[icmp], np.where(b.proto[icmp] == 1, 0x0800, 0x8000), 2)  # echo request
    h.pos += hlen
    return hlen


def _serialise(m: NDArray[np.uint8], hcap: I64, cap: I64, wire: I64, ts_ns: NDArray[np.int64], nano: bool,
               big: bool) -> bytes:
    rec_len = 16 + cap
    rec_off = np.concatenate([[0], np.cumsum(rec_len)[:-1]]).astype(np.int64)
    out = np.zeros(int(rec_len.sum()), np.uint8)
    sec, frac = np.divmod(ts_ns, 1_000_000_000)
    words = np.stack([sec, frac if nano else frac // 1000, cap, wire], axis=1).astype(">u4" if big else "<u4")
    out[(rec_off[:, None] + np.arange(16)).ravel()] = words.view(np.uint8).ravel()
    cols = np.arange(m.shape[1])
    mask = cols[None, :] < hcap[:, None]
    out[(rec_off[:, None] + 16 + cols[None, :])[mask]] = m[mask]
    return out.tobytes()
