"""The storage sink on its own, and the direct columnar insert of the same rows (the store's ceiling), for
``benchmarks/pipeline.py``.

* :func:`run_sink_only`: the collector's publish of every notification and the real storage service (as
  ``nwdaf run storage`` wires it), no processor: seconds until the sink wrote every usage point and report and
  count queries found them.
* :func:`insert_limit`: the same usage rows, decoded and checked before timing, inserted straight into the same
  embedded store (a fresh database on the same chdb path) in batches of the sink's ``max_rows``: records/s of the
  store itself.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.support.upf_load import measurement_count

from nwdaf.app.config import Settings
from nwdaf.lib.storage.backends import open_backend
from nwdaf.lib.storage.backends.mergetree import MergeTreeBackend
from nwdaf.lib.storage.frames import TableFrame
from nwdaf.lib.storage.schema import table
from nwdaf.nf.collector.processor import DataReceiver
from nwdaf.nf.storage import normalise
from nwdaf.nf.storage.service import StorageService, build_storage
from nwdaf.platform.bus import EventBus
from nwdaf.platform.events import NfNotification
from nwdaf.platform.nf import open_context

USAGE_TABLES = ("upf_usage", "upf_usage_reports")
IN_FLIGHT = 8


@dataclass
class SinkRun:
    records: int
    seconds: float = 0.0
    stages_s: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    cpu_s: float = 0.0
    writes: int = 0
    write_s: float = 0.0


def usage_frames(bodies: list[dict[str, Any]]) -> dict[str, TableFrame]:
    """The usage rows the sink makes of ``bodies`` (its own decoding and checks), one frame per table."""
    parts: dict[str, list[TableFrame]] = {name: [] for name in USAGE_TABLES}
    for i, body in enumerate(bodies):
        note = NfNotification(source="upf-ee", received_at=datetime.now(UTC), body=body)
        reports = normalise.usage_frame_of(note)
        for name, frame in (("upf_usage", normalise.usage_points(reports)), ("upf_usage_reports", reports)):
            parts[name].append(TableFrame.check(table(name), frame, f"limit/{i}"))
    return {name: TableFrame.concat(frames) for name, frames in parts.items()}


async def insert_limit(chdb_dir: str, frames: dict[str, TableFrame], batch_rows: int) -> tuple[float, int]:
    """Seconds to insert ``frames`` into a fresh database on ``chdb_dir`` in batches of ``batch_rows`` rows (one
    batch of each table in turn, as the sink writes them), and the usage records that is."""
    backend = open_backend(f"chdb://{chdb_dir}?database=bench_limit_{uuid.uuid4().hex[:10]}")
    assert isinstance(backend, MergeTreeBackend)
    await backend.start()
    try:
        n = len(frames["upf_usage_reports"])
        began = time.perf_counter()
        for start in range(0, n, batch_rows):
            for name in USAGE_TABLES:
                chunk = TableFrame(table(name), frames[name].frame.slice(start, batch_rows))
                await backend.write(name, chunk, "limit")
        seconds = time.perf_counter() - began
        counts = {name: await backend.count(name) for name in USAGE_TABLES}
        if counts != {name: n for name in USAGE_TABLES}:
            raise RuntimeError(f"direct insert stored {counts}, expected {n} rows in each")
        return seconds, n
    finally:
        await backend.drop_database()
        await backend.close()


async def _publish(receiver: DataReceiver, bodies: list[dict[str, Any]]) -> None:
    for start in range(0, len(bodies), IN_FLIGHT):
        await asyncio.gather(*(receiver.receive("upf-ee", b) for b in bodies[start:start + IN_FLIGHT]))
    await receiver.bus.flush()


async def _drive(storage: StorageService, bus: EventBus, bodies: list[dict[str, Any]]) -> SinkRun:
    sink, warehouse = storage.sink, storage.storage.warehouse
    assert isinstance(warehouse, MergeTreeBackend)
    run, n = SinkRun(measurement_count(bodies)), measurement_count(bodies)
    base = {t: await warehouse.count(t) for t in USAGE_TABLES}
    rows0 = {t: sink.stats.rows.get(t, 0) for t in USAGE_TABLES}
    t0 = time.perf_counter()
    await _publish(DataReceiver(bus, None), bodies)
    run.stages_s["published"] = time.perf_counter() - t0
    while any(sink.stats.rows.get(t, 0) - rows0[t] < n for t in USAGE_TABLES):
        if sink.stats.rejected:
            raise RuntimeError(f"the sink rejected {sink.stats.rejected} notification(s)")
        await asyncio.sleep(0.002)
    run.stages_s["usage stored"] = time.perf_counter() - t0
    while (got := {t: await warehouse.count(t) - base[t] for t in USAGE_TABLES}) != {t: n for t in USAGE_TABLES}:
        if time.perf_counter() - t0 > 1800:
            raise RuntimeError(f"warehouse counts {got} never reached {n}")
        await asyncio.sleep(0.02)
    run.stages_s["verified"] = run.seconds = time.perf_counter() - t0
    run.rows = got
    return run


async def run_sink_only(settings: Settings, warmup: list[dict[str, Any]], bodies: list[dict[str, Any]],
                        meter: Any) -> SinkRun:
    """Warm up, then time ``bodies`` through the storage service alone; ``meter(obj, name)`` wraps the
    warehouse's ``write`` to count writes and their time (``benchmarks/pipeline.py``'s ``metered``)."""
    async with AsyncExitStack() as stack:
        ctx = await open_context(settings, stack, "bench-sink", None)
        storage = build_storage(ctx, settings.storage)
        writes = meter(storage.storage.warehouse, "write")
        await storage.start()
        stack.push_async_callback(storage.stop)
        warehouse = storage.storage.warehouse
        assert isinstance(warehouse, MergeTreeBackend)
        stack.push_async_callback(warehouse.drop_database)
        stack.push_async_callback(storage.sink.stop)
        await _drive(storage, ctx.bus, warmup)
        writes0, cpu0 = (writes.count, writes.busy_s), time.process_time()
        run = await _drive(storage, ctx.bus, bodies)
        run.cpu_s = time.process_time() - cpu0
        run.writes, run.write_s = writes.count - writes0[0], writes.busy_s - writes0[1]
    return run
