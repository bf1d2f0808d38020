"""Closed-loop benchmark (issue 6): attack -> release at reporting periods 1, 3, 5 s; lateness of PERIODIC
notifications with many subscriptions; idle CPU of each service.

    .venv/bin/python benchmarks/closed_loop.py [--runs 20] [--periods 1 3 5] [--json OUT] [--png OUT]
        [--smf-method ON_EVENT_DETECTION|PERIODIC] [--registry-dir DIR]
        [--subscriptions 10000 ...] [--lateness-periods 10] [--client http1|httpx] [--receiver-kind hypercorn|raw]
        [--notify-concurrency N] [--keepalive N] [--h2c]
        [--idle-s 30] [--settle-s 30] [--skip-loop] [--skip-lateness] [--skip-idle]

1. ``--runs`` closed-loop runs per period (``benchmarks.support.closed_loop``), one model registry per period
   (trained once, kept in ``--registry-dir``), the SMF subscribed with ``--smf-method``; p50/p95 of attack start ->
   release in periods, benign UEs released; the figure.
2. The NBI (anlf service) on 127.0.0.1 with ``--subscriptions`` PERIODIC (1 s) subscriptions whose callback is a
   real HTTP server in a child process; due -> sent and due -> received lateness over ``--lateness-periods`` s
   (``benchmarks/notify_lateness.py``, also runnable alone).
3. ``nwdaf run`` processes on loopback with source ``none``: CPU time from /proc/PID/stat over ``--idle-s`` s.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script: the repo root holds benchmarks.support and tests.support (neither ships in the wheel).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import asyncio
import json
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping
from typing import Any

import yaml
from benchmarks.support import closed_loop as bench
from tests.support.profiling import cpu_ticks

from nwdaf.app.config import Settings, load_settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from notify_lateness import add_arguments, run_all, stop_process

# --- 1. closed loop ------------------------------------------------------------------------------------------


def closed_loop(base: Settings, config: bench.BenchConfig, png: Path) -> dict[str, Any]:
    bench.prepare_models(base, config, print)
    summaries, runs = [], []
    for period in config.periods:
        reports, seeds = [], config.seeds(period)
        for i, seed in enumerate(seeds):
            t = time.monotonic()
            report = asyncio.run(bench.run_once(base, config, period, seed))
            reports.append(report)
            rel = [f"{s.attack} {s.release:.2f}s" if s.release is not None else f"{s.attack} NOT released"
                   for s in bench.bot_samples(report, seed)]
            print(f"period {period} s run {i + 1}/{len(seeds)} seed {seed}: {', '.join(rel)}; benign released "
                  f"{bench.benign_released(report)} ({time.monotonic() - t:.0f} s)", flush=True)
        summaries.append(bench.summarise(period, reports, seeds))
        runs.append({"period_s": period, "seeds": seeds, "reports": reports})
    print("\n" + bench.markdown_table(summaries) + "\n\n" + bench.stages_table(summaries))
    bench.plot(summaries, png)
    print(f"figure written to {png} ({png.stat().st_size / 1024:.0f} KiB)")
    return {"summaries": [s.to_json() for s in summaries], "runs": runs}


# --- 2. notification lateness: benchmarks/notify_lateness.py -------------------------------------------


# --- 3. idle CPU ---------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _process_config(tmp: Path, name: str, ports: Mapping[str, int], registry: Path) -> Path:
    """The YAML of one process: its own data dir and NWDAF port; peers at their ports; the trained registry."""
    data = tmp / name
    data.mkdir()
    anlf = ports.get("nwdaf:anlf", ports["nwdaf"])
    config = {
        "data_dir": str(data),
        "nwdaf_sbi": {"port": ports.get(f"nwdaf:{name}", ports["nwdaf"])},
        "upf_sbi": {"port": ports["upf"]}, "smf_sbi": {"port": ports["smf"]},
        "storage": {"timeseries_url": f"chdb://{data}/chdb", "warehouse_url": f"chdb://{data}/chdb"},
        "ml": {"tracking_uri": f"sqlite:///{registry}/mlflow.db", "artifact_root": str(registry / "mlartifacts")},
        "collector": {"upf_ee": [{"api_root": f"http://127.0.0.1:{ports['upf']}", "rep_period_s": 1}]},
        "smf": {"nwdaf_api_root": f"http://127.0.0.1:{anlf}",
                "upf_api_root": f"http://127.0.0.1:{ports['upf']}", "audit_file": ""},
        "logging": {"level": "WARNING"},
    }
    if "nwdaf:mtlf" in ports:
        config["engines"] = {"mtlf_api_root": f"http://127.0.0.1:{ports['nwdaf:mtlf']}"}
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


NWDAF_SERVICES = ["storage", "mtlf", "anlf", "processor", "engines", "collector"]
LAYOUTS: dict[str, dict[str, list[str]]] = {
    "one process (run all)": {"all": ["all"]},
    "one process per NF": {"upf": ["upf"], "nwdaf": NWDAF_SERVICES, "smf": ["smf"]},
    "one process per service": {"upf": ["upf"], **{s: [s] for s in NWDAF_SERVICES}, "smf": ["smf"]},
}


def idle_cpu(layout: Mapping[str, list[str]], idle_s: float, settle_s: float, registry: Path) -> dict[str, float]:
    """Millicores of each process of ``layout`` over ``idle_s`` seconds, from ``settle_s`` after their launch."""
    ports = {"upf": _free_port(), "smf": _free_port(), "nwdaf": _free_port()}
    ports.update({f"nwdaf:{s}": _free_port() for s in layout if s in NWDAF_SERVICES})
    procs: dict[str, subprocess.Popen[bytes]] = {}
    with tempfile.TemporaryDirectory(prefix="nwdaf-idle-") as tmp:
        try:
            for name, services in layout.items():
                cfg = _process_config(Path(tmp), name, ports, registry)
                procs[name] = subprocess.Popen([str(Path(sys.executable).parent / "nwdaf"), "-c", str(cfg), "run",
                                                *services], stdout=subprocess.DEVNULL)
            time.sleep(settle_s)
            dead = [n for n, p in procs.items() if p.poll() is not None]
            if dead:
                raise RuntimeError(f"service process(es) {dead} exited during start-up")
            before = {n: cpu_ticks(p.pid) for n, p in procs.items()}
            t = time.monotonic()
            time.sleep(idle_s)
            after = {n: cpu_ticks(p.pid) for n, p in procs.items()}
            elapsed = time.monotonic() - t
        finally:
            for proc in reversed(procs.values()):
                stop_process(proc)
    hz = os.sysconf("SC_CLK_TCK")
    return {n: round((after[n] - before[n]) / hz / elapsed * 1000, 1) for n in procs}


# --- command -------------------------------------------------------------------------------------------------


def _args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--periods", type=int, nargs="+", default=[1, 3, 5])
    ap.add_argument("--benign", type=int, default=20)
    ap.add_argument("--smf-method", choices=["ON_EVENT_DETECTION", "PERIODIC"], default="ON_EVENT_DETECTION",
                    help="How the SMF subscribes to the NWDAF: reports on detection (its default), or PERIODIC at "
                         "the period under test.")
    ap.add_argument("--registry-dir", type=Path, default=Path(".run/bench-closed-loop"))
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--png", type=Path, default=Path("closed_loop.png"))
    add_arguments(ap)
    ap.add_argument("--idle-s", type=float, default=30.0)
    ap.add_argument("--settle-s", type=float, default=30.0, help="Wait after start-up before measuring idle CPU.")
    for part in ("loop", "lateness", "idle"):
        ap.add_argument(f"--skip-{part}", action="store_true")
    return ap.parse_args()


def main() -> None:
    args = _args()
    if args.runs < 1 or any(p < 1 for p in args.periods):
        raise SystemExit("--runs and --periods must be >= 1")
    base = load_settings(None)
    bench.quiet_logs()
    out: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
    config = bench.BenchConfig(args.registry_dir, tuple(args.periods), args.runs, args.benign,
                               smf_method=args.smf_method)
    if not args.skip_loop:
        out["closed_loop"] = closed_loop(base, config, args.png)
    if not args.skip_lateness:
        out["lateness"] = run_all(args)
    if not args.skip_idle:
        bench.prepare_models(base, bench.BenchConfig(args.registry_dir, (1,)), print)
        registry = bench.registry_for(args.registry_dir, 1).resolve()
        out["idle_millicores"] = {}
        for label, layout in LAYOUTS.items():
            out["idle_millicores"][label] = idle_cpu(layout, args.idle_s, args.settle_s, registry)
            print(f"idle CPU, {label}: {out['idle_millicores'][label]} millicores", flush=True)
    if args.json is not None:
        args.json.write_bytes(json.dumps(out, indent=2).encode())


if __name__ == "__main__":
    main()
