"""Group-aware splits: no host or window on both sides, shrinking k, clear errors."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from nwdaf.mtlf.train.cv import (
    Groups,
    SplitError,
    check_no_leak,
    group_kfold,
    holdout,
    make_groups,
    subsample_groups,
)
from nwdaf.mtlf.train.dataset import host_window_set
from nwdaf.processor.features import HOST, WINDOW

pytestmark = pytest.mark.unit


def test_folds_never_share_a_host(flows: pl.DataFrame) -> None:
    data = host_window_set(flows, 60.0, "src_ip", "fp")
    groups = make_groups(data.keys, data.y, "host", needed=3)
    splits = group_kfold(data.y, groups, 3, seed=0)
    hosts = data.keys.get_column(HOST).to_numpy()
    assert len(splits) == 3
    for train, test in splits:
        assert not set(hosts[train]) & set(hosts[test])
        assert set(np.unique(data.y[test])) == {0, 1}
    covered = np.concatenate([test for _, test in splits])
    assert np.array_equal(np.sort(covered), np.arange(data.y.size))


def test_window_groups_never_share_a_window(flows: pl.DataFrame) -> None:
    data = host_window_set(flows, 60.0, "src_ip", "fp")
    groups = make_groups(data.keys, data.y, "window", needed=3)
    assert groups.kind == "window"
    windows = data.keys.get_column(WINDOW).to_numpy()
    train, test = holdout(data.y, groups, 0.25, seed=1)
    assert not set(windows[train]) & set(windows[test])
    for tr, te in group_kfold(data.y[train], Groups(groups.ids[train], "window"), 4, seed=1):
        assert not set(windows[train][tr]) & set(windows[train][te])


def test_auto_falls_back_to_windows_when_hosts_are_few() -> None:
    keys = pl.DataFrame({WINDOW: [0.0, 60.0, 0.0, 60.0, 120.0], HOST: ["a", "a", "b", "b", "b"]})
    y = np.array([0, 0, 1, 1, 1])
    assert make_groups(keys, y, "auto", needed=2).kind == "window"
    assert make_groups(keys, y, "host", needed=2).kind == "host"


def test_check_no_leak_detects_a_shared_group() -> None:
    ids = np.array([1, 1, 2, 2])
    with pytest.raises(SplitError, match="both sides"):
        check_no_leak([(np.array([0, 2]), np.array([1, 3]))], ids)


def test_too_few_groups_of_a_class_is_a_clear_error() -> None:
    y = np.array([0, 0, 0, 1, 1])
    groups = Groups(np.array([0, 1, 2, 3, 3]), "host")
    with pytest.raises(SplitError, match="only 1 host group"):
        group_kfold(y, groups, 3, seed=0)


def test_subsample_keeps_whole_groups() -> None:
    ids = np.repeat(np.arange(20), 5)
    y = (ids >= 15).astype(np.int64)
    rows = subsample_groups(y, Groups(ids, "host"), 40, seed=0)
    kept = set(ids[rows].tolist())
    assert all(np.sum(ids[rows] == g) == 5 for g in kept)
    assert {0, 1} == set(y[rows].tolist())
    assert 30 <= rows.size <= 55
