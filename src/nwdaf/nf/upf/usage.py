"""Usage of one subscription's reporting window, merged from the data plane's period snapshots.

The data plane closes one accounting period per reporting tick (:meth:`UsageAccounting.snapshot_and_reset_period`).
Subscriptions have their own ``repPeriod``, so each keeps a :class:`Window` that merges the tick snapshots of the
UEs it targets until its report is due: volumes add up, peaks take the maximum and the active time (the
sub-intervals with traffic) adds up, so the averages of USER_DATA_USAGE_TRENDS stay exact over the whole window.
Everything is numpy columns; merging groups rows by entity key (flow 5-tuple + session, session, session + app).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nwdaf.lib.dataplane.accounting import AppUsage, FlowUsage, SessionUsage, UsageReport
from nwdaf.lib.dataplane.counters import Measures
from nwdaf.lib.dataplane.flows import FLOW_KEY_WIDTH, FlowKeys

F64 = NDArray[np.float64]
U64 = NDArray[np.uint64]
Mask = NDArray[np.bool_]


class Level(StrEnum):
    """Aggregation level (the ``granularityOfMeasurement`` values)."""

    FLOW = "PER_FLOW"
    SESSION = "PER_SESSION"
    APPLICATION = "PER_APPLICATION"


_SUMMED = ("ul_bytes", "dl_bytes", "ul_packets", "dl_packets", "active_s")
_PEAKS = ("ul_peak_bps", "dl_peak_bps", "ul_peak_pps", "dl_peak_pps")


@dataclass
class Usage:
    """Per-entity usage: ``keys`` identify the entity (row-wise), ``session`` is its PDU session index.

    Flow keys are the data plane's packed flow key (:meth:`FlowKeys.packed`: ``[session<<40 | proto<<32 |
    ue_port<<16 | remote_port, ue_hi, ue_lo, remote_hi, remote_lo]``) and ``app_id`` (the application follows from
    the 5-tuple, so it never splits a flow), application keys
    ``[session, app_id]``, session keys ``[session]``.
    """

    keys: U64
    session: NDArray[np.int32]
    ul_bytes: F64
    dl_bytes: F64
    ul_packets: F64
    dl_packets: F64
    active_s: F64
    ul_peak_bps: F64
    dl_peak_bps: F64
    ul_peak_pps: F64
    dl_peak_pps: F64

    def __len__(self) -> int:
        return len(self.session)

    @classmethod
    def empty(cls, width: int) -> Usage:
        cols: dict[str, Any] = {name: np.zeros(0, np.float64) for name in (*_SUMMED, *_PEAKS)}
        return cls(keys=np.zeros((0, width), np.uint64), session=np.zeros(0, np.int32), **cols)

    @classmethod
    def from_measures(cls, keys: U64, session: NDArray[np.int32], m: Measures, bin_ns: int) -> Usage:
        volume = (m.ul_bytes + m.dl_bytes).astype(np.float64)
        avg_bytes_per_s = (m.ul_avg_bps + m.dl_avg_bps) / 8.0
        # The data plane's average is volume / active time, so the active time is volume / average.
        with np.errstate(divide="ignore", invalid="ignore"):
            active = np.where(avg_bytes_per_s > 0, volume / avg_bytes_per_s, 0.0)
        active = np.maximum(active, np.where(volume > 0, bin_ns / 1e9, 0.0))
        return cls(
            keys=np.ascontiguousarray(keys, dtype=np.uint64), session=session.astype(np.int32),
            ul_bytes=m.ul_bytes.astype(np.float64), dl_bytes=m.dl_bytes.astype(np.float64),
            ul_packets=m.ul_packets.astype(np.float64), dl_packets=m.dl_packets.astype(np.float64),
            active_s=active, ul_peak_bps=m.ul_peak_bps.astype(np.float64),
            dl_peak_bps=m.dl_peak_bps.astype(np.float64), ul_peak_pps=m.ul_peak_pps.astype(np.float64),
            dl_peak_pps=m.dl_peak_pps.astype(np.float64),
        )

    def take(self, index: NDArray[Any]) -> Usage:
        return Usage(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def merge(self, other: Usage) -> Usage:
        """Rows of both, grouped by key: sums for volumes and active time, maxima for peaks."""
        if len(other) == 0:
            return self
        if len(self) == 0:
            return other
        keys = np.concatenate([self.keys, other.keys])
        uniq, first, inv = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        inv = inv.reshape(-1)
        out: dict[str, Any] = {"keys": uniq, "session": np.concatenate([self.session, other.session])[first]}
        for name in _SUMMED:
            out[name] = np.bincount(inv, np.concatenate([getattr(self, name), getattr(other, name)]), len(uniq))
        for name in _PEAKS:
            peak = np.zeros(len(uniq), np.float64)
            np.maximum.at(peak, inv, np.concatenate([getattr(self, name), getattr(other, name)]))
            out[name] = peak
        return Usage(**out)


def flow_keys(f: FlowUsage) -> U64:
    """The packed flow key (:meth:`FlowKeys.packed`) of each flow, with its application id appended."""
    packed = FlowKeys(f.session, f.proto, f.ue_addr, f.ue_port, f.remote_addr, f.remote_port).packed()
    return np.column_stack([packed, f.app_id.astype(np.uint64)]).astype(np.uint64)


def level_usage(report: UsageReport, level: Level) -> Usage:
    """One granularity of a data plane snapshot as :class:`Usage` rows."""
    if level is Level.FLOW:
        f: FlowUsage = report.flows
        return Usage.from_measures(flow_keys(f), f.session, f.measures, report.bin_ns)
    if level is Level.APPLICATION:
        a: AppUsage = report.applications
        keys = np.column_stack([a.session.astype(np.uint64), a.app_id.astype(np.uint64)])
        return Usage.from_measures(keys, a.session, a.measures, report.bin_ns)
    s: SessionUsage = report.sessions
    return Usage.from_measures(s.session.astype(np.uint64)[:, None], s.session, s.measures, report.bin_ns)


_WIDTH = {Level.FLOW: FLOW_KEY_WIDTH + 1, Level.APPLICATION: 2, Level.SESSION: 1}


@dataclass
class Window:
    """A subscription's open reporting window: its data-time span and the usage merged into it so far."""

    start_ns: int | None
    end_ns: int | None
    usage: dict[Level, Usage]
    ticks: int = 0

    @classmethod
    def open(cls, start_ns: int | None, levels: set[Level]) -> Window:
        """A window from ``start_ns`` (None: from the first snapshot merged, for a clock not started yet)."""
        return cls(start_ns, start_ns, {lv: Usage.empty(_WIDTH[lv]) for lv in levels})

    def add(self, report: UsageReport, targeted: Mask) -> None:
        """Merge a snapshot's rows of the targeted sessions (``targeted[i]`` for session index ``i``)."""
        for level, usage in self.usage.items():
            rows = level_usage(report, level)
            keep = np.zeros(len(rows), np.bool_)
            known = rows.session < len(targeted)
            keep[known] = targeted[rows.session[known]]
            self.usage[level] = usage.merge(rows.take(np.flatnonzero(keep)))
        if self.start_ns is None:
            self.start_ns = report.start_ns
        self.end_ns = max(self.end_ns or report.end_ns, report.end_ns)
        self.ticks += 1
