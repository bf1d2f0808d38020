"""Per-host, per-window features of the directed communication graph: the bot-detection features of BotChase.

The ``host_window`` bot-detection model (trained by the MTLF, scored by the ABNORMAL_BEHAVIOUR engine) uses these
per-host graph features as BotChase defines them (Abou Daya et al., IEEE TNSM 17(1), 2020): in/out degree,
weighted in/out degree, betweenness centrality and the local clustering coefficient. Per tumbling window of
``start_ts``:

* nodes are IP addresses; an edge ``a -> b`` exists when at least one flow went from ``a`` to ``b``. Self-loops
  (``src_ip == dst_ip``) are dropped, so a host seen only in such flows has no row.
* ``in_degree``/``out_degree``: distinct predecessors / successors.
* ``in_weight``/``out_weight``: packets (``pkts_total``, both directions of a flow) summed over the in / out
  edges; flows without a packet count are ignored.
* ``betweenness``: directed betweenness on hop-count shortest paths, as BotChase defines it (packet counts are not
  distances, so they are not used as weights). **Normalised** by ``(n-1)(n-2)``, the number
  of ordered pairs excluding the node, so values in [0, 1] compare across windows of different size; 0 for n < 3.
* ``local_clustering``: BotChase's directed local clustering coefficient, computed on the directed graph, **not**
  on the undirected projection: with ``N(v)`` the nodes linked to ``v`` in either direction and ``k = |N(v)|``,
  the number of directed edges among ``N(v)`` divided by ``k(k-1)``; 0 when ``k < 2``. A reciprocated pair
  among the neighbours counts twice, so the value reaches 1 only for a fully reciprocated neighbourhood.

Degrees, weights and triangles are polars group-bys/joins over all windows at once; betweenness runs igraph's
exact Brandes implementation once per window (the fastest of igraph, rustworkx and networkx, see
``benchmarks.features``). Brandes costs O(n*m) per window in the worst case but only the nodes
reachable from each source are visited, so the usual UE -> server star shape is cheap; windows where no node has
both an in- and an out-edge skip it (all zeros).
"""

from __future__ import annotations

from typing import Final

import igraph
import numpy as np
import polars as pl

from nwdaf.lib.features._common import HOST, WINDOW, as_features, check_window, require, window_expr, with_traffic

FEATURE_COLUMNS: Final = (
    "in_degree",
    "out_degree",
    "in_weight",
    "out_weight",
    "betweenness",
    "local_clustering",
)
KEY_COLUMNS: Final = (WINDOW, HOST)


def graph_features(flows: pl.DataFrame, window_s: float) -> pl.DataFrame:
    """One row per (``window_start``, ``host``) with :data:`FEATURE_COLUMNS`, sorted by window then host."""
    check_window(window_s)
    require(flows, ("start_ts", "src_ip", "dst_ip", "pkts_total"), "graph_features")
    flows = with_traffic(flows)
    edges = (
        flows.filter(pl.col("src_ip") != pl.col("dst_ip"))
        .group_by(window_expr(window_s), pl.col("src_ip"), pl.col("dst_ip"))
        .agg(pl.col("pkts_total").sum().alias("weight"))
    )
    nodes = _number_nodes(edges)
    ids = nodes.select(WINDOW, HOST, "id")
    edges = edges.join(ids.rename({HOST: "src_ip", "id": "u"}), on=[WINDOW, "src_ip"]).join(
        ids.rename({HOST: "dst_ip", "id": "v"}), on=[WINDOW, "dst_ip"]
    )
    out_deg = edges.group_by(WINDOW, pl.col("u").alias("id")).agg(
        pl.len().alias("out_degree"), pl.col("weight").sum().alias("out_weight")
    )
    in_deg = edges.group_by(WINDOW, pl.col("v").alias("id")).agg(
        pl.len().alias("in_degree"), pl.col("weight").sum().alias("in_weight")
    )
    on = [WINDOW, "id"]
    result = (
        nodes.join(out_deg, on=on, how="left")
        .join(in_deg, on=on, how="left")
        .join(_betweenness(edges, nodes), on=on, how="left")
        .join(_clustering(edges), on=on, how="left")
        .with_columns(pl.col(*FEATURE_COLUMNS).fill_null(0))
    )
    return result.select(pl.col(WINDOW), pl.col(HOST), *as_features(FEATURE_COLUMNS)).sort(WINDOW, HOST)


def _number_nodes(edges: pl.DataFrame) -> pl.DataFrame:
    """Distinct (window, host) with a dense 0-based ``id`` per window."""
    ends = pl.concat(
        [edges.select(WINDOW, pl.col("src_ip").alias(HOST)), edges.select(WINDOW, pl.col("dst_ip").alias(HOST))]
    )
    return (
        ends.unique().sort(WINDOW, HOST).with_columns(pl.int_range(pl.len(), dtype=pl.Int64).over(WINDOW).alias("id"))
    )


def _betweenness(edges: pl.DataFrame, nodes: pl.DataFrame) -> pl.DataFrame:
    """Normalised directed betweenness per (window, id); one igraph run per window that has a 2-hop path."""
    # Only a node with both an in- and an out-edge can lie inside a shortest path.
    inner = edges.select(WINDOW, pl.col("v").alias("id")).join(
        edges.select(WINDOW, pl.col("u").alias("id")), on=[WINDOW, "id"], how="semi"
    )
    busy = inner.get_column(WINDOW).unique()
    sizes = dict(nodes.group_by(WINDOW).agg(pl.len()).iter_rows())
    parts: list[pl.DataFrame] = []
    for (window,), group in edges.filter(pl.col(WINDOW).is_in(busy)).partition_by(WINDOW, as_dict=True).items():
        n = int(sizes[window])
        scores = directed_betweenness(n, group.get_column("u").to_numpy(), group.get_column("v").to_numpy())
        parts.append(pl.DataFrame({WINDOW: np.full(n, window), "id": np.arange(n), "betweenness": scores}))
    if not parts:
        return pl.DataFrame(schema={WINDOW: pl.Float64, "id": pl.Int64, "betweenness": pl.Float64})
    return pl.concat(parts)


def directed_betweenness(n: int, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Betweenness of nodes ``0..n-1`` of the directed graph ``sources[i] -> targets[i]``, divided by (n-1)(n-2)."""
    if n < 3:
        return np.zeros(n)
    graph = igraph.Graph(n=n, edges=np.column_stack((sources, targets)).tolist(), directed=True)
    raw = np.asarray(graph.betweenness(directed=True), dtype=np.float64)
    return raw / ((n - 1) * (n - 2))


def _clustering(edges: pl.DataFrame) -> pl.DataFrame:
    """BotChase directed local clustering per (window, id), from an exact vectorised triangle listing."""
    pairs = (
        edges.select(WINDOW, pl.min_horizontal("u", "v").alias("a"), pl.max_horizontal("u", "v").alias("b"))
        .group_by(WINDOW, "a", "b")
        .agg(pl.len().alias("mult"))  # 1, or 2 for a reciprocated pair
    )
    degree = pl.concat([pairs.select(WINDOW, pl.col("a").alias("id")), pairs.select(WINDOW, pl.col("b").alias("id"))])
    degree = degree.group_by(WINDOW, "id").agg(pl.len().alias("k"))
    contributions = _triangle_contributions(pairs, degree)
    per_node = contributions.group_by(WINDOW, "id").agg(pl.col("c").sum())
    return degree.join(per_node, on=[WINDOW, "id"], how="left").select(
        WINDOW,
        "id",
        pl.when(pl.col("k") >= 2)
        .then(pl.col("c").fill_null(0) / (pl.col("k") * (pl.col("k") - 1)))
        .otherwise(0.0)
        .alias("local_clustering"),
    )


def _triangle_contributions(pairs: pl.DataFrame, degree: pl.DataFrame) -> pl.DataFrame:
    """For each triangle {x, y, z}: x gets the number of directed edges between y and z, and so on.

    Each undirected pair is oriented from the endpoint of lower (degree, id) rank to the higher one; every
    triangle then shows up exactly once as a wedge x->y, x->z at its lowest-ranked node x, and the oriented
    out-degree stays below sqrt(2m), which bounds the wedge join.
    """
    k = degree.rename({"id": "a", "k": "ka"})
    ranked = pairs.join(k, on=[WINDOW, "a"]).join(k.rename({"a": "b", "ka": "kb"}), on=[WINDOW, "b"])
    a_first = (pl.col("ka") < pl.col("kb")) | ((pl.col("ka") == pl.col("kb")) & (pl.col("a") < pl.col("b")))
    oriented = ranked.select(
        WINDOW,
        pl.when(a_first).then(pl.col("a")).otherwise(pl.col("b")).alias("x"),
        pl.when(a_first).then(pl.col("b")).otherwise(pl.col("a")).alias("y"),
        pl.col("mult"),
    )
    wedges = oriented.join(oriented, on=[WINDOW, "x"], suffix="2").filter(pl.col("y") < pl.col("y2"))
    closing = pairs.rename({"a": "y", "b": "y2", "mult": "mult_yz"})
    triangles = wedges.join(closing, on=[WINDOW, "y", "y2"])
    return pl.concat(
        [
            triangles.select(WINDOW, pl.col("x").alias("id"), pl.col("mult_yz").alias("c")),
            triangles.select(WINDOW, pl.col("y").alias("id"), pl.col("mult2").alias("c")),
            triangles.select(WINDOW, pl.col("y2").alias("id"), pl.col("mult").alias("c")),
        ]
    )
