"""Closed-loop benchmark (issue 6): attack -> release at reporting periods 1, 3, 5 s; lateness of PERIODIC
notifications with many subscriptions; idle CPU of each service.

    .venv/bin/python benchmarks/closed_loop.py [--runs 20] [--periods 1 3 5] [--json OUT] [--png OUT]
        [--smf-method PERIODIC|THRESHOLD] [--registry-dir DIR]
        [--subscriptions 10000 ...] [--lateness-periods 10] [--notify-concurrency N] [--keepalive N] [--h2c]
        [--idle-s 30] [--settle-s 30] [--skip-loop] [--skip-lateness] [--skip-idle]

1. ``--runs`` closed-loop runs per period (``nwdaf.demo.bench``), one model registry per period (trained once,
   kept in ``--registry-dir``); p50/p95 of attack start -> release in periods, benign UEs released; the figure.
2. The NBI (anlf service) on 127.0.0.1 with ``--subscriptions`` PERIODIC (1 s) subscriptions whose callback is a
   real HTTP server in a child process; due -> sent and due -> received lateness over ``--lateness-periods`` s.
3. ``nwdaf run`` processes on loopback with source ``none``: CPU time from /proc/PID/stat over ``--idle-s`` s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from nwdaf.anlf.config import AnlfSettings
from nwdaf.anlf.notifier import Delivery, Notifier
from nwdaf.anlf.processor import EventsSubscriptionProcessor
from nwdaf.anlf.service import build_anlf
from nwdaf.bus import create_bus
from nwdaf.config import Settings, load_settings
from nwdaf.demo import bench
from nwdaf.models import to_wire
from nwdaf.runtime import ServiceContext, load_validator
from nwdaf.sbi import SbiClient, create_sbi_app, start_server
from nwdaf.smf.config import SmfSettings
from nwdaf.smf.subscriber import subscription_request

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


# --- 2. notification lateness --------------------------------------------------------------------------------

PERIOD_S = 1
_KEY: contextvars.ContextVar[str | None] = contextvars.ContextVar("key", default=None)


class _StampingTransport(httpx.AsyncBaseTransport):
    """Puts "subscriptionId due" of the notification being posted in a header, for the receiver."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = _KEY.get()
        if key is not None:
            request.headers["x-bench-key"] = key
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class _TimedNotifier(Notifier):
    """The AnLF's notifier, recording when the first attempt of each PERIODIC report leaves."""

    sent: dict[str, float]

    async def _post(self, delivery: Delivery) -> None:
        key = None if delivery.due is None else f"{delivery.subscription_id} {delivery.due!r}"
        if key is not None:
            self.sent.setdefault(key, time.time())
        token = _KEY.set(key)
        try:
            await super()._post(delivery)
        finally:
            _KEY.reset(token)


class _Receiver:
    """ASGI callback server: records when each report first arrives; ``GET /results`` returns them."""

    def __init__(self) -> None:
        self.received: dict[str, float] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        now = time.time()
        while (await receive()).get("more_body"):
            pass
        key = dict(scope["headers"]).get(b"x-bench-key")
        if key is not None:
            self.received.setdefault(key.decode(), now)
        body = json.dumps(self.received).encode() if scope["path"] == "/results" else b""
        await send({"type": "http.response.start", "status": 200 if body else 204,
                    "headers": [(b"content-type", b"application/json")] if body else []})
        await send({"type": "http.response.body", "body": body})


async def _serve_receiver(port_file: Path) -> None:
    server = await start_server(_Receiver(), "127.0.0.1", 0, name="receiver")  # type: ignore[arg-type]
    await asyncio.to_thread(port_file.write_text, str(server.port))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await server.stop()


def _wait_for_file(path: Path, proc: subprocess.Popen[bytes], timeout_s: float = 30.0) -> str:
    deadline = time.monotonic() + timeout_s
    while not (path.exists() and path.read_text()):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"child {proc.pid} did not start (exit code {proc.poll()})")
        time.sleep(0.1)
    return path.read_text()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


async def _create(processor: EventsSubscriptionProcessor, n: int, callback: str) -> float:
    """Through the subscribe procedure (validation, store, scheduling as for a POST; no HTTP, so setup is quick),
    paced over whole seconds so that the anchors, hence the due times, are spread evenly over the period, as
    consumers subscribing at random times would leave them."""
    smf = SmfSettings(notification_method="PERIODIC", repetition_period_s=PERIOD_S, immediate_report=False)
    body = to_wire(subscription_request(smf, callback, "bench"))
    first, _ = await processor.subscribe(body)  # warms the validator up, so the pacing holds from the start
    await processor.unsubscribe(first.subscription_id)
    spread_s = float(max(1, math.ceil(n / 500)))
    t = time.monotonic()
    for i in range(n):
        await asyncio.sleep(max(0.0, t + i * spread_s / n - time.monotonic()))
        await processor.subscribe(body)
    return n / (time.monotonic() - t)


@dataclass(frozen=True)
class NotifyVariant:
    """What-if knobs of the notification path; the defaults are the product's (AnlfSettings, SbiClient)."""

    concurrency: int = AnlfSettings().max_concurrent_notifications
    keepalive: int | None = None
    """httpx's max_keepalive_connections (None: httpx's default, 20)."""
    h2c: bool = False

    def transport(self) -> httpx.AsyncHTTPTransport:
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=self.keepalive or 20)
        return httpx.AsyncHTTPTransport(http2=True, http1=not self.h2c, limits=limits)


def lateness(n_subs: int, periods: int, tmp: Path, variant: NotifyVariant) -> dict[str, Any]:
    """The receiver in a child process (its own core), the NBI here."""
    port_file = tmp / f"receiver-{n_subs}.port"
    receiver = subprocess.Popen([sys.executable, __file__, "--receiver", str(port_file)])
    try:
        callback = f"http://127.0.0.1:{_wait_for_file(port_file, receiver)}"
        settings = load_settings(None, data_dir=str(tmp / f"nwdaf-{n_subs}"),
                                 sbi_client={"h2c_prior_knowledge": variant.h2c},
                                 anlf={"max_concurrent_notifications": variant.concurrency})
        settings.data_dir.mkdir()
        result = asyncio.run(_lateness(settings, n_subs, periods, callback, variant.transport()))
    finally:
        _stop(receiver)
    return {**result, "variant": asdict(variant)}


async def _start_nbi(stack: AsyncExitStack, settings: Settings,
                     transport: httpx.AsyncBaseTransport) -> tuple[EventsSubscriptionProcessor, _TimedNotifier]:
    """The anlf service as the runtime builds it, serving on 127.0.0.1, with the timed notifier swapped in."""
    bus = create_bus(settings.bus.url)
    await bus.start()
    stack.push_async_callback(bus.close)
    client = SbiClient(settings.sbi_client, _StampingTransport(transport))
    stack.push_async_callback(client.aclose)
    anlf = build_anlf(ServiceContext(settings, bus, client, load_validator()))
    p = anlf.processor

    async def on_dead(sid: str, reason: str) -> None:
        print(f"consumer of {sid} considered dead: {reason}")

    notifier = p.notifier = _TimedNotifier(client, p.settings, p.metrics, on_dead)
    notifier.sent = {}
    server = await start_server(create_sbi_app("nwdaf", anlf.routers()), "127.0.0.1", 0, name="nwdaf")
    stack.push_async_callback(server.stop)
    await anlf.start()
    stack.push_async_callback(anlf.stop)
    return p, notifier


async def _lateness(settings: Settings, n_subs: int, periods: int, callback: str,
                    transport: httpx.AsyncBaseTransport) -> dict[str, Any]:
    async with AsyncExitStack() as stack:
        p, notifier = await _start_nbi(stack, settings, transport)
        await p.scheduler.stop()  # create everything first: the reports of early subscriptions would slow it
        rate = await _create(p, n_subs, callback)
        p.scheduler.start()
        await asyncio.sleep(2.0)
        t0, posts0 = time.time(), len(notifier.sent)
        await asyncio.sleep(periods)
        t1, posts1 = time.time(), len(notifier.sent)
        await p.scheduler.stop()  # no new reports; let the ones already due drain
        for _ in range(300):
            if not notifier.pending:
                break
            await asyncio.sleep(0.1)
        anchors = [s.anchor for s in p.subscriptions.values()]
        async with httpx.AsyncClient() as c:
            received = (await c.get(f"{callback}/results")).json()
        skipped = p.scheduler.skipped
        outcomes = {o: p.metrics.registry.get_sample_value("nwdaf_anlf_notifications_total", {"outcome": o})
                    for o in ("delivered", "failed", "dropped")}
        totals = {"fired": p.scheduler.fired, "posts": len(notifier.sent), **outcomes}
    sent = bench.lateness_stats(notifier.sent, t0, t1)
    return {"subscriptions": n_subs, "period_s": PERIOD_S, "measured_s": round(t1 - t0, 2),
            "create_per_s": round(rate), "reports_due": bench.reports_due(anchors, t0, t1, PERIOD_S),
            "reports_sent": sent["count"], "posts_per_s": round((posts1 - posts0) / (t1 - t0)),
            "ticks_skipped_total": skipped, "totals": totals, "due_to_sent": sent,
            "due_to_received": bench.lateness_stats(received, t0, t1)}


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
            before = {n: bench.cpu_ticks(p.pid) for n, p in procs.items()}
            t = time.monotonic()
            time.sleep(idle_s)
            after = {n: bench.cpu_ticks(p.pid) for n, p in procs.items()}
            elapsed = time.monotonic() - t
        finally:
            for proc in reversed(procs.values()):
                _stop(proc)
    hz = os.sysconf("SC_CLK_TCK")
    return {n: round((after[n] - before[n]) / hz / elapsed * 1000, 1) for n in procs}


# --- command -------------------------------------------------------------------------------------------------


def _args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--periods", type=int, nargs="+", default=[1, 3, 5])
    ap.add_argument("--benign", type=int, default=20)
    ap.add_argument("--smf-method", choices=["PERIODIC", "THRESHOLD"], default="PERIODIC",
                    help="How the SMF subscribes to the NWDAF (PERIODIC at the period under test, or THRESHOLD).")
    ap.add_argument("--registry-dir", type=Path, default=Path(".run/bench-closed-loop"))
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--png", type=Path, default=Path("closed_loop.png"))
    ap.add_argument("--subscriptions", type=int, nargs="+", default=[10_000])
    ap.add_argument("--lateness-periods", type=int, default=10)
    ap.add_argument("--notify-concurrency", type=int, default=NotifyVariant.concurrency,
                    help="What-if: anlf.max_concurrent_notifications.")
    ap.add_argument("--keepalive", type=int, default=None, help="What-if: httpx keep-alive connections (20).")
    ap.add_argument("--h2c", action="store_true", help="What-if: sbi_client.h2c_prior_knowledge.")
    ap.add_argument("--idle-s", type=float, default=30.0)
    ap.add_argument("--settle-s", type=float, default=30.0, help="Wait after start-up before measuring idle CPU.")
    for part in ("loop", "lateness", "idle"):
        ap.add_argument(f"--skip-{part}", action="store_true")
    ap.add_argument("--receiver", type=Path, help=argparse.SUPPRESS)
    return ap.parse_args()


def main() -> None:
    args = _args()
    if args.receiver is not None:
        asyncio.run(_serve_receiver(args.receiver))
        return
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
        with tempfile.TemporaryDirectory(prefix="nwdaf-lateness-") as tmp:
            out["lateness"] = []
            for n in args.subscriptions:
                variant = NotifyVariant(args.notify_concurrency, args.keepalive, args.h2c)
                out["lateness"].append(lateness(n, args.lateness_periods, Path(tmp), variant))
                print(json.dumps(out["lateness"][-1]), flush=True)
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
