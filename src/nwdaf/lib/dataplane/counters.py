"""Volume, throughput and trend counters for dense integer slots (flows, sessions, applications).

Per slot: totals since creation, counters of the current reporting period, and the open
sub-interval ("bin") with the period's peak bin, which gives the throughput statistics of
TS 29.564 §6.1.6.2 (average and peak UL/DL throughput and packet throughput). Columns of the
4-wide matrices are ``[ul_bytes, dl_bytes, ul_packets, dl_packets]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

I64 = NDArray[np.int64]
U64 = NDArray[np.uint64]
NEVER = np.iinfo(np.int64).min


def group_sums(slot: I64, values: NDArray[np.float64]) -> tuple[I64, I64, U64]:
    """Unique slots, the inverse map and per-slot column sums of ``values`` (k, 4)."""
    uniq, inv = np.unique(slot, return_inverse=True)
    sums = np.stack([np.bincount(inv, weights=values[:, c], minlength=len(uniq)) for c in range(4)], 1)
    return uniq, inv, sums.astype(np.uint64)


@dataclass
class Measures:
    """Measurement columns of one granularity for one period (a row per entity)."""

    ul_bytes: U64
    dl_bytes: U64
    ul_packets: U64
    dl_packets: U64
    ul_bps: NDArray[np.float64]
    dl_bps: NDArray[np.float64]
    ul_pps: NDArray[np.float64]
    dl_pps: NDArray[np.float64]
    ul_avg_bps: NDArray[np.float64]
    dl_avg_bps: NDArray[np.float64]
    ul_avg_pps: NDArray[np.float64]
    dl_avg_pps: NDArray[np.float64]
    ul_peak_bps: NDArray[np.float64]
    dl_peak_bps: NDArray[np.float64]
    ul_peak_pps: NDArray[np.float64]
    dl_peak_pps: NDArray[np.float64]
    first_seen_ns: I64
    last_seen_ns: I64

    def __len__(self) -> int:
        return len(self.ul_bytes)


class Counters:
    """Growable per-slot counters with sub-interval bins of ``bin_ns``."""

    def __init__(self, bin_ns: int, capacity: int = 1024) -> None:
        self.bin_ns = bin_ns
        self.total = np.zeros((capacity, 4), np.uint64)
        self.period = np.zeros((capacity, 4), np.uint64)
        self.bin = np.zeros((capacity, 4), np.uint64)
        self.peak = np.zeros((capacity, 4), np.uint64)
        self.cur_bin = np.full(capacity, NEVER, np.int64)
        self.first_bin = np.full(capacity, NEVER, np.int64)
        self.first_ns = np.full(capacity, NEVER, np.int64)
        self.last_ns = np.full(capacity, NEVER, np.int64)

    @property
    def capacity(self) -> int:
        return len(self.cur_bin)

    def grow(self, needed: int) -> None:
        """Make room for slot ids below ``needed``."""
        if needed <= self.capacity:
            return
        extra = max(needed, 2 * self.capacity) - self.capacity
        for name in ("total", "period", "bin", "peak"):
            setattr(self, name, np.concatenate([getattr(self, name), np.zeros((extra, 4), np.uint64)]))
        for name in ("cur_bin", "first_bin", "first_ns", "last_ns"):
            setattr(self, name, np.concatenate([getattr(self, name), np.full(extra, NEVER, np.int64)]))

    def reset(self, slots: I64) -> None:
        """Forget the given slots (reused for a new entity)."""
        for name in ("total", "period", "bin", "peak"):
            getattr(self, name)[slots] = 0
        for name in ("cur_bin", "first_bin", "first_ns", "last_ns"):
            getattr(self, name)[slots] = NEVER

    def add(self, slot: I64, ts_ns: I64, length: NDArray[np.uint32], ul: NDArray[np.bool_]) -> None:
        """Account packets (``slot`` per packet) into totals, period counters and bins."""
        if len(slot) == 0:
            return
        length_f = length.astype(np.float64)
        values = np.stack([length_f * ul, length_f * ~ul, ul.astype(np.float64), (~ul).astype(np.float64)], 1)
        bins = np.maximum(ts_ns // self.bin_ns, self.cur_bin[slot])  # late packets count in the open bin
        b0 = int(bins.min())
        width = int(bins.max()) - b0 + 1
        # One sort groups packets by (slot, bin); slot-level sums are reductions over those groups.
        ukey, inv, sums = group_sums(slot * width + (bins - b0), values)
        t_min = np.full(len(ukey), np.iinfo(np.int64).max, np.int64)
        t_max = np.full(len(ukey), NEVER, np.int64)
        np.minimum.at(t_min, inv, ts_ns)
        np.maximum.at(t_max, inv, ts_ns)
        gs, gb = ukey // width, ukey % width + b0
        start = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]])
        uniq = gs[start]
        per_slot = np.add.reduceat(sums, start, axis=0)
        self.total[uniq] += per_slot
        self.period[uniq] += per_slot
        first = np.minimum.reduceat(t_min, start)
        self.first_ns[uniq] = np.where(self.first_ns[uniq] == NEVER, first, self.first_ns[uniq])
        self.last_ns[uniq] = np.maximum(self.last_ns[uniq], np.maximum.reduceat(t_max, start))
        self._add_bins(gs, gb, sums, start)

    def _add_bins(self, gs: I64, gb: I64, sums: U64, start: I64) -> None:
        """Merge (slot, bin) group sums into the open bin; bins that closed update the peak."""
        first_of_slot = np.zeros(len(gs), np.bool_)
        first_of_slot[start] = True
        last_of_slot = np.r_[first_of_slot[1:], True]
        f_slots = gs[start]
        same = gb[start] == self.cur_bin[f_slots]
        sums[start[same]] += self.bin[f_slots[same]]
        closed_old = f_slots[~same]
        self.peak[closed_old] = np.maximum(self.peak[closed_old], self.bin[closed_old])
        self.first_bin[f_slots] = np.where(self.first_bin[f_slots] == NEVER, gb[start], self.first_bin[f_slots])
        closed = ~last_of_slot
        if closed.any():
            np.maximum.at(self.peak, gs[closed], sums[closed])
        self.bin[gs[last_of_slot]] = sums[last_of_slot]
        self.cur_bin[gs[last_of_slot]] = gb[last_of_slot]

    def measures(self, slots: I64, period_ns: int) -> Measures:
        """Period measurements of ``slots``: volume, throughput over the period, average and peak."""
        vol = self.period[slots].astype(np.float64)
        bin_s = self.bin_ns / 1e9
        peak = np.maximum(self.peak[slots], self.bin[slots]).astype(np.float64) / bin_s
        active_bins = np.where(self.first_bin[slots] == NEVER, 1, self.cur_bin[slots] - self.first_bin[slots] + 1)
        avg = vol / (np.maximum(active_bins, 1)[:, None] * bin_s)
        rate = vol / max(period_ns / 1e9, 1e-9)
        p = self.period[slots]
        return Measures(
            ul_bytes=p[:, 0].copy(), dl_bytes=p[:, 1].copy(), ul_packets=p[:, 2].copy(), dl_packets=p[:, 3].copy(),
            ul_bps=rate[:, 0] * 8, dl_bps=rate[:, 1] * 8, ul_pps=rate[:, 2], dl_pps=rate[:, 3],
            ul_avg_bps=avg[:, 0] * 8, dl_avg_bps=avg[:, 1] * 8, ul_avg_pps=avg[:, 2], dl_avg_pps=avg[:, 3],
            ul_peak_bps=peak[:, 0] * 8, dl_peak_bps=peak[:, 1] * 8, ul_peak_pps=peak[:, 2], dl_peak_pps=peak[:, 3],
            first_seen_ns=self.first_ns[slots].copy(), last_seen_ns=self.last_ns[slots].copy(),
        )

    def active_in_period(self) -> I64:
        """Slots with traffic in the current period."""
        return np.flatnonzero(self.period[:, 2] + self.period[:, 3])

    def new_period(self) -> None:
        """Start a new reporting period (totals are kept)."""
        self.period[:] = 0
        self.peak[:] = 0
        self.bin[:] = 0
        self.first_bin[:] = NEVER

    def copy_rows(self, src: Counters, src_slots: I64, dst_slots: I64) -> None:
        """Copy the state of ``src_slots`` of ``src`` into our ``dst_slots``."""
        for name in ("total", "period", "bin", "peak", "cur_bin", "first_bin", "first_ns", "last_ns"):
            getattr(self, name)[dst_slots] = getattr(src, name)[src_slots]
