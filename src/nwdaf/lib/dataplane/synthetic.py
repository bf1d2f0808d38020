"""Deterministic synthetic UE populations: benign profiles and misbehaving (labelled) UEs.

Traffic is generated per UE per 1-second tick from a generator seeded with
``(seed, ue index, tick)``, so any time window is reproducible whatever the window boundaries are
(a live loop can pull "the next second" and get the same packets as a bulk export).
Benign profiles: ``web``, ``video``, ``iot``. Attacks (ground-truth labels): ``scan`` (nmap
http-open-proxy sweep of the DN servers on ports 8080/3128/80, as the testbed's bot runs it), ``cnc``
beaconing, ``spam``, ``udp_flood``, ``icmp_flood``, ``syn_flood``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nwdaf.lib.dataplane._traffic import (
    MS,
    Packets,
    flood,
    steady_stream,
    tcp_conversation,
    tcp_refused,
    udp_exchange,
)
from nwdaf.lib.dataplane.batch import PROTO_TCP, PROTO_UDP, PacketBatch
from nwdaf.lib.dataplane.sessions import PduSession, SessionTable, Snssai
from nwdaf.lib.dataplane.writer import pcap_global_header, render_pcap_records

BENIGN_PROFILES = ("web", "video", "iot")
ATTACKS = ("scan", "cnc", "spam", "udp_flood", "icmp_flood", "syn_flood")
BENIGN = "benign"
SEC = 1_000_000_000
UE_NET = 0x0A2D0000  # 10.45.0.0/16, Open5GS's default UE pool
DN_NET = 0xC6336400  # 198.51.100.0/24 (TEST-NET-2): the 20 DN servers
INTERNET_NET = 0xCB007100  # 203.0.113.0/24 (TEST-NET-3): web, CDN, DNS, brokers, mail, C&C
DNS_SERVER = INTERNET_NET + 53
PROXY_PORTS = (8080, 3128, 80)


@dataclass(frozen=True)
class SyntheticUe:
    """One UE: benign ``profile`` and, from ``attack_start_s`` on, an optional ``attack``."""

    index: int
    supi: str
    ue_ipv4: int
    profile: str
    attack: str | None = None
    attack_start_s: float = 0.0

    @property
    def label(self) -> str:
        """Ground truth: ``"benign"`` or the attack type."""
        return self.attack or BENIGN

    @property
    def ip(self) -> str:
        return ".".join(str((self.ue_ipv4 >> s) & 0xFF) for s in (24, 16, 8, 0))

    @property
    def teid(self) -> int:
        return 0x1000 + self.index

    @property
    def dl_teid(self) -> int:
        return 0x80000 + self.index


Generator = Callable[[Packets, np.random.Generator, SyntheticUe, int], None]


def _web(out: Packets, rng: np.random.Generator, ue: SyntheticUe, t0: int) -> None:
    for _ in range(rng.poisson(0.4)):
        t = t0 + int(rng.integers(0, SEC // 2))
        udp_exchange(out, t, DNS_SERVER, int(rng.integers(20000, 60000)), 53, 40, 120)
        server = INTERNET_NET + 100 + int(rng.integers(0, 50))
        for k in range(int(rng.integers(1, 4))):
            down = [1400] * int(rng.integers(2, 30)) + [int(rng.integers(100, 1400))]
            tcp_conversation(out, rng, t + 25 * MS + k * 5 * MS, server, int(rng.integers(32768, 61000)), 443,
                             [int(rng.integers(300, 900))], down)


def _video(out: Packets, rng: np.random.Generator, ue: SyntheticUe, t0: int) -> None:
    cdn = INTERNET_NET + 200 + ue.index % 8
    proto = PROTO_UDP if ue.index % 2 else PROTO_TCP
    steady_stream(out, rng, t0, SEC, cdn, 40000 + ue.index % 20000, 443, proto, float(rng.uniform(150, 350)), 1350)


def _iot(out: Packets, rng: np.random.Generator, ue: SyntheticUe, t0: int) -> None:
    if (t0 // SEC + ue.index) % 10 == 0:
        broker, port = INTERNET_NET + 18, 50000 + ue.index % 10000
        t = t0 + int(rng.integers(0, SEC // 2))
        out.add(t + np.array([0, 40 * MS]), np.array([1, 0]), broker, port, 1883, PROTO_TCP, np.array([120, 44]),
                np.array([0x18, 0x18]))


def _scan(out: Packets, rng: np.random.Generator, ue: SyntheticUe, t0: int) -> None:
    """nmap --script http-open-proxy: SYN probes of 8080/3128/80 on the 20 DN servers."""
    for _ in range(int(rng.poisson(40))):
        server = DN_NET + 10 + int(rng.integers(0, 20))
        port = PROXY_PORTS[int(rng.integers(0, 3))]
        t, sport = t0 + int(rng.integers(0, SEC - 200 * MS)), int(rng.integers(32768, 61000))
        if port == 80 and (server - DN_NET) % 4 == 0:
            up, down = [int(rng.integers(80, 200))], [int(rng.integers(200, 600))]
            tcp_conversation(out, rng, t, server, sport, port, up, down, rtt_ms=5.0)
        else:
            tcp_refused(out, t, server, sport, port, rtt_ms=5.0)


def _cnc(out: Packets, rng: np.random.Generator, ue: SyntheticUe, t0: int) -> None:
    if (t0 // SEC + ue.index) % 5 == 0:
        server = INTERNET_NET + 66
        tcp_conversation(out, rng, t0 + int(rng.integers(0, SEC // 4)), server, int(rng.integers(32768, 61000)),
                         6667, [int(rng.integers(60, 120))], [int(rng.integers(40, 200))], rtt_ms=80.0)


def _spam(out: Packets, rng: np.random.Generator, ue: SyntheticUe, t0: int) -> None:
    for _ in range(int(rng.poisson(6))):
        mx = 0x64000000 + int(rng.integers(0, 1 << 20)) * 7
        tcp_conversation(out, rng, t0 + int(rng.integers(0, SEC // 2)), mx, int(rng.integers(32768, 61000)), 25,
                         [30, 40, 60, int(rng.integers(800, 3000)), 10], [80, 60, 40, 60, 30], rtt_ms=60.0)


def _flooder(kind: str, pps: float) -> Generator:
    def gen(out: Packets, rng: np.random.Generator, ue: SyntheticUe, t0: int) -> None:
        flood(out, rng, t0, SEC, DN_NET + 10 + ue.index % 20, kind, pps)

    return gen


GENERATORS: dict[str, Generator] = {
    "web": _web, "video": _video, "iot": _iot, "scan": _scan, "cnc": _cnc, "spam": _spam,
    "udp_flood": _flooder("udp", 2000), "icmp_flood": _flooder("icmp", 1000), "syn_flood": _flooder("syn", 2000),
}


class Scenario:
    """A seeded UE population producing time-ordered :class:`PacketBatch` windows.

    ``gtp=True`` tags uplink/downlink packets with the UE's N3 TEIDs so that written pcaps are
    GTP-U encapsulated and sessions are established with those TEIDs.
    """

    def __init__(self, ues: Sequence[SyntheticUe], *, seed: int = 0, start_s: int = 1_700_000_000,
                 gtp: bool = False) -> None:
        for ue in ues:
            if ue.profile not in GENERATORS or (ue.attack is not None and ue.attack not in ATTACKS):
                raise ValueError(f"unknown profile/attack for {ue.supi}: {ue.profile}/{ue.attack}")
        self.ues = list(ues)
        self.seed = seed
        self.start_ns = start_s * SEC
        self.gtp = gtp
        self._cache: dict[int, PacketBatch] = {}

    @classmethod
    def build(cls, *, benign: int = 10, attackers: dict[str, int] | None = None, attack_start_s: float = 0.0,
              seed: int = 0, gtp: bool = False, start_s: int = 1_700_000_000) -> Scenario:
        """``benign`` UEs cycling web/video/iot, plus ``attackers`` (attack -> count) that browse the
        web until ``attack_start_s`` (relative to the scenario start)."""
        specs: list[tuple[str, str | None]] = [(BENIGN_PROFILES[i % 3], None) for i in range(benign)]
        specs += [("web", attack) for attack, n in (attackers or {}).items() for _ in range(n)]
        ues = [SyntheticUe(i, f"imsi-00101{i + 1:010d}", UE_NET + 2 + i, profile, attack, attack_start_s)
               for i, (profile, attack) in enumerate(specs)]
        return cls(ues, seed=seed, gtp=gtp, start_s=start_s)

    def labels(self) -> dict[str, str]:
        """SUPI -> ground-truth label."""
        return {ue.supi: ue.label for ue in self.ues}

    def establish(self, table: SessionTable, *, snssai: Snssai | None = None,
                  dnn: str = "internet") -> list[PduSession]:
        """Establish one PDU session per UE (with N3 TEIDs when the scenario is GTP-U)."""
        return [table.establish(ue.supi, 1, ue_ipv4=ue.ip, snssai=snssai, dnn=dnn,
                                teid=ue.teid if self.gtp else None, dl_teid=ue.dl_teid if self.gtp else None,
                                now_ns=self.start_ns) for ue in self.ues]

    def _tick_all(self, tick: int) -> PacketBatch:
        if tick not in self._cache:
            if len(self._cache) >= 4:
                del self._cache[min(self._cache)]
            self._cache[tick] = PacketBatch.concat([self._tick(ue, tick) for ue in self.ues])
        return self._cache[tick]

    def _tick(self, ue: SyntheticUe, tick: int) -> PacketBatch:
        rng = np.random.default_rng([self.seed, ue.index, tick])
        out = Packets()
        t0 = self.start_ns + tick * SEC
        attacking = ue.attack is not None and tick >= ue.attack_start_s
        GENERATORS[ue.profile](out, rng, ue, t0)
        if attacking and ue.attack is not None:
            GENERATORS[ue.attack](out, rng, ue, t0)
        return out.batch(ue.ue_ipv4, ue.teid if self.gtp else 0, ue.dl_teid if self.gtp else 0)

    def window(self, t0_s: float, t1_s: float) -> PacketBatch:
        """All packets with ``t0_s <= t < t1_s`` (seconds from the scenario start), time-ordered."""
        if t1_s < t0_s or t0_s < 0:
            raise ValueError(f"bad window [{t0_s}, {t1_s})")
        # A tick's conversations last well under a second, so one earlier tick covers the spill-over.
        first, last = max(0, int(np.floor(t0_s)) - 1), int(np.ceil(t1_s))
        batch = PacketBatch.concat([self._tick_all(k) for k in range(first, last)])
        lo, hi = self.start_ns + int(t0_s * SEC), self.start_ns + int(t1_s * SEC)
        return batch.take(np.flatnonzero((batch.ts_ns >= lo) & (batch.ts_ns < hi))).sorted_by_time()

    def batches(self, t0_s: float, t1_s: float, step_s: float = 1.0) -> Iterator[PacketBatch]:
        """Consecutive windows of ``step_s`` seconds covering ``[t0_s, t1_s)``."""
        t = t0_s
        while t < t1_s:
            yield self.window(t, min(t + step_s, t1_s))
            t += step_s

    def write_pcap(self, path: str | Path, t0_s: float, t1_s: float, *, snaplen: int = 128) -> int:
        """Write ``[t0_s, t1_s)`` as a pcap (Ethernet; GTP-U encapsulated when ``gtp``)."""
        with open(path, "wb") as fh:
            fh.write(pcap_global_header(1, snaplen=snaplen))
            count = 0
            for batch in self.batches(t0_s, t1_s, 1.0):
                fh.write(render_pcap_records(batch, snaplen=snaplen))
                count += len(batch)
        return count
