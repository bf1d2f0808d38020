"""graph_features: a hand-computed 5-node directed graph, window separation, and a networkx cross-check."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest

from nwdaf.lib.features import GRAPH_FEATURE_COLUMNS, directed_betweenness, graph_features

pytestmark = pytest.mark.unit

# Window [0, 10): edges labelled with packets (A -> B is two flows, 6 + 4 packets).
#
#          10 (6+4)
#     A --------------> B
#     ^ <-------------- |
#     |       1         | 5
#     | 3               v
#     +---------------- C
#     |
#     | 2
#     v      4
#     D --------------> E
#
# degrees/weights        in  out  in_w  out_w
#   A: in {B,C} out {B,D}  2   2    4     12
#   B: in {A} out {A,C}    1   2   10      6
#   C: in {B} out {A}      1   1    5      3
#   D: in {A} out {E}      1   1    2      4
#   E: in {D}              1   0    4      0
# betweenness (ordered pairs, hop counts; every shortest path is unique here):
#   A lies on B->D, B->E, C->B, C->D, C->E = 5;  B on A->C = 1;  D on A->E, B->E, C->E = 3;  C, E: 0
#   normalised by (n-1)(n-2) = 12: A 5/12, B 1/12, C 0, D 3/12, E 0
# BotChase local clustering = directed edges among N(v) / (k(k-1)), N(v) = neighbours in either direction:
#   A: N={B,C,D}, edges among them: B->C            -> 1/6
#   B: N={A,C},   edges: C->A                        -> 1/2
#   C: N={A,B},   edges: A->B, B->A (reciprocated)   -> 2/2 = 1
#   D: N={A,E},   none -> 0;   E: k = 1 -> 0
HAND_EDGES = [("A", "B", 6), ("A", "B", 4), ("B", "A", 1), ("B", "C", 5), ("C", "A", 3), ("A", "D", 2), ("D", "E", 4)]
EXPECTED = {
    "A": (2, 2, 4, 12, 5 / 12, 1 / 6),
    "B": (1, 2, 10, 6, 1 / 12, 1 / 2),
    "C": (1, 1, 5, 3, 0.0, 1.0),
    "D": (1, 1, 2, 4, 3 / 12, 0.0),
    "E": (1, 0, 4, 0, 0.0, 0.0),
}


def frame(edges: list[tuple[str, str, int]], start_ts: float = 1.0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "start_ts": [start_ts + i * 0.01 for i in range(len(edges))],
            "src_ip": [e[0] for e in edges],
            "dst_ip": [e[1] for e in edges],
            "pkts_total": [e[2] for e in edges],
        },
        schema_overrides={"pkts_total": pl.Int64},
    )


def test_hand_computed_graph() -> None:
    features = graph_features(frame(HAND_EDGES), 10.0)
    assert features.columns == ["window_start", "host", *GRAPH_FEATURE_COLUMNS]
    got = {r[1]: r[2:] for r in features.rows()}
    assert got.keys() == EXPECTED.keys()
    for host, expected in EXPECTED.items():
        assert got[host] == pytest.approx(expected), host


def test_windows_are_separate_and_self_loops_dropped() -> None:
    # Window [10, 20): the path X -> A -> Y, a self-loop on A (dropped) and an X -> A flow without a packet count.
    later = frame([("X", "A", 1), ("A", "Y", 2), ("A", "A", 9)], start_ts=15.0)
    unknown = frame([("X", "A", 0)], start_ts=16.0).with_columns(pl.lit(None, dtype=pl.Int64).alias("pkts_total"))
    features = graph_features(pl.concat([frame(HAND_EDGES), later, unknown]), 10.0)
    second = features.filter(pl.col("window_start") == 10.0)
    # A sits between X and Y: 1 of the (3-1)(3-2) = 2 ordered pairs; its two neighbours are not linked.
    assert second.select("host", *GRAPH_FEATURE_COLUMNS).rows() == [
        ("A", 1.0, 1.0, 1.0, 2.0, 0.5, 0.0),
        ("X", 0.0, 1.0, 0.0, 1.0, 0.0, 0.0),
        ("Y", 1.0, 0.0, 2.0, 0.0, 0.0, 0.0),
    ]
    assert features.filter(pl.col("window_start") == 0.0).height == 5


def test_empty_and_tiny_graphs() -> None:
    empty = graph_features(frame(HAND_EDGES).clear(), 60.0)
    assert empty.height == 0
    pair = graph_features(frame([("A", "B", 1), ("B", "A", 1)]), 60.0)
    assert pair["betweenness"].to_list() == [0.0, 0.0]
    assert directed_betweenness(2, np.array([0]), np.array([1])).tolist() == [0.0, 0.0]


def test_missing_columns() -> None:
    with pytest.raises(ValueError, match=r"graph_features needs column\(s\) \['pkts_total'\]"):
        graph_features(frame(HAND_EDGES).drop("pkts_total"), 10.0)


def botchase_clustering(graph: object, node: object) -> float:
    neighbours = (set(graph.predecessors(node)) | set(graph.successors(node))) - {node}  # type: ignore[attr-defined]
    k = len(neighbours)
    if k < 2:
        return 0.0
    links = sum(graph.has_edge(j, m) for j, m in itertools.permutations(neighbours, 2))  # type: ignore[attr-defined]
    return links / (k * (k - 1))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cross_check_with_networkx(seed: int) -> None:
    nx = pytest.importorskip("networkx")
    rng = np.random.default_rng(seed)
    n_flows = 400
    src = rng.integers(0, 60, n_flows)
    dst = rng.integers(0, 60, n_flows)
    pkts = rng.integers(1, 50, n_flows)
    flows = frame([(f"h{s}", f"h{d}", int(p)) for s, d, p in zip(src, dst, pkts, strict=True)])
    features = graph_features(flows, 60.0)
    graph = nx.DiGraph()
    for s, d, p in zip(src, dst, pkts, strict=True):
        if s != d:
            weight = graph.edges[f"h{s}", f"h{d}"]["weight"] if graph.has_edge(f"h{s}", f"h{d}") else 0
            graph.add_edge(f"h{s}", f"h{d}", weight=weight + int(p))
    betweenness = nx.betweenness_centrality(graph, normalized=True)
    assert features.height == graph.number_of_nodes()
    for row in features.iter_rows(named=True):
        host = row["host"]
        assert row["in_degree"] == graph.in_degree(host)
        assert row["out_degree"] == graph.out_degree(host)
        assert row["in_weight"] == graph.in_degree(host, weight="weight")
        assert row["out_weight"] == graph.out_degree(host, weight="weight")
        assert row["betweenness"] == pytest.approx(betweenness[host], abs=1e-12)
        assert row["local_clustering"] == pytest.approx(botchase_clustering(graph, host), abs=1e-12)
