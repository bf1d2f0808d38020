"""Group-aware splits: no host (or no time window) ever appears on both sides of a split.

Rows of one host are strongly correlated (same device, same malware, consecutive windows); a split that puts some
of them in training and others in test measures memory, not detection. Grouping by host is the default; datasets
with too few hosts per class (IoT-23 capture 34-1 has a single device) fall back to grouping by time window.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from sklearn.model_selection import StratifiedGroupKFold

from nwdaf.processor.features import HOST, WINDOW

Split = tuple[np.ndarray, np.ndarray]


class SplitError(ValueError):
    """The data has too few groups of a class for the requested split."""


@dataclass(frozen=True)
class Groups:
    """Group label per row and what a group is (``host`` or ``window``)."""

    ids: np.ndarray
    kind: str

    def per_class(self, y: np.ndarray) -> dict[int, int]:
        return {int(c): int(np.unique(self.ids[y == c]).size) for c in np.unique(y)}


def make_groups(keys: pl.DataFrame, y: np.ndarray, mode: str, needed: int) -> Groups:
    """Group rows by ``host`` or ``window``; ``auto`` takes host when every class has ``needed`` hosts."""
    by_host = Groups(_codes(keys.get_column(HOST)), "host")
    if mode == "host" or (mode == "auto" and min(by_host.per_class(y).values()) >= needed):
        return by_host
    # A window holds several hosts, so by window means all hosts of that time slot go to the same side.
    return Groups(_codes(keys.get_column(WINDOW).cast(pl.String)), "window")


def _codes(column: pl.Series) -> np.ndarray:
    values = column.cast(pl.String).fill_null("").to_numpy().astype(str)
    return np.unique(values, return_inverse=True)[1].astype(np.int64)


def group_kfold(y: np.ndarray, groups: Groups, n_splits: int, seed: int) -> list[Split]:
    """Stratified group k-fold; ``n_splits`` shrinks to the number of groups of the rarer class (at least 2)."""
    fewest = min(groups.per_class(y).values())
    k = min(n_splits, fewest)
    if k < 2:
        raise SplitError(
            f"a class has only {fewest} {groups.kind} group(s): cross-validation needs at least 2 per class "
            f"(groups per class: {groups.per_class(y)})"
        )
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        # sklearn warns when a class has fewer members than n_splits; k already accounts for groups.
        warnings.simplefilter("ignore", UserWarning)
        splits = [(np.asarray(tr), np.asarray(te)) for tr, te in splitter.split(np.zeros(y.size), y, groups.ids)]
    check_no_leak(splits, groups.ids)
    return [s for s in splits if np.unique(y[s[1]]).size == 2 and np.unique(y[s[0]]).size == 2] or splits


def holdout(y: np.ndarray, groups: Groups, test_fraction: float, seed: int) -> Split:
    """One group-disjoint train/test split with about ``test_fraction`` of the groups in test, both classes in
    each side when the data allows."""
    k = max(2, round(1 / test_fraction))
    fewest = min(groups.per_class(y).values())
    if fewest < 2:
        raise SplitError(
            f"a class has only {fewest} {groups.kind} group(s): a held-out test set needs at least 2 per class"
        )
    splitter = StratifiedGroupKFold(n_splits=min(k, max(2, fewest)), shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        candidates = [(np.asarray(tr), np.asarray(te)) for tr, te in splitter.split(np.zeros(y.size), y, groups.ids)]
    both = [s for s in candidates if np.unique(y[s[1]]).size == 2 and np.unique(y[s[0]]).size == 2]
    train, test = (both or candidates)[0]
    check_no_leak([(train, test)], groups.ids)
    return train, test


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
