"""Columnar packet batches and IP address helpers.

Addresses of both families share one column: an ``(n, 2)`` ``uint64`` array holding the 16-byte
IPv6 form split in two big-endian halves (``[:, 0]`` = bytes 0-7, ``[:, 1]`` = bytes 8-15).
IPv4 addresses are stored IPv4-mapped (``::ffff:a.b.c.d``, RFC 4291 §2.5.5.2), so ``hi == 0`` and
``lo == 0x0000_ffff_0000_0000 | ipv4``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numpy.typing import NDArray

PROTO_ICMP = 1
PROTO_TCP = 6
PROTO_UDP = 17
PROTO_ICMPV6 = 58

TCP_FIN = 0x01
TCP_SYN = 0x02
TCP_RST = 0x04
TCP_PSH = 0x08
TCP_ACK = 0x10

V4_MAPPED = np.uint64(0x0000_FFFF_0000_0000)
_LO32 = np.uint64(0xFFFF_FFFF)

U64 = NDArray[np.uint64]
Addr = NDArray[np.uint64]


def ip_to_pair(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> tuple[int, int]:
    """Return the ``(hi, lo)`` 64-bit halves of an IPv4 (mapped) or IPv6 address."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    value = int(ip) | (0xFFFF << 32) if ip.version == 4 else int(ip)
    return value >> 64, value & 0xFFFF_FFFF_FFFF_FFFF


def parse_ips(addresses: Iterable[str]) -> Addr:
    """Parse address strings into an ``(n, 2)`` uint64 address column."""
    pairs = [ip_to_pair(a) for a in addresses]
    out = np.zeros((len(pairs), 2), dtype=np.uint64)
    if pairs:
        out[:] = np.array(pairs, dtype=np.uint64)
    return out


def pair_to_ip(hi: int, lo: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """Inverse of :func:`ip_to_pair`: IPv4-mapped values come back as IPv4 addresses."""
    hi, lo = int(hi), int(lo)
    if hi == 0 and (lo >> 32) == 0xFFFF:
        return ipaddress.IPv4Address(lo & 0xFFFF_FFFF)
    return ipaddress.IPv6Address((hi << 64) | lo)


def format_ip(hi: int, lo: int) -> str:
    """Format one ``(hi, lo)`` address as text (dotted quad for IPv4-mapped values)."""
    return str(pair_to_ip(hi, lo))


def format_ips(column: Addr) -> list[str]:
    """Format an ``(n, 2)`` address column as a list of strings."""
    return [format_ip(int(h), int(lo)) for h, lo in column.tolist()]


def is_ipv4(column: Addr) -> NDArray[np.bool_]:
    """True where the address is IPv4-mapped."""
    out: NDArray[np.bool_] = (column[:, 0] == 0) & ((column[:, 1] >> np.uint64(32)) == np.uint64(0xFFFF))
    return out


def ipv4_u32(column: Addr) -> NDArray[np.uint32]:
    """Low 32 bits of each address (the IPv4 address for IPv4-mapped values)."""
    return (column[:, 1] & _LO32).astype(np.uint32)


def ipv4_column(values: NDArray[Any]) -> Addr:
    """Build an IPv4-mapped address column from host-order uint32 IPv4 addresses."""
    out = np.zeros((len(values), 2), dtype=np.uint64)
    out[:, 1] = V4_MAPPED | values.astype(np.uint64)
    return out


_DTYPES: dict[str, type[np.generic]] = {
    "ts_ns": np.int64,
    "src": np.uint64,
    "dst": np.uint64,
    "sport": np.uint16,
    "dport": np.uint16,
    "proto": np.uint8,
    "length": np.uint32,
    "tcp_flags": np.uint8,
    "teid": np.uint32,
    "vlan": np.uint16,
}


@dataclass(slots=True)
class PacketBatch:
    """A batch of decoded packets as parallel numpy columns (one row per packet).

    ``length`` is the IP length in bytes (of the inner packet for GTP-U), ``teid`` the GTP-U TEID
    (0 when not GTP-U) and ``vlan`` the outermost 802.1Q/802.1ad VLAN id (0 when untagged).
    Ports are 0 when absent (ICMP, non-first fragments).
    """

    ts_ns: NDArray[np.int64]
    src: Addr
    dst: Addr
    sport: NDArray[np.uint16]
    dport: NDArray[np.uint16]
    proto: NDArray[np.uint8]
    length: NDArray[np.uint32]
    tcp_flags: NDArray[np.uint8]
    teid: NDArray[np.uint32]
    vlan: NDArray[np.uint16]

    def __post_init__(self) -> None:
        n = len(self.ts_ns)
        for f in fields(self):
            col = np.asarray(getattr(self, f.name), dtype=_DTYPES[f.name])
            want = (n, 2) if f.name in ("src", "dst") else (n,)
            if col.shape != want:
                raise ValueError(f"PacketBatch.{f.name}: shape {col.shape}, expected {want}")
            setattr(self, f.name, col)

    def __len__(self) -> int:
        return len(self.ts_ns)

    @property
    def nbytes(self) -> int:
        """Total IP bytes in the batch."""
        return int(self.length.sum(dtype=np.uint64))

    @classmethod
    def empty(cls) -> PacketBatch:
        """A batch with no packets."""
        return cls.from_lists(ts_ns=[], src=[], dst=[], sport=[], dport=[], proto=[], length=[])

    @classmethod
    def from_lists(
        cls,
        *,
        ts_ns: Sequence[int],
        src: Sequence[str],
        dst: Sequence[str],
        sport: Sequence[int],
        dport: Sequence[int],
        proto: Sequence[int],
        length: Sequence[int],
        tcp_flags: Sequence[int] | None = None,
        teid: Sequence[int] | None = None,
        vlan: Sequence[int] | None = None,
    ) -> PacketBatch:
        """Build a batch from Python lists (addresses as strings); handy for tests and tools."""
        zeros = [0] * len(ts_ns)
        return cls(
            ts_ns=np.asarray(ts_ns, dtype=np.int64),
            src=parse_ips(src),
            dst=parse_ips(dst),
            sport=np.asarray(sport, dtype=np.uint16),
            dport=np.asarray(dport, dtype=np.uint16),
            proto=np.asarray(proto, dtype=np.uint8),
            length=np.asarray(length, dtype=np.uint32),
            tcp_flags=np.asarray(zeros if tcp_flags is None else tcp_flags, dtype=np.uint8),
            teid=np.asarray(zeros if teid is None else teid, dtype=np.uint32),
            vlan=np.asarray(zeros if vlan is None else vlan, dtype=np.uint16),
        )

    def take(self, index: NDArray[Any]) -> PacketBatch:
        """Rows selected by an integer index or boolean mask."""
        return PacketBatch(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def sorted_by_time(self) -> PacketBatch:
        """A copy ordered by timestamp (stable)."""
        return self.take(np.argsort(self.ts_ns, kind="stable"))

    @staticmethod
    def concat(batches: Sequence[PacketBatch]) -> PacketBatch:
        """Concatenate batches in order."""
        if not batches:
            return PacketBatch.empty()
        return PacketBatch(
            **{f.name: np.concatenate([getattr(b, f.name) for b in batches]) for f in fields(PacketBatch)}
        )

    def rows(self) -> list[dict[str, Any]]:
        """Rows as dicts with formatted addresses (slow; for debugging and tests)."""
        src, dst = format_ips(self.src), format_ips(self.dst)
        names = [f.name for f in fields(self) if f.name not in ("src", "dst")]
        cols = {name: getattr(self, name).tolist() for name in names}
        return [{"src": src[i], "dst": dst[i], **{k: v[i] for k, v in cols.items()}} for i in range(len(self))]
