"""The operating threshold of a model: chosen for a target false-positive rate per window, on held-out benign rows.

An ABNORMAL_BEHAVIOUR finding for a benign UE can release its PDU session (the SMF closes the loop), so the
threshold is not 0.5 but the lowest calibrated probability at which, in **every** held-out window, at most
``target_fpr`` of the benign hosts would be flagged. With the default target of 0.1 % and windows of fewer than
1,000 benign hosts that means no benign host of any held-out window: the threshold sits just above the highest
benign score. It is never below :data:`MIN_THRESHOLD` (below even odds a calibrated probability is not a finding)
and may be above 1 when a benign row scored 1.0: the model then flags nothing, and the choice says so.

The rows are the out-of-fold rows of the cross-validation (each scored by a model that never saw its host or
window), calibrated; the held-out test set stays untouched, so the false-positive rate reported on it is measured
on data the threshold was not tuned on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

DEFAULT_TARGET_FPR: Final = 0.001
MIN_THRESHOLD: Final = 0.5


@dataclass(frozen=True)
class ThresholdChoice:
    """The chosen threshold and what it was chosen on."""

    threshold: float
    target_fpr: float
    benign_rows: int
    benign_windows: int
    attainable: bool
    """False when a held-out benign row scored 1.0: no threshold in (0, 1] meets the target."""

    def as_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "target_fpr": self.target_fpr, "benign_rows": self.benign_rows,
                "benign_windows": self.benign_windows, "attainable": self.attainable}


def choose_threshold(proba: np.ndarray, y: np.ndarray, windows: np.ndarray, target_fpr: float) -> ThresholdChoice:
    """Lowest threshold ``t >= MIN_THRESHOLD`` with, in each window, at most ``floor(target_fpr * n)`` of its
    ``n`` benign rows scoring ``>= t``. ``windows`` labels each row's window; NaN scores (rows no fold scored)
    are ignored."""
    benign = (y == 0) & ~np.isnan(proba)
    scores, keys = proba[benign], windows[benign]
    needed = MIN_THRESHOLD
    for key in np.unique(keys):
        ranked = np.sort(scores[keys == key])[::-1]
        allowed = math.floor(target_fpr * ranked.size)
        if allowed < ranked.size:
            needed = max(needed, float(np.nextafter(ranked[allowed], np.inf)))
    return ThresholdChoice(needed, target_fpr, int(scores.size), int(np.unique(keys).size), needed <= 1.0)


def window_fpr(proba: np.ndarray, y: np.ndarray, windows: np.ndarray, threshold: float) -> dict[str, Any]:
    """Per window, the share of its benign rows at or above ``threshold``: worst, mean, windows with any."""
    benign = y == 0
    shares = [float(np.mean(proba[benign & (windows == key)] >= threshold)) for key in np.unique(windows[benign])]
    if not shares:
        return {"windows": 0, "worst": None, "mean": None, "windows_with_fp": 0}
    return {"windows": len(shares), "worst": max(shares), "mean": float(np.mean(shares)),
            "windows_with_fp": sum(1 for s in shares if s > 0)}
