"""Pipeline benchmark: usage records/s end to end, bus -> processor -> warehouse, with the embedded backends
(in-process bus, chdb) and with real servers (Kafka, ClickHouse), in one run.

    .venv/bin/python benchmarks/pipeline.py [--records N] [--backends embedded,kafka] [--json OUT]
        [--ues 250] [--flows-per-ue 4] [--naive-records 2000] [--sink-only] [--profile]

The UPF's own report builder (tests.support.upf_load) writes per-flow Nupf_EventExposure NotificationData; the
collector's Data Receiver publishes them on nwdaf.upf.ee-notifications; the real processor and storage services
(the builders nwdaf.app.runtime uses) turn them into flow records and features and write them. A run ends when count
queries on the warehouse find every usage report, every flow record and every feature row the processor produced.
Kafka: KAFKA_BOOTSTRAP when set, else a broker started with scripts/services/kafka; ClickHouse: CLICKHOUSE_URL when
set, else a server started with scripts/services/clickhouse. Both are stopped by PID at the end; a server that
cannot start is reported and the other runs still happen.

Every run also times a direct columnar insert of the same usage rows into the same embedded store
(``insert_limit_rps``, the machine's ceiling) and prints each run's records/s against it; ``--sink-only`` adds a run
of the storage sink alone (no processor) on the embedded backends.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script: the repo root holds benchmarks.support and tests.support (neither ships in the wheel).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import asyncio
import cProfile
import json
import math
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack, ExitStack
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson
from benchmarks.support.sink import insert_limit, run_sink_only, usage_frames
from tests.support.kafka import KafkaServer, broker_from_env
from tests.support.profiling import process_cpu_s, profile_summary
from tests.support.servers import ManagedServer, ServerError, server_from_env
from tests.support.upf_load import UpfLoad, measurement_count

from nwdaf.app.config import BusSettings, Settings
from nwdaf.lib.storage.backends.mergetree import MergeTreeBackend
from nwdaf.nf.collector.processor import DataReceiver
from nwdaf.nf.processor.service import ProcessorService, build_processor
from nwdaf.nf.storage.config import SinkSettings, StorageSettings
from nwdaf.nf.storage.service import StorageService, build_storage
from nwdaf.nf.upf.config import UpfConfig
from nwdaf.platform.nf import ServiceContext, open_context

PERIOD_S = 1
IN_FLIGHT = 8  # notifications the collector publishes concurrently
STALL_S = 120.0  # no progress for this long = a stage is stuck (e.g. a message the bus refuses)
PRODUCED = {"flow_records": "flow_records", "ue_features": "feature_rows", "slice_features": "slice_feature_rows"}
"""Warehouse table -> the processor counter of the rows it published for it."""
TABLES = ("upf_usage", "upf_usage_reports", *PRODUCED)
NAIVE = "embedded, 1 record/notification"
SINK_ONLY = "embedded, storage sink only"
LIMIT = "direct columnar insert"
COMBOS = {"embedded": ("memory", "chdb"), "kafka": ("kafka", "clickhouse"), NAIVE: ("memory", "chdb"),
          SINK_ONLY: ("memory", "chdb"),
          "memory+clickhouse": ("memory", "clickhouse"), "kafka+chdb": ("kafka", "chdb")}


@dataclass
class RunResult:
    name: str
    bus: str
    warehouse: str
    records: int
    notifications: int
    envelope_kb: float
    rows: dict[str, int] = field(default_factory=dict)
    """Rows verified in each warehouse table (count queries)."""
    seconds: float = 0.0
    records_s: float = 0.0
    flow_records_s: float = 0.0
    stages_s: dict[str, float] = field(default_factory=dict)
    """Seconds from the first publish: published, processed, usage stored, flows stored, verified."""
    cpu_s: dict[str, float] = field(default_factory=dict)
    writes: int = 0
    write_s: float = 0.0
    """Wall time inside storage writes (row encoding + the insert in its worker thread), summed."""
    servers: str = ""


@dataclass
class Meter:
    """Finished calls of a wrapped coroutine method: how many, when the last one ended, time spent inside."""

    count: int = 0
    at: float = 0.0
    busy_s: float = 0.0


def metered(obj: object, name: str) -> Meter:
    """Wrap ``obj.name`` (an async method) on this instance; the product's own code runs unchanged inside."""
    meter, inner = Meter(), getattr(obj, name)

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        result = await inner(*args, **kwargs)
        meter.at = time.perf_counter()
        meter.count, meter.busy_s = meter.count + 1, meter.busy_s + meter.at - began
        return result

    setattr(obj, name, wrapper)
    return meter


@dataclass
class Pipeline:
    ctx: ServiceContext
    storage: StorageService
    processor: ProcessorService
    handled: Meter
    writes: Meter

    @property
    def warehouse(self) -> MergeTreeBackend:
        backend = self.storage.storage.warehouse
        assert isinstance(backend, MergeTreeBackend)  # one backend for both roles (same URL)
        return backend

    def sink_rows(self, name: str) -> int:
        return self.storage.sink.stats.rows.get(name, 0)

    async def counts(self) -> dict[str, int]:
        return {t: await self.warehouse.count(t) for t in TABLES}


async def start_pipeline(settings: Settings, stack: AsyncExitStack) -> Pipeline:
    """The bus, storage and processor services as ``nwdaf run storage processor`` wires them."""
    ctx = await open_context(settings, stack, "bench-pipeline", None)
    storage, processor = build_storage(ctx, settings.storage), build_processor(ctx, settings.processor)
    pipe = Pipeline(ctx, storage, processor, metered(processor.processor, "on_message"),
                    metered(storage.storage.warehouse, "write"))
    await storage.start()
    stack.push_async_callback(storage.stop)
    stack.push_async_callback(pipe.warehouse.drop_database)  # runs after the sink stopped (LIFO)
    stack.push_async_callback(storage.sink.stop)
    await processor.start()
    stack.push_async_callback(processor.stop)
    return pipe


async def publish(receiver: DataReceiver, bodies: list[dict[str, Any]]) -> float:
    """The collector's publish of every notification (schema check off: that is the HTTP side); end time."""
    for start in range(0, len(bodies), IN_FLIGHT):
        await asyncio.gather(*(receiver.receive("upf-ee", b) for b in bodies[start:start + IN_FLIGHT]))
    await receiver.bus.flush()
    return time.perf_counter()


async def watch(pipe: Pipeline, marks: dict[str, Callable[[], bool]], published: asyncio.Task[float]) -> None:
    """Poll until every condition held; replaces each by the time it was first seen true."""
    seen: dict[str, float] = {}
    progress, moved = (-1, -1), time.monotonic()
    while len(seen) < len(marks):
        now = time.perf_counter()
        seen.update({name: now for name, done in marks.items() if name not in seen and done()})
        if published.done() and published.exception() is not None:
            raise RuntimeError(f"publishing failed: {published.exception()}")
        if (state := (pipe.handled.count, pipe.storage.sink.stats.messages)) != progress:
            progress, moved = state, time.monotonic()
        elif time.monotonic() - moved > STALL_S:
            raise TimeoutError(f"no progress for {STALL_S:.0f} s; waiting for {sorted(set(marks) - set(seen))}; "
                               f"sink {pipe.storage.sink.stats}, processor {pipe.processor.processor.stats}")
        await asyncio.sleep(0.002)
    marks.update(seen)  # type: ignore[arg-type]


async def drive(pipe: Pipeline, bodies: list[dict[str, Any]]) -> tuple[dict[str, float], dict[str, int]]:
    """Publish ``bodies``; wait until the warehouse holds all they become: (seconds from the first publish to
    each stage, rows expected and found per table)."""
    n_msgs, records, stats = len(bodies), measurement_count(bodies), pipe.processor.processor.stats
    base, handled0 = await pipe.counts(), pipe.handled.count
    produced0 = {t: getattr(stats, c) for t, c in PRODUCED.items()}
    expect = {"upf_usage": records, "upf_usage_reports": records}

    def processed() -> bool:
        if pipe.handled.count - handled0 < n_msgs:
            return False
        expect.update({t: getattr(stats, c) - produced0[t] for t, c in PRODUCED.items()})
        return True

    def stored(*names: str) -> Callable[[], bool]:
        return lambda: all(t in expect and pipe.sink_rows(t) - base[t] >= expect[t] for t in names)

    t0 = time.perf_counter()
    published = asyncio.get_running_loop().create_task(publish(DataReceiver(pipe.ctx.bus, None), bodies))
    marks: dict[str, Any] = {"processed": processed, "usage stored": stored("upf_usage", "upf_usage_reports"),
                             "flows stored": stored(*PRODUCED)}
    await watch(pipe, marks, published)
    marks["processed"] = pipe.handled.at
    while (got := {t: c - base[t] for t, c in (await pipe.counts()).items()}) != expect:
        if time.perf_counter() - t0 > 1800:
            raise RuntimeError(f"warehouse counts {got} never matched the expected {expect}")
        await asyncio.sleep(0.02)
    marks["verified"], marks["published"] = time.perf_counter(), await published
    return {k: v - t0 for k, v in sorted(marks.items(), key=lambda kv: kv[1])}, got


@dataclass
class Target:
    """Where one run goes (bus and warehouse URLs in the settings) and the PIDs of the servers started here."""

    name: str
    settings: Settings
    servers: str = ""
    pids: dict[str, int | None] = field(default_factory=dict)

    def cpu(self) -> dict[str, float]:
        return {"bench": time.process_time(), **{k: process_cpu_s(p) for k, p in self.pids.items()}}


async def run_once(target: Target, warmup: list[dict[str, Any]], bodies: list[dict[str, Any]],
                   profile: cProfile.Profile | None = None) -> RunResult:
    r = RunResult(target.name, target.settings.bus.url, target.settings.storage.warehouse_url.split("?")[0],
                  measurement_count(bodies), len(bodies), statistics.mean(len(orjson.dumps(b)) for b in bodies) / 1024,
                  servers=target.servers)
    async with AsyncExitStack() as stack:
        pipe = await start_pipeline(target.settings, stack)
        await drive(pipe, warmup)  # group joins, first inserts, caches
        writes0, cpu0 = (pipe.writes.count, pipe.writes.busy_s), target.cpu()
        if profile is not None:
            profile.enable()
        r.stages_s, r.rows = await drive(pipe, bodies)
        if profile is not None:
            profile.disable()
        cpu1, r.writes, r.write_s = target.cpu(), pipe.writes.count - writes0[0], pipe.writes.busy_s - writes0[1]
    r.seconds = r.stages_s["verified"]
    r.records_s, r.flow_records_s = r.records / r.seconds, r.rows["flow_records"] / r.seconds
    r.cpu_s = {k: cpu1[k] - cpu0[k] for k in cpu0}
    return r


class Servers:
    """Kafka and ClickHouse for the server runs: from the environment, else started here and stopped by PID."""

    def __init__(self, stack: ExitStack) -> None:
        self._stack = stack
        self._found: dict[str, tuple[str, str, int | None] | None] = {}

    def get(self, kind: str) -> tuple[str, str, int | None] | None:
        """(address, description, pid if started here), or None after printing why there is none."""
        if kind not in self._found:
            try:
                self._found[kind] = self._kafka() if kind == "kafka" else self._clickhouse()
            except (ServerError, RuntimeError, OSError) as exc:  # KafkaServerError is a RuntimeError
                print(f"{kind} server unavailable, its runs are skipped: {str(exc).strip()[:800]}", file=sys.stderr)
                self._found[kind] = None
        return self._found[kind]

    def _kafka(self) -> tuple[str, str, int | None]:
        if (broker := broker_from_env()) is None:
            server = KafkaServer()
            broker = server.start()
            self._stack.callback(server.stop)
        return broker.bootstrap, broker.describe(), broker.pid

    def _clickhouse(self) -> tuple[str, str, int | None]:
        if (info := server_from_env("clickhouse")) is None:
            managed = ManagedServer("clickhouse")
            info = managed.start()
            self._stack.callback(managed.stop)
        return info.url, info.describe(), info.pid


def make_target(name: str, servers: Servers, chdb_dir: str, sink_max_delay_s: float) -> Target | None:
    """Settings for one run (a fresh bus namespace and database), or None when a server it needs is missing."""
    run_id, (bus_kind, wh_kind) = uuid.uuid4().hex[:10], COMBOS[name]
    target, bus_url, wh_url = Target(name, Settings()), "memory://", f"chdb://{chdb_dir}?database=bench_{run_id}"
    for kind in {bus_kind, wh_kind} & {"kafka", "clickhouse"}:
        if (found := servers.get(kind)) is None:
            return None
        target.pids[kind], target.servers = found[2], "; ".join(filter(None, (target.servers, found[1])))
        if kind == "kafka":
            bus_url = f"kafka://{found[0]}"
        else:
            wh_url = found[0].rsplit("/", 1)[0] + f"/bench_{run_id}"
    target.settings = Settings(bus=BusSettings(url=bus_url, namespace=f"bench-{run_id}."),
                               storage=StorageSettings(timeseries_url=wh_url, warehouse_url=wh_url,
                                                       sink=SinkSettings(max_delay_s=sink_max_delay_s)))
    return target


def ratios(results: list[RunResult], limit_rps: float | None) -> dict[str, float]:
    """records/s of each run over the embedded run's, the embedded run's over the naive baseline's, and each run's
    over the direct columnar insert's (the store's ceiling)."""
    by = {r.name: r.records_s for r in results}
    out = {f"{n} / embedded": by[n] / by["embedded"] for n in by
           if n not in ("embedded", NAIVE, SINK_ONLY) and "embedded" in by}
    if "embedded" in by and NAIVE in by:
        out[f"embedded / {NAIVE}"] = by["embedded"] / by[NAIVE]
    if limit_rps:
        out.update({f"{n} / {LIMIT}": rps / limit_rps for n, rps in by.items() if n != NAIVE})
    return out


async def limit_run(chdb_dir: str, bodies: list[dict[str, Any]]) -> float:
    """records/s of the direct columnar insert of ``bodies``' usage rows (decoded before timing)."""
    seconds, records = await insert_limit(chdb_dir, usage_frames(bodies), SinkSettings().max_rows)
    return records / seconds


def sink_only_result(target: Target, warmup: list[dict[str, Any]], bodies: list[dict[str, Any]]) -> RunResult:
    r = RunResult(target.name, target.settings.bus.url, target.settings.storage.warehouse_url.split("?")[0],
                  measurement_count(bodies), len(bodies), statistics.mean(len(orjson.dumps(b)) for b in bodies) / 1024)
    run = asyncio.run(run_sink_only(target.settings, warmup, bodies, metered))
    r.seconds, r.stages_s, r.rows, r.writes, r.write_s = run.seconds, run.stages_s, run.rows, run.writes, run.write_s
    r.records_s, r.cpu_s = r.records / r.seconds, {"bench": run.cpu_s}
    return r


def print_report(results: list[RunResult], rates: dict[str, float], prof: dict[str, Any] | None,
                 limit_rps: float | None) -> None:
    print(f"{'run':32} {'records':>8} {'msgs':>5} {'KiB/msg':>7} {'records/s':>10} {'flows/s':>9} {'s':>7}"
          f" {'CPU us/rec':>10}  CPU s")
    for r in results:
        cpu = ", ".join(f"{k} {v:.1f}" for k, v in r.cpu_s.items())
        per_record = sum(v for v in r.cpu_s.values() if not math.isnan(v)) / r.records * 1e6
        print(f"{r.name:32} {r.records:8d} {r.notifications:5d} {r.envelope_kb:7.1f} {r.records_s:10,.0f} "
              f"{r.flow_records_s:9,.0f} {r.seconds:7.2f} {per_record:10.0f}  {cpu}")
        print(f"{'':4}stages, s from the first publish: " + ", ".join(f"{k} {v:.2f}" for k, v in r.stages_s.items()))
        print(f"{'':4}rows counted: " + ", ".join(f"{t} {n}" for t, n in r.rows.items())
              + f"; {r.writes} writes taking {r.write_s:.2f} s" + (f"\n    {r.servers}" if r.servers else ""))
    if limit_rps:
        print(f"{LIMIT} of the same usage rows into the same embedded store: {limit_rps:,.0f} records/s")
    for what, value in rates.items():
        print(f"records/s, {what}: {value:.3f}")
    for title, key in (("by module", "modules"), ("top functions", "functions")) if prof else ():
        print(f"profile of an extra embedded run, own seconds on the event-loop thread, {title}:")
        print("\n".join(f"  {secs:7.2f}  {name}" for name, secs in prof[key]))  # type: ignore[index]


def run_all(plan: argparse.Namespace, stack: ExitStack
            ) -> tuple[list[RunResult], dict[str, Any] | None, float | None]:
    load, t = UpfLoad.build(plan.ues, plan.flows_per_ue), time.perf_counter()
    periods = math.ceil(plan.records / load.flows)
    first = int(time.time()) - periods * PERIOD_S - 60  # recent: older rows would fall to the tables' TTL
    per_notification = min(load.flows, UpfConfig().max_items_per_notification)  # as the UPF packs them
    warmup = load.notifications(2, first - 600, per_notification)
    bodies = load.notifications(periods, first, per_notification)
    print(f"workload: {measurement_count(bodies)} usage records in {len(bodies)} notifications, {periods} periods "
          f"(built in {time.perf_counter() - t:.1f} s by the UPF's report builder)", flush=True)
    servers, chdb_dir = Servers(stack), stack.enter_context(tempfile.TemporaryDirectory(prefix="nwdaf-bench-chdb-"))
    runs = [(name, bodies) for name in plan.backends] + ([(SINK_ONLY, bodies)] if plan.sink_only else [])
    if plan.naive_records > 0 and "embedded" in plan.backends:
        runs.append((NAIVE, load.notifications(math.ceil(plan.naive_records / load.flows), first, 1)))
    results = []
    for name, work in runs:
        if (target := make_target(name, servers, chdb_dir, plan.sink_max_delay)) is None:
            continue
        try:
            results.append(sink_only_result(target, warmup, work) if name == SINK_ONLY
                           else asyncio.run(run_once(target, warmup, work)))
        except (RuntimeError, TimeoutError, OSError) as exc:  # e.g. a message over the broker's size limit
            print(f"{name}: run failed, no figures: {exc}", file=sys.stderr, flush=True)
            continue
        print(f"{name}: {results[-1].records_s:,.0f} usage records/s", flush=True)
    limit_rps = asyncio.run(limit_run(chdb_dir, bodies))
    print(f"{LIMIT}: {limit_rps:,.0f} usage records/s", flush=True)
    if not plan.profile:
        return results, None, limit_rps
    name = SINK_ONLY if plan.profile_sink else "embedded"
    if (target := make_target(name, servers, chdb_dir, plan.sink_max_delay)) is None:
        return results, None, limit_rps
    profile = cProfile.Profile()
    profile.enable()  # the sink-only run is profiled whole (warm-up included); the pipeline run from its timing
    if name == SINK_ONLY:
        sink_only_result(target, warmup, bodies)
    else:
        profile.disable()
        asyncio.run(run_once(target, warmup, bodies, profile))
    profile.disable()
    return results, profile_summary(profile), limit_rps


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=200_000, help="usage records per run (default 200000)")
    parser.add_argument("--backends", default="embedded,kafka",
                        help="comma-separated: embedded (in-process bus + chdb), kafka (Kafka + ClickHouse server), "
                             "memory+clickhouse, kafka+chdb")
    parser.add_argument("--ues", type=int, default=250, help="UEs reporting each period (default 250)")
    parser.add_argument("--flows-per-ue", type=int, default=4, help="flows per UE (default 4)")
    parser.add_argument("--naive-records", type=int, default=2000,
                        help="records of the 1-record-per-notification baseline, embedded (default 2000; 0: off)")
    parser.add_argument("--sink-max-delay", type=float, default=SinkSettings().max_delay_s,
                        help="storage.sink.max_delay_s of every run (default: the product default, %(default)s)")
    parser.add_argument("--sink-only", action="store_true",
                        help="also run the storage sink alone (no processor) on the embedded backends")
    parser.add_argument("--profile", action="store_true", help="also profile an extra embedded run (cProfile)")
    parser.add_argument("--profile-sink", action="store_true",
                        help="with --profile: profile a sink-only run instead of the whole pipeline")
    parser.add_argument("--json", dest="json_out", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)
    args.backends = backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if unknown := set(backends) - set(COMBOS) | ({NAIVE, SINK_ONLY} & set(backends)):
        parser.error(f"unknown backends {sorted(unknown)}")
    if min(args.ues, args.flows_per_ue) < 1 or args.records < args.ues * args.flows_per_ue:
        parser.error("--records must cover at least one period (--ues x --flows-per-ue)")
    return args


def main(argv: list[str]) -> int:
    plan = parse(argv)
    load = os.getloadavg()
    print(f"load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cpus")
    with ExitStack() as stack:
        results, prof, limit_rps = run_all(plan, stack)
    rates = ratios(results, limit_rps)
    print_report(results, rates, prof, limit_rps)
    if plan.json_out:
        by = {r.name: r.records_s for r in results}
        headline = {"embedded_rps": by.get("embedded"), "kafka_rps": by.get("kafka"),
                    "sink_only_rps": by.get(SINK_ONLY), "insert_limit_rps": limit_rps}
        with open(plan.json_out, "w") as out:
            json.dump({**headline, "options": vars(plan), "results": [asdict(r) for r in results], "ratios": rates,
                       "profile": prof, "python": sys.version.split()[0], "cpus": os.cpu_count(),
                       "loadavg_before": load, "loadavg_after": os.getloadavg()}, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
