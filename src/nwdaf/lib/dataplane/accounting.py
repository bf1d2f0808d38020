"""Usage accounting per flow, per PDU session and per (session, application), with period reports.

Feeds the UPF event exposure (TS 29.564): a :class:`UsageReport` holds, for one reporting period,
what USER_DATA_USAGE_MEASURES (volume and throughput measurement) and USER_DATA_USAGE_TRENDS
(throughput statistics: UL/DL average and peak bit and packet rates over sub-intervals) need, at
per-flow, per-session and per-application granularity. Records are plain numpy columns; another
layer converts them to 3GPP notification models.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from nwdaf.lib.dataplane.batch import PacketBatch
from nwdaf.lib.dataplane.counters import Counters, Measures
from nwdaf.lib.dataplane.flows import FlowKeys, KeyIndex
from nwdaf.lib.dataplane.flowtable import FlowEnd, FlowTable
from nwdaf.lib.dataplane.sessions import Direction, SessionMatch, SessionTable

I64 = NDArray[np.int64]


class AccountingConfig(BaseModel):
    """Accounting parameters: trend sub-interval, flow inactivity timeout, flow table bound."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bin_s: float = Field(1.0, gt=0, description="sub-interval for peak/average throughput trends")
    idle_timeout_s: float = Field(60.0, gt=0, description="a flow idle this long is expired")
    max_flows: int = Field(1_000_000, ge=2, description="hard cap on tracked flows (LRU eviction)")
    sweep_interval_s: float = Field(1.0, gt=0, description="how often (packet time) expiry runs")


@dataclass
class FlowUsage:
    """Per-flow records of a period (oriented from the UE; ``end`` is a :class:`FlowEnd`)."""

    session: NDArray[np.int32]
    proto: NDArray[np.uint8]
    ue_addr: NDArray[np.uint64]
    ue_port: NDArray[np.uint16]
    remote_addr: NDArray[np.uint64]
    remote_port: NDArray[np.uint16]
    app_id: NDArray[np.uint8]
    tcp_flags: NDArray[np.uint8]
    end: NDArray[np.uint8]
    total: NDArray[np.uint64]
    measures: Measures

    def __len__(self) -> int:
        return len(self.session)


@dataclass
class SessionUsage:
    """Per-session records of a period (``session`` indexes :attr:`SessionTable.sessions`)."""

    session: NDArray[np.int32]
    measures: Measures


@dataclass
class AppUsage:
    """Per (session, application) records of a period (``app_id`` indexes ``APPLICATIONS``)."""

    session: NDArray[np.int32]
    app_id: NDArray[np.uint8]
    measures: Measures


@dataclass
class UsageReport:
    """Everything measured in one reporting period ``[start_ns, end_ns)``."""

    start_ns: int
    end_ns: int
    bin_ns: int
    flows: FlowUsage
    sessions: SessionUsage
    applications: AppUsage
    counters: dict[str, int] = field(default_factory=dict)


def with_peer_downlink(batch: PacketBatch, match: SessionMatch) -> tuple[PacketBatch, SessionMatch]:
    """``batch`` and ``match`` with every UE-to-UE packet that the receiver's session lets through repeated as that
    session's downlink (:attr:`SessionMatch.peer_forwarded`), in time order (stable: a packet's uplink row comes
    before its downlink row); unchanged when there is none."""
    if match.peer is None or match.peer_forwarded is None or not match.peer_forwarded.any():
        return batch, match
    rows = np.flatnonzero(match.peer_forwarded)
    index = np.concatenate([np.arange(len(batch)), rows])
    order = np.argsort(batch.ts_ns[index], kind="stable")
    index = index[order]
    session = np.concatenate([match.session, match.peer[rows]])[order]
    direction = np.concatenate([match.direction, np.full(len(rows), Direction.DL, np.uint8)])[order]
    forwarded = np.concatenate([match.forwarded, np.ones(len(rows), np.bool_)])[order]
    dropped = np.concatenate([match.dropped, np.zeros(len(rows), np.bool_)])[order]
    copy = np.concatenate([np.zeros(len(batch), np.bool_), np.ones(len(rows), np.bool_)])[order]
    return batch.take(index), SessionMatch(session, direction, forwarded, dropped, receiver_copy=copy)


class UsageAccounting:
    """Accounts classified packets into flow, session and application counters.

    Use :meth:`process` (classify with the session table, then account) or :meth:`account`
    with an existing :class:`SessionMatch`; :meth:`snapshot_and_reset_period` closes a period.
    """

    def __init__(self, sessions: SessionTable, config: AccountingConfig | None = None, *,
                 start_ns: int | None = None, hash_fn: object = None) -> None:
        self.sessions = sessions
        self.config = config or AccountingConfig()
        self.bin_ns = max(1, int(self.config.bin_s * 1e9))
        self.flows = FlowTable(self.bin_ns, self.config.max_flows, int(self.config.idle_timeout_s * 1e9), hash_fn)
        self.by_session = Counters(self.bin_ns, 64)
        self.by_app = Counters(self.bin_ns, 64)
        self._app_index = KeyIndex()
        self._app_keys: list[int] = []
        self.period_start_ns = start_ns
        self.packets = 0
        self.bytes = 0
        self._next_sweep: int | None = None

    def process(self, batch: PacketBatch) -> SessionMatch:
        """Classify ``batch`` against the session table and account the forwarded packets (a packet between two
        UEs of this UPF as the sender's uplink and the receiver's downlink)."""
        match = self.sessions.classify(batch)
        self.account(*with_peer_downlink(batch, match))
        return match

    def account(self, batch: PacketBatch, match: SessionMatch) -> None:
        """Account the forwarded packets of ``batch`` (dropped/unmatched ones are not counted)."""
        fwd = np.flatnonzero(match.forwarded)
        if len(fwd) == 0:
            return
        if self.period_start_ns is None:
            self.period_start_ns = int(batch.ts_ns[fwd].min())
        step = max(1, self.config.max_flows // 2)
        for start in range(0, len(fwd), step):
            self._account_rows(batch, match, fwd[start:start + step])
        now = int(batch.ts_ns[fwd].max())
        if self._next_sweep is None or now >= self._next_sweep:
            self.flows.expire(now)
            self._next_sweep = now + int(self.config.sweep_interval_s * 1e9)

    def _account_rows(self, batch: PacketBatch, match: SessionMatch, rows: I64) -> None:
        ul = match.direction[rows] == Direction.UL
        session = match.session[rows]
        keys = FlowKeys(
            session=session, proto=batch.proto[rows],
            ue_addr=np.where(ul[:, None], batch.src[rows], batch.dst[rows]),
            ue_port=np.where(ul, batch.sport[rows], batch.dport[rows]),
            remote_addr=np.where(ul[:, None], batch.dst[rows], batch.src[rows]),
            remote_port=np.where(ul, batch.dport[rows], batch.sport[rows]),
        )
        ts, length = batch.ts_ns[rows], batch.length[rows]
        slot = self.flows.ingest(keys, ts, length, ul, batch.tcp_flags[rows])
        self.by_session.grow(len(self.sessions))
        self.by_session.add(session.astype(np.int64), ts, length, ul)
        cached = self.flows.state.app_slot[slot]
        need = np.flatnonzero(cached == 0)
        if len(need):
            cached[need] = self._app_slots(session[need], self.flows.state.app[slot[need]]) + 1
            self.flows.state.app_slot[slot[need]] = cached[need]
        self.by_app.add(cached - 1, ts, length, ul)
        original = rows if match.receiver_copy is None else rows[~match.receiver_copy[rows]]
        self.packets += len(original)
        self.bytes += int(batch.length[original].sum(dtype=np.uint64))

    def _app_slots(self, session: NDArray[np.int32], app: NDArray[np.uint8]) -> I64:
        key = (session.astype(np.int64).astype(np.uint64) << np.uint64(8)) | app.astype(np.uint64)
        slot = self._app_index.lookup(key)
        missing = np.unique(key[slot < 0])
        if len(missing):
            new = np.arange(len(self._app_keys), len(self._app_keys) + len(missing))
            self._app_index.insert(missing, new)
            self._app_keys.extend(missing.tolist())
            self.by_app.grow(len(self._app_keys))
            slot = self._app_index.lookup(key)
        return slot

    def snapshot_and_reset_period(self, now_ns: int) -> UsageReport:
        """Close the current period at ``now_ns``: report it and start the next one."""
        start = self.period_start_ns if self.period_start_ns is not None else now_ns
        if now_ns < start:
            raise ValueError(f"now_ns {now_ns} is before the period start {start}")
        self.flows.expire(now_ns)
        period = max(now_ns - start, 1)
        report = UsageReport(
            start_ns=start, end_ns=now_ns, bin_ns=self.bin_ns, flows=self._flow_usage(period),
            sessions=self._session_usage(period), applications=self._app_usage(period),
            counters=self._counter_values(),
        )
        self.flows.clear_retired()
        for c in (self.flows.counters, self.by_session, self.by_app):
            c.new_period()
        self.period_start_ns = now_ns
        return report

    def _counter_values(self) -> dict[str, int]:
        return {
            "packets": self.packets, "bytes": self.bytes, "live_flows": self.flows.live_count,
            "expired_flows": self.flows.expired_flows, "evicted_flows": self.flows.evicted_flows,
            "hash_collisions": self.flows.index.collisions, "unmatched_packets": self.sessions.unmatched_packets,
            "unmatched_bytes": self.sessions.unmatched_bytes,
            "dropped_packets": sum(s.dropped_packets for s in self.sessions.sessions),
            "dropped_bytes": sum(s.dropped_bytes for s in self.sessions.sessions),
        }

    def _flow_usage(self, period_ns: int) -> FlowUsage:
        live = self.flows.counters.active_in_period()
        live = live[self.flows.live[live]]
        retired = np.arange(self.flows.n_retired)
        parts = [(self.flows.counters, self.flows.state, live), (self.flows.retired_counters, self.flows.retired,
                                                                  retired)]
        m = [c.measures(s, period_ns) for c, _, s in parts]
        keys = FlowKeys.unpack(np.concatenate([st.keys[s] for _, st, s in parts]))
        end = np.concatenate([np.full(len(live), FlowEnd.ACTIVE, np.uint8), self.flows.retired.end[retired]])
        return FlowUsage(
            session=keys.session, proto=keys.proto, ue_addr=keys.ue_addr, ue_port=keys.ue_port,
            remote_addr=keys.remote_addr, remote_port=keys.remote_port,
            app_id=np.concatenate([st.app[s] for _, st, s in parts]),
            tcp_flags=np.concatenate([st.flags[s] for _, st, s in parts]), end=end,
            total=np.concatenate([c.total[s] for c, _, s in parts]), measures=_concat_measures(m),
        )

    def _session_usage(self, period_ns: int) -> SessionUsage:
        slots = self.by_session.active_in_period()
        return SessionUsage(slots.astype(np.int32), self.by_session.measures(slots, period_ns))

    def _app_usage(self, period_ns: int) -> AppUsage:
        slots = self.by_app.active_in_period()
        keys = np.array(self._app_keys, np.uint64)[slots] if len(slots) else np.zeros(0, np.uint64)
        return AppUsage((keys >> np.uint64(8)).astype(np.int32), (keys & np.uint64(0xFF)).astype(np.uint8),
                        self.by_app.measures(slots, period_ns))


def _concat_measures(parts: list[Measures]) -> Measures:
    names = Measures.__dataclass_fields__
    return Measures(**{n: np.concatenate([getattr(p, n) for p in parts]) for n in names})
