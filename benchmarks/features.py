"""Feature throughput and betweenness-backend timings on synthetic per-UE traffic.

Run: ``.venv/bin/python benchmarks/features.py [--flows 500000] [--window 60]``.

The synthetic traffic looks like a UPF's view of a mobile network: UEs in 10.45.0.0/16 open flows to internet
servers chosen with a Zipf popularity; a share of the flows go UE -> UE (peer-to-peer, where bots live), which
gives nodes with both in- and out-edges and so non-trivial betweenness. rustworkx and networkx are optional
here (timed when installed); the feature code itself uses igraph.
"""

from __future__ import annotations

import argparse
import importlib
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from nwdaf.lib.features.graph import directed_betweenness, graph_features
from nwdaf.lib.features.host import host_window_features
from nwdaf.lib.flows.schema import conform_flows


def synthetic_flows(
    n_flows: int,
    *,
    seed: int = 7,
    duration_s: float = 600.0,
    n_ues: int = 5000,
    n_servers: int = 20000,
    p2p_share: float = 0.05,
) -> pl.DataFrame:
    """``n_flows`` flow records in the flow schema (plus ``supi``), reproducible for a given ``seed``."""
    rng = np.random.default_rng(seed)
    ue = rng.integers(0, n_ues, n_flows)
    server = np.minimum(rng.zipf(1.3, n_flows) - 1, n_servers - 1)
    peer_ue = rng.integers(0, n_ues, n_flows)
    p2p = rng.random(n_flows) < p2p_share
    ue_ips = _addresses("10.45.{}.{}", n_ues)
    server_ips = _addresses("198.{}.{}.{}", n_servers, first_octet_base=18)
    proto = rng.choice(np.array(["tcp", "udp", "icmp"]), n_flows, p=[0.7, 0.28, 0.02])
    pkts_fwd = rng.geometric(0.1, n_flows)
    pkts_bwd = rng.geometric(0.08, n_flows)
    frame = pl.DataFrame(
        {
            "start_ts": 1.7e9 + np.sort(rng.random(n_flows) * duration_s),
            "duration_s": rng.exponential(5.0, n_flows),
            "proto": proto,
            "src_ip": ue_ips.gather(ue),
            "src_port": rng.integers(1024, 65536, n_flows).astype(np.int32),
            "dst_ip": server_ips.gather(server),
            "dst_port": rng.choice(np.array([443, 80, 53, 8080, 6881], dtype=np.int32), n_flows),
            "state": rng.choice(np.array(["SF", "S0", "REJ", "OTH"]), n_flows, p=[0.8, 0.1, 0.05, 0.05]),
            "pkts_fwd": pkts_fwd,
            "pkts_bwd": pkts_bwd,
            "bytes_fwd": pkts_fwd * rng.integers(40, 1500, n_flows),
            "bytes_bwd": pkts_bwd * rng.integers(40, 1500, n_flows),
            "supi": (ue + 1_000_000_000).astype(str),
        }
    )
    frame = frame.with_columns(
        pl.when(pl.Series(p2p)).then(ue_ips.gather(peer_ue)).otherwise(pl.col("dst_ip")).alias("dst_ip"),
        pl.lit("nwdaf-synthetic").alias("source"),
    )
    return conform_flows(frame, include_labels=False)


def _addresses(pattern: str, count: int, first_octet_base: int | None = None) -> pl.Series:
    """``count`` distinct dotted addresses from ``pattern`` (two or three placeholders)."""
    i = pl.int_range(count, eager=True)
    parts = [i // 256 % 256, i % 256]
    if first_octet_base is not None:
        parts.insert(0, i // 65536 + first_octet_base)
    return pl.select(pl.format(pattern, *[pl.lit(part) for part in parts])).to_series()


def _timed(fn: Callable[[], Any], repeat: int = 3) -> float:
    """Best wall time of ``repeat`` runs (seconds)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _edges_of_window(flows: pl.DataFrame) -> tuple[int, np.ndarray, np.ndarray]:
    edges = flows.filter(pl.col("src_ip") != pl.col("dst_ip")).select("src_ip", "dst_ip").unique()
    hosts = pl.concat([edges.get_column("src_ip"), edges.get_column("dst_ip")]).unique().sort()
    index = pl.DataFrame({"ip": hosts, "id": np.arange(len(hosts))})
    ids = edges.join(index.rename({"ip": "src_ip", "id": "u"}), on="src_ip").join(
        index.rename({"ip": "dst_ip", "id": "v"}), on="dst_ip"
    )
    return len(hosts), ids.get_column("u").to_numpy(), ids.get_column("v").to_numpy()


def _rustworkx(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    rx = importlib.import_module("rustworkx")
    graph = rx.PyDiGraph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from_no_data(list(zip(u.tolist(), v.tolist(), strict=True)))
    scores = rx.digraph_betweenness_centrality(graph, normalized=True)
    return np.array([scores[i] for i in range(n)])


def _networkx(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    nx = importlib.import_module("networkx")
    graph = nx.DiGraph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(zip(u.tolist(), v.tolist(), strict=True))
    scores = nx.betweenness_centrality(graph, normalized=True)
    return np.array([scores[i] for i in range(n)])


def compare_betweenness(flows: pl.DataFrame, *, with_networkx: bool = True) -> dict[str, float | None]:
    """Seconds per backend for one window's betweenness (None: backend not installed); checks they agree."""
    n, u, v = _edges_of_window(flows)
    reference = directed_betweenness(n, u, v)
    results: dict[str, float | None] = {"nodes": float(n), "edges": float(len(u))}
    results["igraph"] = _timed(lambda: directed_betweenness(n, u, v))
    backends = [("rustworkx", _rustworkx)] + ([("networkx", _networkx)] if with_networkx else [])
    for name, backend in backends:
        try:
            other = backend(n, u, v)
        except ModuleNotFoundError:
            results[name] = None
            continue
        if not np.allclose(other, reference, atol=1e-12):
            raise AssertionError(f"{name} betweenness disagrees with igraph")
        results[name] = _timed(lambda backend=backend: backend(n, u, v), repeat=1 if name == "networkx" else 3)  # type: ignore[misc]
    return results


def main(argv: list[str] | None = None) -> None:
    """Print flows/s of each feature function and the betweenness backend comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--flows", type=int, default=500_000)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--p2p-share", type=float, default=0.05, help="share of UE -> UE flows")
    parser.add_argument("--no-networkx", action="store_true", help="skip the (slow) networkx betweenness")
    args = parser.parse_args(argv)
    flows = synthetic_flows(args.flows, p2p_share=args.p2p_share)
    span = flows.select(pl.col("start_ts").max() - pl.col("start_ts").min()).item()
    print(f"synthetic flows: {flows.height:,} over {span:.0f} s")
    for name, fn in (("host_window_features", host_window_features), ("graph_features", graph_features)):
        seconds = _timed(lambda fn=fn: fn(flows, args.window), repeat=2)  # type: ignore[misc]
        print(f"{name}: {seconds:.2f} s = {flows.height / seconds:,.0f} flows/s (window {args.window:g} s)")
    first = flows.filter(pl.col("start_ts") < pl.col("start_ts").min() + args.window)
    print("betweenness, one window:", compare_betweenness(first, with_networkx=not args.no_networkx))


if __name__ == "__main__":
    main()
