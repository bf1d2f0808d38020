"""The operating threshold: chosen for a target false-positive rate per window on held-out benign rows."""

from __future__ import annotations

import numpy as np
import pytest

from nwdaf.nf.mtlf.train.threshold import MIN_THRESHOLD, choose_threshold, window_fpr

pytestmark = pytest.mark.unit


def test_threshold_sits_just_above_the_highest_benign_score_of_small_windows() -> None:
    proba = np.array([0.70, 0.60, 0.95, 0.80, 0.99])
    y = np.array([0, 0, 1, 0, 1])
    windows = np.array([1, 1, 1, 2, 2])
    choice = choose_threshold(proba, y, windows, 0.001)
    assert 0.80 < choice.threshold < 0.80 + 1e-9
    assert (choice.benign_rows, choice.benign_windows, choice.attainable) == (3, 2, True)
    assert window_fpr(proba, y, windows, choice.threshold)["worst"] == 0.0


def test_a_large_window_may_keep_its_allowed_share() -> None:
    rng = np.random.default_rng(0)
    proba = rng.uniform(0.0, 0.9, 2000)
    choice = choose_threshold(proba, np.zeros(2000, dtype=np.int64), np.zeros(2000), 0.001)
    assert window_fpr(proba, np.zeros(2000, dtype=np.int64), np.zeros(2000), choice.threshold)["worst"] <= 0.001
    assert choice.threshold < proba.max()  # two of the 2,000 may score above it


def test_never_below_even_odds_and_unattainable_when_a_benign_row_scores_one() -> None:
    assert choose_threshold(np.array([0.1, 0.9]), np.array([0, 1]), np.array([0, 0]), 0.001).threshold \
        == MIN_THRESHOLD
    choice = choose_threshold(np.array([1.0, 1.0]), np.array([0, 1]), np.array([0, 0]), 0.001)
    assert not choice.attainable
    assert choice.threshold > 1.0


def test_rows_no_fold_scored_are_ignored() -> None:
    choice = choose_threshold(np.array([np.nan, 0.7]), np.array([0, 0]), np.array([0, 1]), 0.001)
    assert (choice.benign_rows, choice.benign_windows) == (1, 1)
