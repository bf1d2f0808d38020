"""The benchmark's synthetic traffic and backend comparison (correctness only, no timing assertions)."""

from __future__ import annotations

import polars as pl
import pytest
from benchmarks.features import compare_betweenness, main, synthetic_flows

from nwdaf.lib.features import graph_features, host_window_features
from nwdaf.lib.flows import FLOW_SCHEMA_NO_LABELS

pytestmark = pytest.mark.unit


def test_synthetic_flows_are_reproducible_schema_records() -> None:
    flows = synthetic_flows(2000, seed=3, n_ues=50, n_servers=100, p2p_share=0.2)
    assert flows.height == 2000
    assert dict(list(flows.schema.items())[: len(FLOW_SCHEMA_NO_LABELS)]) == dict(FLOW_SCHEMA_NO_LABELS)
    assert flows.equals(synthetic_flows(2000, seed=3, n_ues=50, n_servers=100, p2p_share=0.2))
    assert flows.filter(pl.col("dst_ip").str.starts_with("10.45.")).height > 0  # some UE -> UE flows
    assert flows["pkts_total"].null_count() == 0
    assert host_window_features(flows, 60.0).height > 0
    assert graph_features(flows, 60.0).height > 0


def test_backends_agree_on_a_window() -> None:
    flows = synthetic_flows(3000, seed=5, n_ues=80, n_servers=200, p2p_share=0.3)
    results = compare_betweenness(flows, with_networkx=True)
    assert results["nodes"] is not None
    assert results["nodes"] > 0
    assert results["igraph"] is not None


def test_main_prints_figures(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--flows", "3000", "--no-networkx"])
    out = capsys.readouterr().out
    assert "host_window_features:" in out
    assert "graph_features:" in out
    assert "'igraph':" in out
