"""Training-set assembly: host-window labels, source-identifying features dropped, errors."""

from __future__ import annotations

import polars as pl
import pytest

from nwdaf.lib.features import HOST
from nwdaf.nf.mtlf.train.dataset import DatasetError, align_sources, flow_set, host_window_set

pytestmark = pytest.mark.unit


def test_host_windows_are_labelled_by_what_the_host_initiated(flows: pl.DataFrame) -> None:
    data = host_window_set(flows, 60.0, "src_ip", "fp")
    hosts = data.keys.get_column(HOST).to_list()
    assert all(h.startswith("10.45.") for h in hosts), "responders (servers, scan targets) carry no label"
    bots = {h for h, y in zip(hosts, data.y, strict=True) if y == 1}
    assert bots
    assert all(h.startswith("10.45.1.") for h in bots)
    assert data.X.shape == (len(hosts), len(data.feature_columns))


def test_a_feature_one_source_cannot_measure_is_dropped(flows: pl.DataFrame) -> None:
    other = flows.filter(pl.col("label") == "benign").with_columns(
        pl.lit(None, dtype=pl.Int64).alias("pkts_fwd"), pl.lit(None, dtype=pl.Int64).alias("pkts_bwd"),
        pl.lit("argus:other").alias("source"),
    )
    data = host_window_set(pl.concat([flows, other]), 60.0, "src_ip", "fp")
    assert "pkts_out" not in data.feature_columns
    assert "argus:other" in data.dropped_features["pkts_out"]


def test_one_class_only_is_refused(flows: pl.DataFrame) -> None:
    with pytest.raises(DatasetError, match="only malicious rows"):
        host_window_set(flows.filter(pl.col("label") == "malicious"), 60.0, "src_ip", "fp")


def test_align_sources_moves_each_source_to_the_common_start(flows: pl.DataFrame) -> None:
    late = flows.with_columns(pl.col("start_ts") + 86_400.0, pl.lit("later").alias("source"))
    aligned = align_sources(pl.concat([flows, late]))
    starts = aligned.group_by("source").agg(pl.col("start_ts").min()).get_column("start_ts").to_list()
    assert starts[0] == pytest.approx(starts[1])


def test_flow_set_uses_the_schema_counters(flows: pl.DataFrame) -> None:
    data = flow_set(flows, 60.0, "fp")
    assert data.y.size == flows.height
    assert "src_port" not in data.feature_columns
