"""Vectorised header decoding: frames in a byte buffer -> :class:`PacketBatch`.

Every field is gathered for the whole batch at computed offsets with numpy fancy indexing; there
is no per-packet Python code. Layers: link (Ethernet + 802.1Q/802.1ad stacks, Linux SLL/SLL2, raw
IP, BSD null/loopback) -> IPv4/IPv6 (+ extension headers) -> TCP/UDP/ICMP -> GTP-U (N3, TS 29.281)
-> inner IP/L4. Frames that cannot be decoded get a skip reason instead of a row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from nwdaf.lib.dataplane.batch import V4_MAPPED, PacketBatch

I64 = NDArray[np.int64]
Mask = NDArray[np.bool_]

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW_BSD = 12
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276
SUPPORTED_LINKTYPES = frozenset(
    {LINKTYPE_NULL, LINKTYPE_ETHERNET, LINKTYPE_RAW_BSD, LINKTYPE_RAW, LINKTYPE_LOOP,
     LINKTYPE_LINUX_SLL, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_LINUX_SLL2}
)

GTPU_PORT = 2152
ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
_VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)
_V6_EXT_8 = (0, 43, 60, 135, 139, 140)  # hop-by-hop, routing, dest opts, mobility, HIP, shim6
_V6_FRAG = 44
_V6_AH = 51

SKIP_REASONS = (
    "ok",
    "unsupported_linktype",
    "truncated_l2",
    "non_ip",
    "truncated_ip",
    "bad_ip_header",
    "truncated_l4",
    "gtpu_not_gpdu",
    "bad_gtpu",
    "gtpu_non_ip",
)
_R = {name: i for i, name in enumerate(SKIP_REASONS)}


class _Gather:
    """Big-endian field reads at vectors of offsets.

    Offsets are clamped into the buffer, so reads past the end return junk instead of failing:
    callers bound-check against each frame's captured length and discard such rows.
    """

    def __init__(self, buf: NDArray[np.uint8]) -> None:
        self.buf = buf
        self.size = len(buf)
        self._ar = {w: np.arange(w, dtype=np.int64) for w in (2, 4, 8, 14, 20, 40)}

    def block(self, off: I64, width: int) -> NDArray[np.uint8]:
        """``(k, width)`` bytes starting at each offset."""
        if self.size < width:
            return np.zeros((len(off), width), np.uint8)
        base = np.clip(off, 0, self.size - width)
        out: NDArray[np.uint8] = self.buf[base[:, None] + self._ar[width]]
        return out

    def u8(self, off: I64) -> NDArray[np.uint8]:
        return self.buf[np.clip(off, 0, max(self.size - 1, 0))] if self.size else np.zeros(len(off), np.uint8)

    def u16(self, off: I64) -> NDArray[np.uint16]:
        return be16(self.block(off, 2), 0)

    def u32(self, off: I64) -> NDArray[np.uint32]:
        return be32(self.block(off, 4), 0)

    def u64(self, off: I64) -> NDArray[np.uint64]:
        return be64(self.block(off, 8), 0)


def be16(m: NDArray[np.uint8], at: int) -> NDArray[np.uint16]:
    return np.ascontiguousarray(m[:, at:at + 2]).view(">u2").ravel().astype(np.uint16)


def be32(m: NDArray[np.uint8], at: int) -> NDArray[np.uint32]:
    return np.ascontiguousarray(m[:, at:at + 4]).view(">u4").ravel().astype(np.uint32)


def be64(m: NDArray[np.uint8], at: int) -> NDArray[np.uint64]:
    return np.ascontiguousarray(m[:, at:at + 8]).view(">u8").ravel().astype(np.uint64)


@dataclass
class _Net:
    """Per-packet decode state for one batch (all arrays length n)."""

    l3: I64
    end: I64
    ethertype: NDArray[np.int64]
    reason: NDArray[np.uint8]
    src: NDArray[np.uint64]
    dst: NDArray[np.uint64]
    proto: NDArray[np.uint8]
    length: NDArray[np.uint32]
    l4: I64
    nonfirst: Mask
    sport: NDArray[np.uint16]
    dport: NDArray[np.uint16]
    flags: NDArray[np.uint8]
    teid: NDArray[np.uint32]
    vlan: NDArray[np.uint16]

    @classmethod
    def new(cls, data_off: I64, caplen: I64) -> _Net:
        n = len(data_off)
        z64 = np.zeros(n, dtype=np.int64)
        return cls(
            l3=data_off.astype(np.int64), end=(data_off + caplen).astype(np.int64), ethertype=z64.copy(),
            reason=np.zeros(n, np.uint8), src=np.zeros((n, 2), np.uint64), dst=np.zeros((n, 2), np.uint64),
            proto=np.zeros(n, np.uint8), length=np.zeros(n, np.uint32), l4=z64.copy(),
            nonfirst=np.zeros(n, np.bool_), sport=np.zeros(n, np.uint16), dport=np.zeros(n, np.uint16),
            flags=np.zeros(n, np.uint8), teid=np.zeros(n, np.uint32), vlan=np.zeros(n, np.uint16),
        )

    def fail(self, idx: I64, bad: Mask, reason: str) -> I64:
        """Mark ``idx[bad]`` with ``reason`` (first reason wins) and return the surviving indices."""
        hit = idx[bad]
        self.reason[hit] = np.where(self.reason[hit] == 0, _R[reason], self.reason[hit])
        return idx[~bad]


def _link_layer(g: _Gather, net: _Net, linktype: I64) -> None:
    """Set ``l3``/``ethertype``/``vlan`` from the link header."""
    off = net.l3.copy()
    et = net.ethertype
    for lt, hdr, et_at in ((LINKTYPE_ETHERNET, 14, 12), (LINKTYPE_LINUX_SLL, 16, 14), (LINKTYPE_LINUX_SLL2, 20, 0)):
        idx = np.flatnonzero(linktype == lt)
        idx = net.fail(idx, off[idx] + hdr > net.end[idx], "truncated_l2")
        et[idx] = g.u16(off[idx] + et_at)
        net.l3[idx] = off[idx] + hdr
    raw = np.flatnonzero(np.isin(linktype, (LINKTYPE_RAW, LINKTYPE_RAW_BSD)))
    nib = g.u8(off[raw]) >> 4
    et[raw] = np.where(nib == 4, ETH_IPV4, np.where(nib == 6, ETH_IPV6, 0))
    et[linktype == LINKTYPE_IPV4] = ETH_IPV4
    et[linktype == LINKTYPE_IPV6] = ETH_IPV6
    _null_loop(g, net, linktype)
    net.fail(np.arange(len(linktype)), ~np.isin(linktype, tuple(SUPPORTED_LINKTYPES)), "unsupported_linktype")
    _vlan_tags(g, net)


def _null_loop(g: _Gather, net: _Net, linktype: I64) -> None:
    """BSD null (host byte order of the capturing machine) and OpenBSD loop (network order) families."""
    idx = np.flatnonzero((linktype == LINKTYPE_NULL) | (linktype == LINKTYPE_LOOP))
    idx = net.fail(idx, net.l3[idx] + 4 > net.end[idx], "truncated_l2")
    be = g.u32(net.l3[idx]).astype(np.int64)
    le = be.astype(np.uint32).byteswap().astype(np.int64)
    fam = np.where(linktype[idx] == LINKTYPE_LOOP, be, np.where(be > 0xFFFF, le, be))
    # AF_INET6 is 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS); AF_INET is 2 everywhere.
    net.ethertype[idx] = np.where(fam == 2, ETH_IPV4, np.where(np.isin(fam, (24, 28, 30)), ETH_IPV6, 0))
    net.l3[idx] += 4


def _vlan_tags(g: _Gather, net: _Net) -> None:
    """Pop up to three 802.1Q / 802.1ad tags; the outermost VLAN id is kept."""
    for _ in range(3):
        idx = np.flatnonzero(np.isin(net.ethertype, _VLAN_TPIDS) & (net.reason == 0))
        if len(idx) == 0:
            return
        idx = net.fail(idx, net.l3[idx] + 4 > net.end[idx], "truncated_l2")
        vid = g.u16(net.l3[idx]) & 0x0FFF
        net.vlan[idx] = np.where(net.vlan[idx] == 0, vid, net.vlan[idx])
        net.ethertype[idx] = g.u16(net.l3[idx] + 2)
        net.l3[idx] += 4


def _ipv4(g: _Gather, net: _Net, idx: I64) -> I64:
    idx = net.fail(idx, net.l3[idx] + 20 > net.end[idx], "truncated_ip")
    l3 = net.l3[idx]
    hdr = g.block(l3, 20)
    ihl = (hdr[:, 0] & 0x0F).astype(np.int64) * 4
    bad = ((hdr[:, 0] >> 4) != 4) | (ihl < 20)
    if bad.any():
        idx, ihl, hdr, l3 = net.fail(idx, bad, "bad_ip_header"), ihl[~bad], hdr[~bad], l3[~bad]
    net.length[idx] = be16(hdr, 2)
    net.nonfirst[idx] = ((hdr[:, 6] & 0x1F) | hdr[:, 7]) != 0
    net.proto[idx] = hdr[:, 9]
    net.src[idx, 0] = 0
    net.dst[idx, 0] = 0
    net.src[idx, 1] = V4_MAPPED | be32(hdr, 12).astype(np.uint64)
    net.dst[idx, 1] = V4_MAPPED | be32(hdr, 16).astype(np.uint64)
    net.l4[idx] = l3 + ihl
    return idx


def _ipv6(g: _Gather, net: _Net, idx: I64) -> I64:
    idx = net.fail(idx, net.l3[idx] + 40 > net.end[idx], "truncated_ip")
    l3 = net.l3[idx]
    hdr = g.block(l3, 40)
    bad = (hdr[:, 0] >> 4) != 6
    if bad.any():
        idx, hdr, l3 = net.fail(idx, bad, "bad_ip_header"), hdr[~bad], l3[~bad]
    net.length[idx] = be16(hdr, 4).astype(np.uint32) + 40
    net.src[idx, 0], net.src[idx, 1] = be64(hdr, 8), be64(hdr, 16)
    net.dst[idx, 0], net.dst[idx, 1] = be64(hdr, 24), be64(hdr, 32)
    net.proto[idx] = hdr[:, 6]
    net.nonfirst[idx] = False
    net.l4[idx] = l3 + 40
    return _ipv6_extensions(g, net, idx)


def _ipv6_extensions(g: _Gather, net: _Net, idx: I64) -> I64:
    """Skip RFC 8200 §4 extension headers (up to 8 deep); the last next-header is the L4 protocol."""
    for _ in range(8):
        nh = net.proto[idx]
        ext = np.isin(nh, _V6_EXT_8) | (nh == _V6_FRAG) | (nh == _V6_AH)
        if not ext.any():
            break
        e = idx[ext]
        e_ok = net.fail(e, net.l4[e] + 8 > net.end[e], "truncated_ip")
        idx = np.sort(np.concatenate([idx[~ext], e_ok]))
        h, kind = net.l4[e_ok], net.proto[e_ok]
        hlen = np.where(kind == _V6_AH, (g.u8(h + 1).astype(np.int64) + 2) * 4,
                        np.where(kind == _V6_FRAG, 8, (g.u8(h + 1).astype(np.int64) + 1) * 8))
        frag = kind == _V6_FRAG
        net.nonfirst[e_ok[frag]] = (g.u16(h[frag] + 2) >> 3) != 0
        net.proto[e_ok] = g.u8(h)
        net.l4[e_ok] = h + hlen
    return idx


def _network_layer(g: _Gather, net: _Net, idx: I64) -> I64:
    """Decode IPv4/IPv6 for ``idx`` (by ethertype); returns rows that decoded."""
    et = net.ethertype[idx]
    other = idx[(et != ETH_IPV4) & (et != ETH_IPV6)]
    net.fail(other, np.ones(len(other), np.bool_), "non_ip")
    v4 = _ipv4(g, net, idx[et == ETH_IPV4])
    v6 = _ipv6(g, net, idx[et == ETH_IPV6])
    return v4 if len(v6) == 0 else np.sort(np.concatenate([v4, v6]))


def _transport_layer(g: _Gather, net: _Net, idx: I64) -> I64:
    """Ports and TCP flags (none for ICMP and non-first fragments)."""
    proto = net.proto[idx]
    has_ports = ((proto == 6) | (proto == 17) | (proto == 132)) & ~net.nonfirst[idx]
    p = idx[has_ports]
    l4, end = net.l4[p], net.end[p]
    bad = l4 + 4 > end
    if bad.any():
        p, l4, end = net.fail(p, bad, "truncated_l4"), l4[~bad], end[~bad]
    hdr = g.block(l4, 14)
    net.sport[p] = be16(hdr, 0)
    net.dport[p] = be16(hdr, 2)
    net.flags[p] = np.where((net.proto[p] == 6) & (l4 + 14 <= end), hdr[:, 13], 0)
    return idx[net.reason[idx] == 0] if bad.any() else idx


def _gtpu(g: _Gather, net: _Net, idx: I64) -> None:
    """Decapsulate G-PDUs (TS 29.281 §5.1): TEID, optional fields, extension header chain, inner IP."""
    gtp = idx[(net.proto[idx] == 17) & ((net.dport[idx] == GTPU_PORT) | (net.sport[idx] == GTPU_PORT))
              & ~net.nonfirst[idx]]
    h = net.l4[gtp] + 8
    flags = g.u8(h)
    # Only version 1 with PT=1 is GTP-U (TS 29.281 §5.1); anything else on port 2152 stays plain UDP.
    gtpu = (h + 8 <= net.end[gtp]) & ((flags >> 5) == 1) & ((flags & 0x10) != 0)
    gtp, h, flags = gtp[gtpu], h[gtpu], flags[gtpu]
    not_gpdu = g.u8(h + 1) != 0xFF
    gtp, h, flags = net.fail(gtp, not_gpdu, "gtpu_not_gpdu"), h[~not_gpdu], flags[~not_gpdu]
    opt = (flags & 0x07) != 0
    bad = opt & (h + 12 > net.end[gtp])
    gtp, h, flags, opt = net.fail(gtp, bad, "bad_gtpu"), h[~bad], flags[~bad], opt[~bad]
    net.teid[gtp] = g.u32(h + 4)
    inner = np.where(opt, h + 12, h + 8)
    next_ext = np.where((flags & 0x04) != 0, g.u8(h + 11), 0).astype(np.uint8)
    gtp, inner = _gtpu_extensions(g, net, gtp, inner, next_ext)
    _decode_inner(g, net, gtp, inner)


def _gtpu_extensions(g: _Gather, net: _Net, gtp: I64, inner: I64, next_ext: NDArray[np.uint8]) -> tuple[I64, I64]:
    """Walk the extension header chain (length in 4-octet units, next type in the last octet)."""
    for _ in range(8):
        more = next_ext != 0
        if not more.any():
            break
        elen = g.u8(inner).astype(np.int64) * 4
        bad = more & ((elen == 0) | (inner + np.maximum(elen, 1) > net.end[gtp]))
        keep = ~bad
        net.fail(gtp, bad, "bad_gtpu")
        gtp, inner, elen, more = gtp[keep], inner[keep], elen[keep], more[keep]
        next_ext = np.where(more, g.u8(inner + elen - 1), 0)
        inner = np.where(more, inner + elen, inner)
    else:
        bad = next_ext != 0
        net.fail(gtp, bad, "bad_gtpu")
        gtp, inner = gtp[~bad], inner[~bad]
    return gtp, inner


def _decode_inner(g: _Gather, net: _Net, gtp: I64, inner: I64) -> None:
    nib = np.where(inner < net.end[gtp], g.u8(inner) >> 4, 0)
    bad = (nib != 4) & (nib != 6)
    gtp, inner, nib = net.fail(gtp, bad, "gtpu_non_ip"), inner[~bad], nib[~bad]
    net.l3[gtp] = inner
    net.ethertype[gtp] = np.where(nib == 4, ETH_IPV4, ETH_IPV6)
    net.sport[gtp] = 0
    net.dport[gtp] = 0
    net.flags[gtp] = 0
    idx = _network_layer(g, net, gtp)
    _transport_layer(g, net, idx)


def decode_frames(
    buf: NDArray[np.uint8], data_off: I64, caplen: I64, linktype: I64, ts_ns: I64
) -> tuple[PacketBatch, NDArray[np.uint8]]:
    """Decode frames at ``data_off`` (``caplen`` bytes each) of the given link types.

    Returns the decoded packets and, for every input frame, its skip reason code (index into
    :data:`SKIP_REASONS`; 0 = decoded and present in the batch, in input order).
    """
    if len(data_off) and int((data_off + caplen).max()) + 64 > len(buf):
        buf = np.concatenate([buf, np.zeros(128, np.uint8)])  # gathers near the end need whole fields
    g = _Gather(buf)
    net = _Net.new(data_off.astype(np.int64), caplen.astype(np.int64))
    _link_layer(g, net, linktype.astype(np.int64))
    idx = _network_layer(g, net, np.flatnonzero(net.reason == 0))
    idx = _transport_layer(g, net, idx)
    _gtpu(g, net, idx)
    ok = net.reason == 0
    batch = PacketBatch(
        ts_ns=ts_ns[ok], src=net.src[ok], dst=net.dst[ok], sport=net.sport[ok], dport=net.dport[ok],
        proto=net.proto[ok], length=net.length[ok], tcp_flags=net.flags[ok], teid=net.teid[ok], vlan=net.vlan[ok],
    )
    return batch, net.reason
