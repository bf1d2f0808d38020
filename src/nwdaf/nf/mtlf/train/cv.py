"""Group-aware splits: no host (or no time window, or neither) ever appears on both sides of a split.

Rows of one host are strongly correlated (same device, same malware, consecutive windows); a split that puts some
of them in training and others in test measures memory, not detection. Rows of one time window are correlated
too: the graph features of a window describe every host in it (a bot's scan raises its targets' in-degree), and
hosts of one capture share its time-of-day and its outages. Modes:

* ``host+window`` (blocked, the default where the data allows): a split holds out a set of hosts **and** a set of
  windows; test = rows of a held-out host in a held-out window, training = rows of the other hosts in the other
  windows; the rows that share only one of the two with the test block are left out of that split.
* ``host`` or ``window``: one key only (datasets with too few hosts per class, e.g. IoT-23 capture 34-1 with a
  single device, fall back to windows).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import polars as pl
from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped]  # no scipy-stubs in the dev extra
from sklearn.model_selection import StratifiedGroupKFold

from nwdaf.lib.features import HOST, WINDOW

Split = tuple[np.ndarray, np.ndarray]
HOST_WINDOW: Final = "host+window"


class SplitError(ValueError):
    """The data has too few groups of a class for the requested split."""


@dataclass(frozen=True)
class Groups:
    """Group label per row and what a group is (``host``, ``window`` or ``host+window``).

    ``ids`` are host codes (``host``, ``host+window``) or window codes (``window``); ``windows`` holds the window
    codes of ``host+window`` groups.
    """

    ids: np.ndarray
    kind: str
    windows: np.ndarray | None = None

    def per_class(self, y: np.ndarray) -> dict[int, int]:
        return _per_class(self.ids, y)

    def windows_per_class(self, y: np.ndarray) -> dict[int, int]:
        return _per_class(self.ids if self.windows is None else self.windows, y)

    def subset(self, rows: np.ndarray) -> Groups:
        return Groups(self.ids[rows], self.kind, None if self.windows is None else self.windows[rows])

    def fewest(self, y: np.ndarray) -> int:
        """Groups of the rarer class; for ``host+window`` the smaller of its host and window counts."""
        counts = list(self.per_class(y).values())
        if self.windows is not None:
            counts += self.windows_per_class(y).values()
        return min(counts)


def _per_class(ids: np.ndarray, y: np.ndarray) -> dict[int, int]:
    return {int(c): int(np.unique(ids[y == c]).size) for c in np.unique(y)}


def group_options(keys: pl.DataFrame, y: np.ndarray, mode: str, needed: int) -> list[Groups]:
    """The groupings to try, best first: ``mode`` itself, or for ``auto`` host+window, then host (each only if
    every class has ``needed`` groups), then window as the last resort."""
    hosts, windows = _codes(keys.get_column(HOST)), _codes(keys.get_column(WINDOW).cast(pl.String))
    by_kind = {HOST_WINDOW: Groups(hosts, HOST_WINDOW, windows), "host": Groups(hosts, "host"),
               "window": Groups(windows, "window")}
    if mode != "auto":
        return [by_kind[mode]]
    return [g for g in (by_kind[HOST_WINDOW], by_kind["host"]) if g.fewest(y) >= needed] + [by_kind["window"]]


def make_groups(keys: pl.DataFrame, y: np.ndarray, mode: str, needed: int) -> Groups:
    """The first of :func:`group_options` (``auto``: host+window when every class has ``needed`` hosts and
    windows, else host, else window)."""
    return group_options(keys, y, mode, needed)[0]


def _codes(column: pl.Series) -> np.ndarray:
    """Dense 0-based codes in sorted order of the values (as ``np.unique(..., return_inverse=True)``)."""
    return (column.cast(pl.String).fill_null("").rank("dense") - 1).cast(pl.Int64).to_numpy()


def group_kfold(y: np.ndarray, groups: Groups, n_splits: int, seed: int) -> list[Split]:
    """Stratified group k-fold; ``n_splits`` shrinks to the number of groups of the rarer class (at least 2)."""
    fewest = groups.fewest(y)
    k = min(n_splits, fewest)
    if k < 2:
        raise SplitError(
            f"a class has only {fewest} {groups.kind} group(s): cross-validation needs at least 2 per class "
            f"(groups per class: {groups.per_class(y)})"
        )
    if groups.windows is not None:
        return blocked_kfold(y, groups, k, seed)
    splits = _stratified_group_folds(y, groups.ids, k, seed)
    check_no_leak(splits, groups.ids)
    return [s for s in splits if _both_classes(y, s)] or splits


def holdout(y: np.ndarray, groups: Groups, test_fraction: float, seed: int) -> Split:
    """One group-disjoint train/test split with about ``test_fraction`` of the groups in test, both classes in
    each side when the data allows. ``host+window`` holds out that share of the hosts *and* of the windows."""
    k = max(2, round(1 / test_fraction))
    fewest = groups.fewest(y)
    if fewest < 2:
        raise SplitError(
            f"a class has only {fewest} {groups.kind} group(s): a held-out test set needs at least 2 per class"
        )
    if groups.windows is not None:
        return blocked_kfold(y, groups, min(k, fewest), seed)[0]
    candidates = _stratified_group_folds(y, groups.ids, min(k, max(2, fewest)), seed)
    train, test = ([s for s in candidates if _both_classes(y, s)] or candidates)[0]
    check_no_leak([(train, test)], groups.ids)
    return train, test


def blocked_kfold(y: np.ndarray, groups: Groups, k: int, seed: int) -> list[Split]:
    """Host+window blocked folds: hosts and windows each cut into ``k`` stratified folds; split i tests host fold
    i in the window fold paired with it and trains on the other hosts in the other windows.

    The pairing maximises the smallest class count over the test blocks (a bottleneck assignment), so that each
    block holds both classes where the data allows. Splits without both classes on both sides are dropped.
    """
    assert groups.windows is not None
    host_fold = _fold_index(y, groups.ids, k, seed)
    window_fold = _fold_index(y, groups.windows, k, seed)
    pairing = _pair_folds(y, host_fold, window_fold, k)
    splits = [
        (np.flatnonzero((host_fold != i) & (window_fold != j)), np.flatnonzero((host_fold == i) & (window_fold == j)))
        for i, j in enumerate(pairing)
    ]
    check_no_leak(splits, groups.ids)
    check_no_leak(splits, groups.windows)
    usable = [s for s in splits if _both_classes(y, s)]
    if not usable:
        raise SplitError(f"no host+window block of {k} host folds x {k} window folds holds both classes on both "
                         "sides (the malicious rows sit in too few hosts or windows); group by host or window")
    return usable


def _fold_index(y: np.ndarray, ids: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Fold (0..k-1) of each row: whole groups, greedily balanced so each fold gets about 1/k of each class.

    Groups go largest-malicious first (random order among equals), each to the fold whose larger class share
    stays smallest. Same goal as StratifiedGroupKFold's assignment, which searches in Python per group and took
    ~0.25 s per call on the 2,693 window groups of the 500k-flow benchmark; this takes milliseconds.
    """
    _, inverse = np.unique(ids, return_inverse=True)
    pos = np.bincount(inverse, weights=y).astype(np.int64)
    counts = np.stack([np.bincount(inverse) - pos, pos], axis=1).astype(np.float64)  # per group: (benign, malicious)
    shuffled = np.random.default_rng(seed).permutation(pos.size)
    order = shuffled[np.lexsort((-counts[shuffled, 0], -counts[shuffled, 1]))]
    totals = np.maximum(counts.sum(axis=0), 1.0)
    load = np.zeros((k, 2), dtype=np.float64)
    group_fold = np.empty(pos.size, dtype=np.int64)
    for g in order:
        after = (load + counts[g]) / totals
        fold = int(np.argmin(after.max(axis=1) + 1e-9 * load.sum(axis=1)))
        load[fold] += counts[g]
        group_fold[g] = fold
    return group_fold[inverse]


def _pair_folds(y: np.ndarray, host_fold: np.ndarray, window_fold: np.ndarray, k: int) -> list[int]:
    """Window fold for each host fold: maximise the smallest per-class row count of the test blocks."""
    counts = np.zeros((2, k, k), dtype=np.int64)
    np.add.at(counts, (y, host_fold, window_fold), 1)
    worst = counts.min(axis=0)
    best = np.arange(k)
    for threshold in np.unique(worst):  # ascending; feasibility only shrinks as the threshold grows
        rows, cols = linear_sum_assignment(-(worst >= threshold).astype(np.int64))
        if not (worst[rows, cols] >= threshold).all():
            break
        best = cols[np.argsort(rows)]
    return [int(j) for j in best]


def _stratified_group_folds(y: np.ndarray, ids: np.ndarray, k: int, seed: int) -> list[Split]:
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        # sklearn warns when a class has fewer members than n_splits; k already accounts for groups.
        warnings.simplefilter("ignore", UserWarning)
        return [(np.asarray(tr), np.asarray(te)) for tr, te in splitter.split(np.zeros(y.size), y, ids)]


def _both_classes(y: np.ndarray, split: Split) -> bool:
    return bool(np.unique(y[split[1]]).size == 2 and np.unique(y[split[0]]).size == 2)


def check_no_leak(splits: Sequence[Split], ids: np.ndarray) -> None:
    """Raise :class:`SplitError` if any group id is on both sides of a split."""
    for i, (train, test) in enumerate(splits):
        shared = np.intersect1d(ids[train], ids[test])
        if shared.size:
            raise SplitError(f"split {i}: {shared.size} group(s) on both sides, e.g. {shared[:5].tolist()}")
def subsample_groups(y: np.ndarray, groups: Groups, max_rows: int, seed: int) -> np.ndarray:
    """Indices of whole groups drawn at random, per class, until about ``max_rows`` rows (CI-sized runs)."""
    if y.size <= max_rows:
        return np.arange(y.size)
    rng = np.random.default_rng(seed)
    keep: list[np.ndarray] = []
    for cls in (0, 1):
        cls_ids = rng.permutation(np.unique(groups.ids[y == cls]))
        budget = max(1, round(max_rows * float(np.mean(y == cls))))
        taken = 0
        for gid in cls_ids:
            idx = np.flatnonzero((groups.ids == gid) & (y == cls))
            keep.append(idx)
            taken += idx.size
            if taken >= budget:
                break
    return np.unique(np.concatenate(keep))
