"""Sliding windows over per-period usage rows: a window closes as soon as a newer report period arrives."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import polars as pl

from nwdaf.processor.convert import aggregate_flows


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


@dataclass
class SlidingWindows:
    """Keeps ``window_s`` seconds of period rows; emits a window each time the report time advances by ``hop_s``.

    Why emit on arrival rather than on a timer: the engines must score as soon as the data of a period is in
    (issue: react within about one reporting period), and report times come from the UPF's clock.
    """

    window_s: float
    hop_s: float = 0.0
    _frames: deque[pl.DataFrame] = field(default_factory=deque)
    _last_end: float | None = None

    def add(self, rows: pl.DataFrame) -> ClosedWindow | None:
        if rows.is_empty():
            return None
        self._frames.append(rows)
        end = float(rows["end_ts"].max())  # type: ignore[arg-type]
        # Compared as a difference: at epoch magnitudes (1.7e9 s) ``last + 1e-9`` rounds back to ``last``, and every
        # notification of one report period would close a window of its own.
        if self._last_end is not None and (end <= self._last_end or end - self._last_end < self.hop_s):
            return None
        self._last_end = end
        start = end - self.window_s
        self._prune(start)
        current = pl.concat(list(self._frames), how="vertical").filter(pl.col("end_ts") > start)
        newest = current.filter(pl.col("end_ts") >= end)
        recent_start = float(newest["start_ts"].min())  # type: ignore[arg-type]
        return ClosedWindow(start, end, aggregate_flows(current, start), recent_start,
                            aggregate_flows(newest, recent_start))

    def _prune(self, start: float) -> None:
        while self._frames and float(self._frames[0]["end_ts"].max()) <= start:  # type: ignore[arg-type]
            self._frames.popleft()
