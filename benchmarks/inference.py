"""Inference benchmark: in-process scoring (the AnLF's ModelHolder path) vs the same model served by
``mlflow models serve --env-manager local`` over HTTP on 127.0.0.1, batches of 1, 100 and 10,000 rows.

    .venv/bin/python benchmarks/inference.py [--model-uri models:/NAME/VERSION --tracking-uri URI]
                                             [--repeats N] [--json OUT]

Without ``--model-uri`` a small abnormal-behaviour model is trained on synthetic flows
(:mod:`tests.support.mtlf_data`) and registered in a temporary SQLite registry. Both paths score the same
feature rows; the benchmark checks they return the same probabilities before timing them.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script: the repo root holds benchmarks.support and tests.support (neither ships in the wheel).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx
import numpy as np
import polars as pl
from tests.support.mtlf_data import labelled_flows

from nwdaf.lib.ml.bundle import ModelBundle, feature_matrix
from nwdaf.nf.mtlf.registry import ModelRegistry
from nwdaf.nf.mtlf.train import train
from nwdaf.nf.mtlf.train.config import TrainConfig

BATCHES = (1, 100, 10_000)


@dataclass
class Row:
    batch: int
    in_process_ms_p50: float
    in_process_ms_p95: float
    http_ms_p50: float
    http_ms_p95: float
    ratio_p50: float
    in_process_rows_s: float
    http_rows_s: float


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def trained_model(tmp: Path) -> tuple[str, str]:
    result = train(TrainConfig(
        flows=labelled_flows(seed=1, benign_hosts=40, bot_hosts=10, windows=20),
        candidates=["random_forest"], samplers=["smote"], n_splits=3, progress=False, alias="champion",
        report_dir=tmp / "reports", tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}", artifact_root=str(tmp / "art"),
    ))
    return f"models:/{result.model_name}/{result.version}", f"sqlite:///{tmp / 'mlflow.db'}"


def serve(model_uri: str, tracking_uri: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cmd = [sys.executable, "-m", "mlflow", "models", "serve", "-m", model_uri, "--env-manager", "local",
           "-h", "127.0.0.1", "-p", str(port), "-w", "1"]
    # The scoring server execs ``uvicorn`` by name: the interpreter's bin directory must be on PATH.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking_uri, "PATH": path}
    proc = subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mlflow models serve exited {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/ping", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    stop(proc)
    raise RuntimeError("mlflow models serve did not answer /ping within 120 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


def feature_rows(bundle: ModelBundle, n: int) -> pl.DataFrame:
    from nwdaf.lib.features import graph_features, host_window_features

    flows = labelled_flows(seed=9, benign_hosts=40, bot_hosts=10, windows=6)
    feats = host_window_features(flows, 60.0).join(graph_features(flows, 60.0), on=["window_start", "host"])
    base = feats.select(bundle.meta.feature_columns)
    reps = -(-n // base.height)
    return pl.concat([base] * reps).head(n)


def timed(fn: Any, repeats: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def measure(bundle: ModelBundle, url: str, repeats: int) -> list[Row]:
    rows: list[Row] = []
    with httpx.Client(timeout=120) as http:
        for n in BATCHES:
            frame = feature_rows(bundle, n)
            body = {"dataframe_split": {"columns": frame.columns, "data": [list(r) for r in frame.rows()]}}
            local = bundle.predict_proba(feature_matrix(frame, bundle.meta.feature_columns))
            remote = np.asarray(http.post(f"{url}/invocations", json=body).json()["predictions"], dtype=float)
            np.testing.assert_allclose(local, remote, rtol=1e-9, atol=1e-12)
            reps = repeats if n < 10_000 else max(5, repeats // 10)
            ip = timed(lambda f=frame: bundle.predict_proba(feature_matrix(f, bundle.meta.feature_columns)), reps)
            hp = timed(lambda b=body: http.post(f"{url}/invocations", json=b).raise_for_status(), reps)
            rows.append(_row(n, ip, hp))
    return rows


def _row(n: int, ip: list[float], hp: list[float]) -> Row:
    ip50, hp50 = statistics.median(ip), statistics.median(hp)
    return Row(n, ip50, float(np.percentile(ip, 95)), hp50, float(np.percentile(hp, 95)), hp50 / ip50,
               n / (ip50 / 1000), n / (hp50 / 1000))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-uri", help="models:/NAME/VERSION (needs --tracking-uri)")
    parser.add_argument("--tracking-uri")
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nwdaf-bench-inference-") as tmp:
        model_uri, tracking_uri = (args.model_uri, args.tracking_uri) if args.model_uri else trained_model(Path(tmp))
        bundle = ModelBundle.from_bytes(ModelRegistry(tracking_uri, str(Path(tmp) / "art"))
                                        .artifact_bytes_for_uri(model_uri))
        proc, url = serve(model_uri, tracking_uri, Path(tmp) / "serve.log")
        try:
            rows = measure(bundle, url, args.repeats)
        finally:
            stop(proc)
    print(f"model {model_uri}: {bundle.meta.candidate} ({len(bundle.meta.feature_columns)} features), "
          f"repeats {args.repeats}")
    print(f"{'batch':>7} {'in-proc p50 ms':>15} {'p95':>8} {'HTTP p50 ms':>12} {'p95':>8} {'HTTP/in-proc':>13} "
          f"{'in-proc rows/s':>15} {'HTTP rows/s':>12}")
    for r in rows:
        print(f"{r.batch:>7} {r.in_process_ms_p50:>15.3f} {r.in_process_ms_p95:>8.3f} {r.http_ms_p50:>12.3f} "
              f"{r.http_ms_p95:>8.3f} {r.ratio_p50:>12.1f}x {r.in_process_rows_s:>15,.0f} {r.http_rows_s:>12,.0f}")
    if args.json:
        args.json.write_text(json.dumps({"model": model_uri, "candidate": bundle.meta.candidate,
                                         "rows": [asdict(r) for r in rows]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
