"""PDU session table of the UPF and vectorised packet -> session classification.

A packet belongs to a session when its source (uplink) or destination (downlink) is the session's
UE IPv4 address or inside its IPv6 prefix, or, for GTP-U on N3, when it carries one of the
session's TEIDs. Packets of released sessions are dropped and counted per session, never
forwarded (the closed loop: the SMF releases a misbehaving UE's session over N4, TS 23.502 §4.3.4).

A packet from one UE to another UE of this UPF (UE-to-UE traffic, switched locally or hairpinned over N6: TS
23.501 §5.8.2.13, §5.29.4) is the uplink of the sender's session *and* the downlink of the receiver's: the
receiver's session counts it too (:attr:`SessionMatch.peer`), and it is delivered only while both sessions are
active. Counted for the sender alone, every answer a UE gives to a peer UE would be missing from that peer's flow,
and a UE that serves another (a SIP phone, a scanned host answering) would look as if its own flows got nothing
back.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from enum import IntEnum, StrEnum

import numpy as np
from numpy.typing import NDArray

from nwdaf.lib.dataplane.batch import Addr, PacketBatch, ip_to_pair, ipv4_u32, is_ipv4, pair_to_ip

UNMATCHED = -1


class Direction(IntEnum):
    """Packet direction relative to the UE."""

    NONE = 0
    UL = 1
    DL = 2


class SessionState(StrEnum):
    ACTIVE = "ACTIVE"
    RELEASED = "RELEASED"


@dataclass(frozen=True)
class Snssai:
    """S-NSSAI (TS 29.571 §5.4.4.2): slice/service type and optional 6-hex-digit differentiator."""

    sst: int
    sd: str | None = None


@dataclass
class PduSession:
    """One PDU session. ``teid`` is the UPF's N3 F-TEID (uplink G-PDUs), ``dl_teid`` the gNB's."""

    index: int
    supi: str
    pdu_session_id: int
    seid: int
    snssai: Snssai
    dnn: str
    ue_ipv4: str | None = None
    ue_ipv6_prefix: str | None = None
    teid: int | None = None
    dl_teid: int | None = None
    state: SessionState = SessionState.ACTIVE
    learned: bool = False
    established_ns: int = 0
    released_ns: int | None = None
    dropped_packets: int = 0
    dropped_bytes: int = 0

    @property
    def active(self) -> bool:
        return self.state is SessionState.ACTIVE


@dataclass
class SessionMatch:
    """Per-packet classification of a batch: session index (-1 = none) and direction."""

    session: NDArray[np.int32]
    direction: NDArray[np.uint8]
    forwarded: NDArray[np.bool_]
    """The packet's own session (its sender's for uplink) is active: the packet is accounted there."""
    dropped: NDArray[np.bool_]
    """The packet's own session is released."""
    peer: NDArray[np.int32] | None = None
    """For an uplink packet addressed to another UE of this UPF: the receiver's session (-1 otherwise); ``None``
    when the batch has no such packet."""
    peer_forwarded: NDArray[np.bool_] | None = None
    """Uplink packets to another UE that both sessions let through: accounted as that UE's downlink too."""
    receiver_copy: NDArray[np.bool_] | None = None
    """Rows that repeat a UE-to-UE packet as its receiver's downlink (set by
    :func:`nwdaf.lib.dataplane.accounting.with_peer_downlink`): accounted, not counted again as packets."""

    @property
    def delivered(self) -> NDArray[np.bool_]:
        """Packets that reach their destination: forwarded, and for UE-to-UE packets let through by the receiver's
        session too."""
        if self.peer is None or self.peer_forwarded is None:
            return self.forwarded
        return self.forwarded & ((self.peer < 0) | self.peer_forwarded)


class _Index:
    """uint64 key -> session index, as a sorted array rebuilt lazily after changes."""

    def __init__(self) -> None:
        self.map: dict[int, int] = {}
        self._keys = np.zeros(0, np.uint64)
        self._vals = np.zeros(0, np.int32)
        self._dirty = False

    def set(self, key: int, value: int) -> None:
        self.map[key] = value
        self._dirty = True

    def lookup(self, keys: NDArray[np.uint64]) -> NDArray[np.int32]:
        if self._dirty:
            items = sorted(self.map.items())
            self._keys = np.array([k for k, _ in items], np.uint64)
            self._vals = np.array([v for _, v in items], np.int32)
            self._dirty = False
        if len(self._keys) == 0:
            return np.full(len(keys), UNMATCHED, np.int32)
        pos = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        return np.where(self._keys[pos] == keys, self._vals[pos], UNMATCHED).astype(np.int32)


_PRIVATE_V4 = [(0x0A000000, 8), (0xAC100000, 12), (0xC0A80000, 16), (0x64400000, 10), (0xA9FE0000, 16),
               (0x7F000000, 8)]


def is_private(column: Addr) -> NDArray[np.bool_]:
    """RFC 1918 / RFC 6598 / link-local / loopback IPv4; ULA, link-local and loopback IPv6."""
    v4 = is_ipv4(column)
    a4 = ipv4_u32(column).astype(np.uint64)
    priv4 = np.zeros(len(column), np.bool_)
    for net, bits in _PRIVATE_V4:
        priv4 |= (a4 >> np.uint64(32 - bits)) == np.uint64(net >> (32 - bits))
    hi = column[:, 0]
    priv6 = ((hi >> np.uint64(57)) == np.uint64(0x7E)) | ((hi >> np.uint64(54)) == np.uint64(0x3FA))
    priv6 |= (hi == 0) & (column[:, 1] == 1)
    out: NDArray[np.bool_] = np.where(v4, priv4, priv6)
    return out


class SessionTable:
    """The UPF's PDU sessions with vectorised lookups.

    ``learn_sessions=True`` (pcap replay of arbitrary traffic) creates a session for every
    private/local source address that matches none, with SUPIs ``imsi-<plmn><counter>`` in order
    of first appearance; :meth:`learn` does the same for given addresses (flow dataset initiators).
    """

    def __init__(self, *, learn_sessions: bool = False, plmn: str = "00101", dnn: str = "internet",
                 snssai: Snssai | None = None) -> None:
        self.learn_sessions = learn_sessions
        self.plmn = plmn
        self.default_dnn = dnn
        self.default_snssai = snssai or Snssai(1, "000001")
        self.sessions: list[PduSession] = []
        self.unmatched_packets = 0
        self.unmatched_bytes = 0
        self._v4, self._v6, self._ul_teid, self._dl_teid = _Index(), _Index(), _Index(), _Index()
        self._active = np.zeros(0, np.bool_)
        self._next_seid = 1
        self._learned = 0
        self._by_id: dict[tuple[str, int], int] = {}
        self._by_seid: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.sessions)

    def establish(
        self,
        supi: str,
        pdu_session_id: int = 1,
        *,
        seid: int | None = None,
        ue_ipv4: str | None = None,
        ue_ipv6_prefix: str | None = None,
        snssai: Snssai | None = None,
        dnn: str | None = None,
        teid: int | None = None,
        dl_teid: int | None = None,
        now_ns: int = 0,
    ) -> PduSession:
        """Add an ACTIVE session; an address or TEID still held by an active session is a conflict."""
        if ue_ipv4 is None and ue_ipv6_prefix is None and teid is None:
            raise ValueError("a PDU session needs ue_ipv4, ue_ipv6_prefix or teid")
        keys = self._keys(ue_ipv4, ue_ipv6_prefix, teid, dl_teid)
        self._check_free(supi, pdu_session_id, seid, keys)
        session = PduSession(
            index=len(self.sessions), supi=supi, pdu_session_id=pdu_session_id,
            seid=self._next_seid if seid is None else seid, snssai=snssai or self.default_snssai,
            dnn=dnn or self.default_dnn, ue_ipv4=ue_ipv4,
            ue_ipv6_prefix=str(ipaddress.IPv6Network(ue_ipv6_prefix, strict=False)) if ue_ipv6_prefix else None,
            teid=teid, dl_teid=dl_teid, established_ns=now_ns,
        )
        self._next_seid = max(self._next_seid, session.seid) + 1
        self.sessions.append(session)
        if session.index >= len(self._active):
            self._active = np.concatenate([self._active, np.zeros(max(16, len(self._active)), np.bool_)])
        self._active[session.index] = True
        self._by_id[(supi, pdu_session_id)] = self._by_seid[session.seid] = session.index
        for index, key in keys:
            index.set(key, session.index)
        return session

    def _keys(self, ue_ipv4: str | None, ue_ipv6_prefix: str | None, teid: int | None,
              dl_teid: int | None) -> list[tuple[_Index, int]]:
        keys: list[tuple[_Index, int]] = []
        if ue_ipv4 is not None:
            keys.append((self._v4, int(ipaddress.IPv4Address(ue_ipv4))))
        if ue_ipv6_prefix is not None:
            net = ipaddress.IPv6Network(ue_ipv6_prefix, strict=False)
            if net.prefixlen != 64:
                # TS 23.501 §5.8.2.2.2: one /64 prefix is allocated per IPv6 PDU session.
                raise ValueError(f"ue_ipv6_prefix must be a /64, got /{net.prefixlen}")
            keys.append((self._v6, ip_to_pair(net.network_address)[0]))
        for index, value in ((self._ul_teid, teid), (self._dl_teid, dl_teid)):
            if value is not None:
                if not 0 < value < 2**32:
                    raise ValueError(f"TEID must be 1..2^32-1, got {value}")
                keys.append((index, value))
        return keys

    def _check_free(self, supi: str, pdu_session_id: int, seid: int | None,
                    keys: list[tuple[_Index, int]]) -> None:
        for index, key in keys:
            held = index.map.get(key)
            if held is not None and self.sessions[held].active:
                raise ValueError(f"address/TEID already used by active session {self.sessions[held].supi}")
        if (supi, pdu_session_id) in self._by_id:
            raise ValueError(f"SUPI {supi} already has an active PDU session {pdu_session_id}")
        if seid is not None and seid in self._by_seid:
            raise ValueError(f"SEID {seid} is already used by an active session")

    def find(self, *, supi: str | None = None, seid: int | None = None, ip: str | None = None,
             pdu_session_id: int | None = None) -> list[PduSession]:
        """Sessions matching every given criterion (``ip`` = UE IPv4 or an address in the prefix)."""
        if supi is None and seid is None and ip is None:
            raise ValueError("find/release needs supi, seid or ip")
        found = self.sessions
        if seid is not None and ip is None:
            found = [self.sessions[self._by_seid[seid]]] if seid in self._by_seid else []
            found += [s for s in self.sessions if s.seid == seid and not s.active]
        if ip is not None:
            idx = int(self.lookup(np.array([ip_to_pair(ip)], np.uint64))[0])
            found = [self.sessions[idx]] if idx >= 0 else []
        return [s for s in found if (supi is None or s.supi == supi) and (seid is None or s.seid == seid)
                and (pdu_session_id is None or s.pdu_session_id == pdu_session_id)]

    def release(self, *, supi: str | None = None, seid: int | None = None, ip: str | None = None,
                pdu_session_id: int | None = None, now_ns: int = 0) -> list[PduSession]:
        """Release the matching ACTIVE sessions; their later packets are dropped."""
        released = [s for s in self.find(supi=supi, seid=seid, ip=ip, pdu_session_id=pdu_session_id) if s.active]
        for s in released:
            s.state, s.released_ns = SessionState.RELEASED, now_ns
            self._active[s.index] = False
            del self._by_id[(s.supi, s.pdu_session_id)], self._by_seid[s.seid]
        return released

    def lookup(self, addresses: Addr) -> NDArray[np.int32]:
        """Session index owning each address (-1 when none)."""
        v4 = is_ipv4(addresses)
        by_v4 = self._v4.lookup(ipv4_u32(addresses).astype(np.uint64))
        by_v6 = self._v6.lookup(addresses[:, 0])
        out: NDArray[np.int32] = np.where(v4, by_v4, by_v6)
        return out

    def classify(self, batch: PacketBatch) -> SessionMatch:
        """Session and direction of every packet; updates drop and unmatched counters."""
        session, direction, by_dst = self._match(batch)
        if self.learn_sessions and (session < 0).any() and self._learn(batch, session, batch.ts_ns):
            session, direction, by_dst = self._match(batch)
        matched = session >= 0
        active = np.zeros(len(batch), np.bool_)
        active[matched] = self._active[session[matched]]
        dropped = matched & ~active
        self._count_drops(batch, session, dropped)
        self.unmatched_packets += int((~matched).sum())
        self.unmatched_bytes += int(batch.length[~matched].sum(dtype=np.uint64))
        return self._with_peers(batch, SessionMatch(session, direction, active, dropped), by_dst)

    def _with_peers(self, batch: PacketBatch, match: SessionMatch, by_dst: NDArray[np.int32]) -> SessionMatch:
        """``match`` with the receiving session (``by_dst``: the session holding each destination) of every uplink
        packet addressed to another UE (see the module docstring); a packet the sender's session forwards but the
        receiver's has released is dropped there."""
        uplink = match.forwarded & (match.direction == Direction.UL)
        peer = np.where(uplink & (by_dst != match.session), by_dst, UNMATCHED).astype(np.int32)
        to_peer = peer >= 0
        if not to_peer.any():
            return match
        peer_active = np.zeros(len(batch), np.bool_)
        peer_active[to_peer] = self._active[peer[to_peer]]
        self._count_drops(batch, peer, to_peer & ~peer_active)
        return replace(match, peer=peer, peer_forwarded=to_peer & peer_active)

    def _match(self, batch: PacketBatch) -> tuple[NDArray[np.int32], NDArray[np.uint8], NDArray[np.int32]]:
        """Session and direction of every packet, and the session holding its destination (-1: none)."""
        by_src, by_dst = self.lookup(batch.src), self.lookup(batch.dst)
        session = np.where(by_src >= 0, by_src, by_dst).astype(np.int32)
        direction = np.where(by_src >= 0, Direction.UL, np.where(by_dst >= 0, Direction.DL, Direction.NONE))
        gtp = batch.teid != 0
        if gtp.any():
            keys = batch.teid.astype(np.uint64)
            ul, dl = self._ul_teid.lookup(keys), self._dl_teid.lookup(keys)
            session = np.where(gtp & (ul >= 0), ul, np.where(gtp & (dl >= 0), dl, session)).astype(np.int32)
            direction = np.where(gtp & (ul >= 0), Direction.UL,
                                 np.where(gtp & (dl >= 0), Direction.DL, direction))
        return session, direction.astype(np.uint8), by_dst

    def _count_drops(self, batch: PacketBatch, session: NDArray[np.int32], dropped: NDArray[np.bool_]) -> None:
        if not dropped.any():
            return
        pkts = np.bincount(session[dropped], minlength=len(self.sessions))
        octets = np.bincount(session[dropped], weights=batch.length[dropped], minlength=len(self.sessions))
        for idx in np.flatnonzero(pkts):
            self.sessions[idx].dropped_packets += int(pkts[idx])
            self.sessions[idx].dropped_bytes += int(octets[idx])

    def _learn(self, batch: PacketBatch, session: NDArray[np.int32], ts_ns: NDArray[np.int64]) -> int:
        """Create sessions for unmatched private sources, in order of first appearance."""
        cand = np.flatnonzero((session < 0) & is_private(batch.src))
        return self.learn(batch.src[cand], ts_ns[cand]) if len(cand) else 0

    def learn(self, addresses: Addr, ts_ns: NDArray[np.int64]) -> int:
        """Create a learned session for every address no session holds (one per IPv4 address, one per IPv6 /64),
        in order of first appearance, established at its ``ts_ns``; returns how many were created."""
        unheld = np.flatnonzero(self.lookup(addresses) < 0)
        if len(unheld) == 0:
            return 0
        keys = addresses[unheld].copy()
        keys[~is_ipv4(keys), 1] = 0  # one session per IPv6 /64
        _, first = np.unique(keys, axis=0, return_index=True)
        for row in unheld[np.sort(first)]:
            self._learned += 1
            addr = pair_to_ip(int(addresses[row, 0]), int(addresses[row, 1]))
            supi = f"imsi-{self.plmn}{self._learned:0{15 - len(self.plmn)}d}"
            v4 = str(addr) if addr.version == 4 else None
            v6 = f"{addr}/64" if addr.version == 6 else None
            s = self.establish(supi, 1, ue_ipv4=v4, ue_ipv6_prefix=v6, now_ns=int(ts_ns[row]))
            s.learned = True
        return len(first)
