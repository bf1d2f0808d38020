"""Sliding windows over per-period usage rows: a window closes as soon as a newer report period arrives.

A UPF splits a large period report across several notifications (``upf.max_items_per_notification``). The first
one closes the period's window; each further one of the same period *updates* it: the features are computed again
over everything received, so an engine does not wait a whole period for the UEs of the later parts. The flow
records of a window go out once, when it closes; a later part's flows are in the next window's records (windows
overlap by all but one period), so no flow record is stored twice for one window.

Each notification's rows are merged per flow and report time once, when they arrive
(:func:`~nwdaf.lib.flows.convert.partial_flows`); a window combines the partial aggregates it covers
(:func:`~nwdaf.lib.flows.convert.combine_flows`), which gives the same records as merging all its rows again.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import polars as pl

from nwdaf.lib.flows.convert import combine_flows, partial_flows


@dataclass(frozen=True, slots=True)
class ClosedWindow:
    """The flows of ``(start, end]``: what the feature functions and the engines see.

    ``recent`` holds the flows of the newest report period alone (``(recent_start, end]``): a burst that starts
    inside it is diluted in the window's averages, and seen at full strength here.
    """

    start: float
    end: float
    flows: pl.DataFrame
    recent_start: float | None = None
    recent: pl.DataFrame | None = None
    update: bool = False
    """True for a window already emitted, computed again with a later part of its newest report period."""


@dataclass
class SlidingWindows:
    """Keeps ``window_s`` seconds of period rows; emits a window each time the report time advances by ``hop_s``.

    Why emit on arrival rather than on a timer: the engines must score as soon as the data of a period is in
    (issue: react within about one reporting period), and report times come from the UPF's clock.
    """

    window_s: float
    hop_s: float = 0.0
    _parts: deque[tuple[float, pl.DataFrame]] = field(default_factory=deque)
    """Per notification: its latest report time and its rows merged per flow and report time, in arrival order."""
    _last_end: float | None = None

    def add(self, rows: pl.DataFrame) -> ClosedWindow | None:
        """Take one notification's rows (:data:`~nwdaf.lib.flows.convert.ROW_SCHEMA`); the window they close or
        update, if any."""
        if rows.is_empty():
            return None
        end = float(rows["end_ts"].max())  # type: ignore[arg-type]
        self._parts.append((end, partial_flows(rows)))
        last = self._last_end
        # Compared as a difference: at epoch magnitudes (1.7e9 s) ``last + 1e-9`` rounds back to ``last``.
        if last is not None and end == last:
            return self._window(end, update=True)
        if last is not None and (end < last or end - last < self.hop_s):
            return None
        self._last_end = end
        self._prune(end - self.window_s)
        return self._window(end)

    def _window(self, end: float, update: bool = False) -> ClosedWindow:
        start = end - self.window_s
        parts = [part for last, part in self._parts if last > start]
        current = pl.concat(parts, how="vertical") if len(parts) > 1 else parts[0]
        if float(current["end_ts"].min()) <= start:  # type: ignore[arg-type]
            current = current.filter(pl.col("end_ts") > start)
        newest = current.filter(pl.col("end_ts") >= end)
        recent_start = float(newest["start_ts"].min())  # type: ignore[arg-type]
        return ClosedWindow(start, end, combine_flows(current, start), recent_start,
                            combine_flows(newest, recent_start), update)

    def _prune(self, start: float) -> None:
        while self._parts and self._parts[0][0] <= start:
            self._parts.popleft()
