"""Training benchmark: train + register the abnormal-behaviour (host-window) model on ~500k flow records.

    .venv/bin/python benchmarks/training.py [--flows 500000] [--profile fast|full] [--n-jobs -1] [--repeat N]
        [--group-by auto|host+window|host|window] [--json OUT]

Flows: the real captures resampled, not synthetic: CTU-13 scenarios 11+12 (bots), IoT-23 34-1 (Mirai + benign) and
the CIC-IDS2017 BENIGN sample, replicated until ``--flows`` rows with every replica's hosts renamed (``ip~rK``),
so a window holds K times as many hosts, each with the real flows of its original. Datasets absent -> the
synthetic set of :mod:`tests.support.mtlf_data` at the same size (said in the output). The flows are handed over
in memory (as a warehouse query would), so the time is features + CV search + calibration + fit + report +
MLflow registration (temporary SQLite store, its schema created before the clock starts), not the CSV import.

Profiles: ``fast`` = random forest + SMOTE, 3 folds; ``full`` = 3 candidates x 3 samplers, 5 folds. ``--group-by``
is the CV grouping (``auto`` = the default of ``nwdaf ml train``); ``--repeat N`` trains N times in one process
(the first run pays the process's one-off imports and caches, as a fresh ``nwdaf ml train`` does; later runs are
what a long-running MTLF sees).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script: the repo root holds benchmarks.support and tests.support (neither ships in the wheel).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import os
import tempfile
import time
from typing import Any

import polars as pl
from tests.support.mtlf_data import labelled_flows

from nwdaf.lib.flows import read_flows
from nwdaf.nf.mtlf.registry import ModelRegistry
from nwdaf.nf.mtlf.train import train
from nwdaf.nf.mtlf.train.config import TrainConfig

DATASETS = Path(os.environ.get("NWDAF_DATASETS_DIR", Path(__file__).resolve().parents[2] / "shared" / "datasets"))
SPECS = (
    "binetflow:{d}/ctu13_sc11_sc12_botnet_only/*.gz",
    "zeek:{d}/iot23_ctu_iot_malware_capture_34_1/conn.log.labeled.gz",
    "cicflow:{d}/cicids2017_improved_random_samples/BENIGN_5000.csv.gz",
)
PROFILES: dict[str, dict[str, Any]] = {
    "fast": {"candidates": ["random_forest"], "samplers": ["smote"], "n_splits": 3},
    "full": {"candidates": ["random_forest", "hist_gradient_boosting", "logistic_regression"],
             "samplers": ["smote", "undersample", "smoteenn"], "n_splits": 5},
}


def real_flows(target: int) -> tuple[pl.DataFrame, str]:
    base = pl.concat([read_flows(s.format(d=DATASETS)) for s in SPECS], how="diagonal_relaxed")
    # Each source starts at the same instant, as training does with align_sources.
    first = pl.col("start_ts").min()
    base = base.with_columns(pl.col("start_ts") - first.over("source") + first)
    replicas = -(-target // base.height)
    parts = [base.with_columns(pl.col("src_ip") + f"~r{k}", pl.col("dst_ip") + f"~r{k}") for k in range(replicas)]
    return pl.concat(parts).head(target), f"real captures resampled ({base.height:,} flows x {replicas} replicas)"


def synthetic_flows(target: int) -> tuple[pl.DataFrame, str]:
    frames, seed, total = [], 0, 0
    while total < target:
        part = labelled_flows(seed=seed, benign_hosts=200, bot_hosts=40, windows=60)
        frames.append(part.with_columns(pl.col("src_ip") + f"~s{seed}"))
        total += part.height
        seed += 1
    return pl.concat(frames).head(target), "synthetic flows (datasets absent)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flows", type=int, default=500_000)
    parser.add_argument("--profile", choices=sorted(PROFILES), default="fast")
    parser.add_argument("--group-by", choices=["auto", "host+window", "host", "window"], default="auto")
    parser.add_argument("--n-jobs", type=int, default=-1)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    flows, origin = real_flows(args.flows) if (DATASETS / "README.md").is_file() else synthetic_flows(args.flows)
    runs = []
    with tempfile.TemporaryDirectory(prefix="nwdaf-bench-training-") as tmp:
        config = TrainConfig(flows=flows, report_dir=Path(tmp) / "reports", tracking_uri=f"sqlite:///{tmp}/m.db",
                             artifact_root=f"{tmp}/art", alias="champion", n_jobs=args.n_jobs, progress=False,
                             group_by=args.group_by, **PROFILES[args.profile])
        # A running NWDAF has its registry store already: create the SQLite schema outside the timed part.
        start = time.perf_counter()
        ModelRegistry(config.tracking_uri, config.artifact_root).experiment_id()
        store_init = time.perf_counter() - start
        for _ in range(args.repeat):
            runs.append(timed_run(config))
    report = {"flows": flows.height, "origin": origin, "profile": args.profile, "group_by": args.group_by,
              "store_init_s": store_init, "cpus": os.cpu_count(), "load_avg": os.getloadavg(), "runs": runs}
    print(f"{flows.height:,} flows ({origin}), profile {args.profile}, group_by {args.group_by}: "
          f"{runs[0]['host_windows']:,} host-windows; registry store creation before the clock {store_init:.2f} s")
    for i, run in enumerate(runs, start=1):
        print(f"run {i}: wall {run['wall_s']:.2f} s (CPU {run['cpu_s']:.2f} s) = "
              + ", ".join(f"{k.removesuffix('_s')} {v:.2f}" for k, v in run["timings"].items())
              + f" | {run['group_kind']} groups, train/test/left-out rows {run['rows']}, "
              f"selected {run['selected']['candidate']}+{run['selected']['sampler']}, test F1 {run['test_f1']:.3f} "
              f"MCC {run['test_mcc']:.3f}, registered v{run['version']}")
    print(f"load average (1, 5, 15 min) after the runs: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    return 0


def timed_run(config: TrainConfig) -> dict[str, Any]:
    """Wall time, and CPU time of this process (every thread): the cores are shared, so wall time moves with the
    other work on the machine while CPU time mostly does not."""
    start, cpu = time.perf_counter(), time.process_time()
    result = train(config)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    data, test = result.metrics["data"], result.metrics["test"]
    return {
        "wall_s": wall, "cpu_s": cpu, "timings": result.timings, "host_windows": data["rows"],
        "group_kind": result.group_kind,
        "rows": [data["train_rows"], data["test_rows"], data["left_out_rows"]], "selected": result.metrics["selected"],
        "test_f1": test["f1"], "test_mcc": test["mcc"], "version": result.version,
    }


if __name__ == "__main__":
    sys.exit(main())
