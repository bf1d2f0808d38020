"""Small labelled flow sets for MTLF tests and benchmarks: benign hosts browsing, bot hosts scanning.

Seconds to train on, with hosts and time windows, so group-aware CV, calibration and provisioning can be tested
without the real datasets. Not a stand-in for them: docs/ml.md reports results on the real captures.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from nwdaf.lib.flows import conform_flows

_SERVERS = [f"198.51.100.{i}" for i in range(1, 9)]


def labelled_flows(
    *, benign_hosts: int = 12, bot_hosts: int = 6, windows: int = 12, window_s: float = 60.0, seed: int = 0,
    start_ts: float = 1_700_000_000.0,
) -> pl.DataFrame:
    """Flow records (flow schema, labelled) of ``benign_hosts`` web users and ``bot_hosts`` that also scan.

    Bots scan in a random ~60 % of windows (``label_detail`` ``scan``) and browse like everyone else, and some
    benign hosts burst, so the classes overlap and the model's probabilities are not all 0 or 1.
    """
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    for w in range(windows):
        t0 = start_ts + w * window_s
        for h in range(benign_hosts + bot_hosts):
            src = f"10.45.{0 if h < benign_hosts else 1}.{h + 2}"
            burst = h < benign_hosts and rng.random() < 0.1
            rows += _browse(rng, src, t0, window_s, extra=25 if burst else 0)
            if h >= benign_hosts and rng.random() < 0.6:
                rows += _scan(rng, src, t0, window_s)
    return conform_flows(pl.DataFrame(rows))


def _browse(rng: np.random.Generator, src: str, t0: float, window_s: float, extra: int) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for _ in range(int(rng.integers(2, 7)) + extra):
        pkts_fwd, pkts_bwd = int(rng.integers(4, 30)), int(rng.integers(4, 60))
        out.append({
            "start_ts": t0 + float(rng.uniform(0, window_s)), "duration_s": float(rng.uniform(0.05, 20)),
            "proto": "tcp", "src_ip": src, "src_port": int(rng.integers(32768, 60999)),
            "dst_ip": _SERVERS[int(rng.integers(0, 4 if extra == 0 else len(_SERVERS)))],
            "dst_port": 443, "state": "SF", "pkts_fwd": pkts_fwd, "pkts_bwd": pkts_bwd,
            "bytes_fwd": pkts_fwd * int(rng.integers(60, 400)), "bytes_bwd": pkts_bwd * int(rng.integers(200, 1400)),
            "label": "benign", "label_detail": "benign", "source": "synthetic:test",
        })
    return out


def _scan(rng: np.random.Generator, src: str, t0: float, window_s: float) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for _ in range(int(rng.integers(8, 40))):
        answered = rng.random() < 0.2
        out.append({
            "start_ts": t0 + float(rng.uniform(0, window_s)), "duration_s": float(rng.uniform(0, 0.5)),
            "proto": "tcp", "src_ip": src, "src_port": int(rng.integers(32768, 60999)),
            "dst_ip": f"203.0.{int(rng.integers(0, 255))}.{int(rng.integers(1, 255))}",
            "dst_port": int(rng.choice([23, 2323, 8080, 3128])), "state": "SF" if answered else "S0",
            "pkts_fwd": 1 + int(answered) * 3, "pkts_bwd": int(answered) * 3,
            "bytes_fwd": 60 + int(answered) * 180, "bytes_bwd": int(answered) * 180,
            "label": "malicious", "label_detail": "scan", "source": "synthetic:test",
        })
    return out
