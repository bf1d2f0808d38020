"""Group-aware splits: no host or window (or, blocked, neither) on both sides, shrinking k, clear errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from nwdaf.lib.features import HOST, WINDOW
from nwdaf.nf.mtlf.train.config import TrainConfig
from nwdaf.nf.mtlf.train.cv import (
    Groups,
    SplitError,
    _pair_folds,
    check_no_leak,
    group_kfold,
    group_options,
    holdout,
    make_groups,
    subsample_groups,
)
from nwdaf.nf.mtlf.train.dataset import host_window_set
from nwdaf.nf.mtlf.train.run import plan_splits

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


# --- host+window (blocked) ------------------------------------------------------------------------------------


def grid(hosts: int, windows: int, bots: int, seed: int) -> tuple[pl.DataFrame, np.ndarray]:
    """Every host in every window; bot hosts are malicious in a random ~half of the windows."""
    rng = np.random.default_rng(seed)
    keys = pl.DataFrame({
        WINDOW: np.tile(np.arange(windows) * 60.0, hosts),
        HOST: np.repeat([f"h{i}" for i in range(hosts)], windows),
    })
    bot = np.repeat(np.arange(hosts) < bots, windows)
    y = (bot & (rng.random(hosts * windows) < 0.5)).astype(np.int64)
    return keys, y


def assert_disjoint(keys: pl.DataFrame, split: tuple[np.ndarray, np.ndarray]) -> None:
    train, test = split
    assert train.size
    assert test.size
    for column in (HOST, WINDOW):
        values = keys.get_column(column).to_numpy()
        assert not set(values[train]) & set(values[test]), f"a {column} is on both sides"


@pytest.mark.parametrize("seed", range(6))
def test_host_window_holdout_and_folds_share_no_host_and_no_window(seed: int) -> None:
    keys, y = grid(hosts=30, windows=20, bots=8, seed=seed)
    groups = make_groups(keys, y, "host+window", needed=3)
    assert groups.kind == "host+window"
    train, test = holdout(y, groups, 0.25, seed)
    assert_disjoint(keys, (train, test))
    assert set(y[test]) == {0, 1}
    inner = keys.select(pl.all().gather(train))
    folds = group_kfold(y[train], groups.subset(train), 3, seed)
    assert len(folds) == 3
    for fold in folds:
        assert_disjoint(inner, fold)
        assert set(y[train][fold[1]]) == {0, 1}
    tested = np.concatenate([te for _, te in folds])
    assert np.unique(tested).size == tested.size, "a row is tested in one fold at most"


def test_host_window_on_real_shaped_flows(flows: pl.DataFrame) -> None:
    data = host_window_set(flows, 60.0, "src_ip", "fp")
    groups = make_groups(data.keys, data.y, "auto", needed=3)
    assert groups.kind == "host+window"
    train, test = holdout(data.y, groups, 0.25, seed=0)
    assert_disjoint(data.keys, (train, test))
    left_out = data.y.size - train.size - test.size
    assert left_out > 0, "rows sharing only a host or only a window with the test block are in neither side"
    inner = data.keys.select(pl.all().gather(train))
    for fold in group_kfold(data.y[train], groups.subset(train), 3, seed=0):
        assert_disjoint(inner, fold)


def test_check_no_leak_is_enforced_on_both_keys() -> None:
    keys, y = grid(hosts=12, windows=12, bots=4, seed=0)
    groups = make_groups(keys, y, "host+window", needed=2)
    splits = group_kfold(y, groups, 2, seed=0)
    assert groups.windows is not None
    check_no_leak(splits, groups.ids)
    check_no_leak(splits, groups.windows)
    train, test = splits[0]
    with pytest.raises(SplitError, match="both sides"):
        check_no_leak([(np.concatenate([train, test[:1]]), test)], groups.windows)


def test_pairing_puts_both_classes_in_every_test_block() -> None:
    # Host fold i holds the bots of window fold i+1 only: the identity pairing would test blocks without a bot.
    host_fold = np.repeat([0, 1, 2], 30)
    window_fold = np.tile(np.repeat([0, 1, 2], 10), 3)
    y = ((window_fold == (host_fold + 1) % 3) & (np.arange(90) % 2 == 0)).astype(np.int64)
    pairing = _pair_folds(y, host_fold, window_fold, 3)
    assert pairing == [1, 2, 0]


def test_auto_prefers_host_window_then_host_then_window() -> None:
    keys, y = grid(hosts=20, windows=10, bots=5, seed=1)
    assert [g.kind for g in group_options(keys, y, "auto", needed=3)] == ["host+window", "host", "window"]
    two_windows, y_two = grid(hosts=20, windows=2, bots=10, seed=1)
    assert [g.kind for g in group_options(two_windows, y_two, "auto", needed=3)] == ["host", "window"]
    one_bot = (keys.get_column(HOST) == "h0").to_numpy() & (y == 1)
    assert [g.kind for g in group_options(keys, one_bot.astype(np.int64), "auto", needed=3)] == ["window"]


def test_training_never_sees_a_test_host_or_window(
    flows: pl.DataFrame, tmp_path: Path, make_config: Callable[..., TrainConfig]
) -> None:
    config = make_config(flows, tmp_path)
    data = host_window_set(flows, 60.0, "src_ip", "fp")
    plan = plan_splits(config, data)
    assert plan.groups.kind == "host+window"
    assert_disjoint(data.keys, (plan.train_idx, plan.test_idx))
    inner = data.keys.select(pl.all().gather(plan.train_idx))
    for fold in plan.folds:
        assert_disjoint(inner, fold)
