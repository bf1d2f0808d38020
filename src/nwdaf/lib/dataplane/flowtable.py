"""Bounded flow table: slot allocation, inactivity/TCP-close expiry and LRU eviction.

Flows that end (idle timeout, TCP FIN in both directions or RST, or eviction when the table is
full) are moved to a "retired" store so that the next period report still carries their usage.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

from nwdaf.lib.dataplane.apps import app_ids
from nwdaf.lib.dataplane.batch import TCP_FIN, TCP_RST
from nwdaf.lib.dataplane.counters import Counters
from nwdaf.lib.dataplane.flows import FlowIndex, FlowKeys

I64 = NDArray[np.int64]


class FlowEnd(IntEnum):
    """Why a flow left the table (ACTIVE = still tracked)."""

    ACTIVE = 0
    IDLE = 1
    TCP_FIN = 2
    TCP_RST = 3
    EVICTED = 4


@dataclass
class FlowState:
    """Per-flow attributes besides the counters (rows aligned with counter slots)."""

    keys: NDArray[np.uint64]
    app: NDArray[np.uint8]
    flags: NDArray[np.uint8]
    fin: NDArray[np.uint8]
    end: NDArray[np.uint8]
    app_slot: NDArray[np.int64]  # 1 + the flow's (session, application) counter slot; 0 = not yet known

    @classmethod
    def zeros(cls, n: int) -> FlowState:
        return cls(np.zeros((n, 5), np.uint64), np.zeros(n, np.uint8), np.zeros(n, np.uint8),
                   np.zeros(n, np.uint8), np.zeros(n, np.uint8), np.zeros(n, np.int64))

    def extend(self, extra: int) -> None:
        for name, col in vars(self).items():
            setattr(self, name, np.concatenate([col, np.zeros((extra, *col.shape[1:]), col.dtype)]))

    def copy_rows(self, src: FlowState, src_slots: I64, dst_slots: I64) -> None:
        for name in vars(self):
            getattr(self, name)[dst_slots] = getattr(src, name)[src_slots]


class FlowTable:
    """Live flows (at most ``max_flows``) plus the flows retired since the last report."""

    def __init__(self, bin_ns: int, max_flows: int, idle_timeout_ns: int, hash_fn: object = None) -> None:
        if max_flows < 2:
            raise ValueError("max_flows must be >= 2")
        self.max_flows = max_flows
        self.idle_timeout_ns = idle_timeout_ns
        cap = min(max_flows, 4096)
        self.counters = Counters(bin_ns, cap)
        self.state = FlowState.zeros(cap)
        self.index = FlowIndex(hash_fn)
        self.index.grow(cap)
        self.live = np.zeros(cap, np.bool_)
        self.free: list[int] = list(range(cap - 1, -1, -1))
        self.retired_counters = Counters(bin_ns, 64)
        self.retired = FlowState.zeros(64)
        self.n_retired = 0
        self.expired_flows = 0
        self.evicted_flows = 0

    @property
    def live_count(self) -> int:
        return int(self.live.sum())

    def ingest(self, keys: FlowKeys, ts_ns: I64, length: NDArray[np.uint32], ul: NDArray[np.bool_],
               tcp_flags: NDArray[np.uint8]) -> I64:
        """Account packets into their flows (creating them); returns the slot of every packet."""
        slot, slow, hashes = self.index.resolve(keys)
        new = np.flatnonzero(slot < 0)
        new = np.setdiff1d(new, slow, assume_unique=True)
        if len(new):
            uniq, first, inv = np.unique(hashes[new], return_index=True, return_inverse=True)
            slots = self._alloc(len(uniq), protect=slot[slot >= 0])
            rows = new[first]
            self._create(slots, keys.take(rows), hashes[rows], overflow=False)
            slot[new] = slots[inv]
        for row in slow.tolist():
            slot[row] = self._slow_slot(keys.take(np.array([row])), slot)
        self.counters.add(slot, ts_ns, length, ul)
        np.bitwise_or.at(self.state.flags, slot, tcp_flags)
        fin = (tcp_flags & TCP_FIN) != 0
        np.bitwise_or.at(self.state.fin, slot[fin], np.where(ul[fin], 1, 2).astype(np.uint8))
        return slot

    def _slow_slot(self, key: FlowKeys, used: I64) -> int:
        """Exact path for a key whose hash collides with another flow's."""
        packed = key.packed()
        found = self.index.overflow.get(packed[0].tobytes())
        if found is not None:
            return found
        by_hash = int(self.index.index.lookup(self.index.hash(key))[0])
        if by_hash >= 0 and np.array_equal(self.index.stored[by_hash], packed[0]):
            return by_hash
        self.index.collisions += 1
        slots = self._alloc(1, protect=used[used >= 0])
        self._create(slots, key, np.zeros(1, np.uint64), overflow=True)
        return int(slots[0])

    def _create(self, slots: I64, keys: FlowKeys, hashes: NDArray[np.uint64], overflow: bool) -> None:
        self.counters.reset(slots)
        self.state.copy_rows(FlowState.zeros(len(slots)), np.arange(len(slots)), slots)
        self.state.keys[slots] = keys.packed()
        self.state.app[slots] = app_ids(keys.proto, keys.remote_port, keys.ue_port)
        self.live[slots] = True
        self.index.add(slots, keys.packed(), hashes, overflow)

    def _alloc(self, k: int, protect: I64) -> I64:
        """``k`` free slots: from the free list, by growing, then by evicting least-recently-seen flows."""
        if len(self.free) < k and self.counters.capacity < self.max_flows:
            self._grow(min(self.max_flows, max(2 * self.counters.capacity, self.counters.capacity + k)))
        if len(self.free) < k:
            self._evict(k - len(self.free), protect)
        taken = self.free[-k:]
        del self.free[-k:]
        return np.array(taken[::-1], np.int64)

    def _grow(self, capacity: int) -> None:
        old = self.counters.capacity
        self.counters.grow(capacity)
        self.state.extend(capacity - old)
        self.index.grow(capacity)
        self.live = np.concatenate([self.live, np.zeros(capacity - old, np.bool_)])
        self.free.extend(range(capacity - 1, old - 1, -1))

    def _evict(self, k: int, protect: I64) -> None:
        last = np.where(self.live, self.counters.last_ns, np.iinfo(np.int64).max)
        last[protect] = np.iinfo(np.int64).max
        if k > int((last < np.iinfo(np.int64).max).sum()):
            raise ValueError(f"flow table full: {k} new flows in one batch exceed max_flows={self.max_flows}")
        victims = np.argpartition(last, k - 1)[:k] if k < len(last) else np.arange(len(last))
        self.evicted_flows += k
        self.retire(victims.astype(np.int64), FlowEnd.EVICTED)

    def expire(self, now_ns: int) -> int:
        """Retire idle flows and TCP flows closed by RST or FIN in both directions."""
        live = np.flatnonzero(self.live)
        last = self.counters.last_ns[live]
        idle = live[last < now_ns - self.idle_timeout_ns]
        flags = self.state.flags[live]
        rst = live[(flags & TCP_RST) != 0]
        fin = live[(self.state.fin[live] == 3) & ((flags & TCP_RST) == 0)]
        fin, idle = np.setdiff1d(fin, idle), np.setdiff1d(idle, rst)
        rst = np.setdiff1d(rst, idle)
        for slots, why in ((idle, FlowEnd.IDLE), (rst, FlowEnd.TCP_RST), (fin, FlowEnd.TCP_FIN)):
            if len(slots):
                self.retire(slots, why)
        n = len(idle) + len(rst) + len(fin)
        self.expired_flows += n
        return n

    def retire(self, slots: I64, why: FlowEnd) -> None:
        """Move flows to the retired store (reported once more) and free their slots."""
        dst = np.arange(self.n_retired, self.n_retired + len(slots))
        if dst[-1] >= self.retired_counters.capacity:
            extra = max(len(slots), self.retired_counters.capacity)
            self.retired_counters.grow(self.retired_counters.capacity + extra)
            self.retired.extend(extra)
        self.retired_counters.copy_rows(self.counters, slots, dst)
        self.retired.copy_rows(self.state, slots, dst)
        self.retired.end[dst] = why
        self.n_retired += len(slots)
        self.index.remove(slots)
        self.live[slots] = False
        self.free.extend(slots.tolist())

    def clear_retired(self) -> None:
        self.n_retired = 0
        self.retired_counters.reset(np.arange(self.retired_counters.capacity))
