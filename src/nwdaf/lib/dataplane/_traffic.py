"""Traffic building blocks for the synthetic scenarios: TCP conversations, UDP exchanges, floods.

Everything is expressed from the UE's side (``ul`` = sent by the UE) and collected column-wise by
:class:`Packets`, which turns into a :class:`PacketBatch` for given UE/remote addresses.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from nwdaf.lib.dataplane.batch import (
    PROTO_ICMP,
    PROTO_TCP,
    PROTO_UDP,
    TCP_ACK,
    TCP_FIN,
    TCP_PSH,
    TCP_RST,
    TCP_SYN,
    PacketBatch,
    ipv4_column,
)

I64 = NDArray[np.int64]
MS = 1_000_000
IP_TCP = 40
IP_UDP = 28
SYN, SYNACK, ACK = TCP_SYN, TCP_SYN | TCP_ACK, TCP_ACK
PSHACK, FINACK, RSTACK = TCP_PSH | TCP_ACK, TCP_FIN | TCP_ACK, TCP_RST | TCP_ACK


class Packets:
    """Column accumulator; ``add`` takes scalars or equally long arrays."""

    _COLS = ("ts", "ul", "remote", "ue_port", "remote_port", "proto", "length", "flags")

    def __init__(self) -> None:
        self.parts: dict[str, list[NDArray[np.int64]]] = {c: [] for c in self._COLS}

    def add(self, ts: I64 | int, ul: I64 | int | bool, remote: I64 | int, ue_port: I64 | int,
            remote_port: I64 | int, proto: int, length: I64 | int, flags: I64 | int = 0) -> None:
        cols = np.broadcast_arrays(*(np.asarray(v, np.int64) for v in (ts, ul, remote, ue_port, remote_port,
                                                                       proto, length, flags)))
        for name, col in zip(self._COLS, cols, strict=True):
            self.parts[name].append(np.atleast_1d(col))

    def batch(self, ue_ip: int, ul_teid: int = 0, dl_teid: int = 0) -> PacketBatch:
        """The packets as seen at the UPF for a UE with IPv4 ``ue_ip`` (TEIDs for N3 rendering)."""
        if not self.parts["ts"]:
            return PacketBatch.empty()
        c = {k: np.concatenate(v) for k, v in self.parts.items()}
        ul = c["ul"].astype(bool)
        ue = np.full(len(ul), ue_ip, np.int64)
        return PacketBatch(
            ts_ns=c["ts"], src=ipv4_column(np.where(ul, ue, c["remote"])),
            dst=ipv4_column(np.where(ul, c["remote"], ue)),
            sport=np.where(ul, c["ue_port"], c["remote_port"]), dport=np.where(ul, c["remote_port"], c["ue_port"]),
            proto=c["proto"].astype(np.uint8), length=c["length"].astype(np.uint32),
            tcp_flags=c["flags"].astype(np.uint8), teid=np.where(ul, ul_teid, dl_teid).astype(np.uint32),
            vlan=np.zeros(len(ul), np.uint16),
        )


def tcp_conversation(out: Packets, rng: np.random.Generator, t0: int, remote: int, ue_port: int, remote_port: int,
                     up: list[int], down: list[int], rtt_ms: float = 30.0) -> None:
    """Handshake, request segments ``up``, response segments ``down`` (ACKed every second), FIN close."""
    half = max(1, int(rtt_ms * MS / 2))
    rows = [(0, 1, 60, SYN), (half, 0, 60, SYNACK), (2 * half, 1, IP_TCP, ACK)]
    t = 2 * half
    for size in up:
        t += int(rng.integers(1, 3) * MS)
        rows.append((t, 1, IP_TCP + size, PSHACK))
    t += half
    for i, size in enumerate(down):
        t += int(rng.integers(0, 2) * MS) + 100_000
        rows.append((t, 0, IP_TCP + size, ACK if i < len(down) - 1 else PSHACK))
        if i % 2 == 1 or i == len(down) - 1:
            rows.append((t + half, 1, IP_TCP, ACK))
    t += 2 * half
    rows += [(t, 1, IP_TCP, FINACK), (t + half, 0, IP_TCP, FINACK), (t + 2 * half, 1, IP_TCP, ACK)]
    cols = np.array(rows, np.int64)
    out.add(t0 + cols[:, 0], cols[:, 1], remote, ue_port, remote_port, PROTO_TCP, cols[:, 2], cols[:, 3])


def tcp_refused(out: Packets, t0: int, remote: int, ue_port: int, remote_port: int, rtt_ms: float = 20.0) -> None:
    """A SYN answered by RST/ACK (closed port)."""
    out.add(t0 + np.array([0, int(rtt_ms * MS / 2)]), np.array([1, 0]), remote, ue_port, remote_port, PROTO_TCP,
            np.array([60, IP_TCP]), np.array([SYN, RSTACK]))


def udp_exchange(out: Packets, t0: int, remote: int, ue_port: int, remote_port: int, up: int, down: int,
                 rtt_ms: float = 20.0) -> None:
    """One UDP request/response (DNS-like)."""
    out.add(t0 + np.array([0, int(rtt_ms * MS)]), np.array([1, 0]), remote, ue_port, remote_port, PROTO_UDP,
            np.array([IP_UDP + up, IP_UDP + down]), 0)


def steady_stream(out: Packets, rng: np.random.Generator, t0: int, dur: int, remote: int, ue_port: int,
                  remote_port: int, proto: int, pps: float, size: int) -> None:
    """Downlink stream of ``pps`` packets/s of ``size`` bytes with an uplink ACK per two packets."""
    n = int(rng.poisson(pps * dur / 1e9))
    ts = np.sort(t0 + rng.integers(0, dur, n))
    hdr = IP_TCP if proto == PROTO_TCP else IP_UDP
    flags = ACK if proto == PROTO_TCP else 0
    out.add(ts, 0, remote, ue_port, remote_port, proto, hdr + size, flags)
    acks = ts[1::2] + 200_000
    out.add(acks, 1, remote, ue_port, remote_port, proto, hdr + (0 if proto == PROTO_TCP else 40), flags)


def flood(out: Packets, rng: np.random.Generator, t0: int, dur: int, target: int, kind: str, pps: float) -> None:
    """Uplink flood towards ``target``: ``udp``, ``icmp`` (echo requests) or ``syn``."""
    n = int(rng.poisson(pps * dur / 1e9))
    ts = np.sort(t0 + rng.integers(0, dur, n))
    sport = rng.integers(1024, 65536, n)
    if kind == "udp":
        out.add(ts, 1, target, sport, rng.integers(1, 65536, n), PROTO_UDP, IP_UDP + 512)
    elif kind == "icmp":
        out.add(ts, 1, target, 0, 0, PROTO_ICMP, 84)
    else:
        out.add(ts, 1, target, sport, 80, PROTO_TCP, 60, SYN)
        answered = rng.random(n) < 0.1
        out.add(ts[answered] + 5 * MS, 0, target, sport[answered], 80, PROTO_TCP, 60, SYNACK)
