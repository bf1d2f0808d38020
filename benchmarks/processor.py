"""Processor benchmark: usage records/s and CPU per record through ``Processor.on_message`` alone, before and after
the columnar decoder, in one run.

    .venv/bin/python benchmarks/processor.py [--ues 250] [--flows-per-ue 4] [--periods 30] [--per-notification 1000]
        [--window-s 10] [--repeat 3] [--json OUT] [--profile]

The UPF's own report builder (tests.support.upf_load) writes ``--periods`` 1 s reports of ``--ues`` x
``--flows-per-ue`` per-flow measurements, packed ``--per-notification`` to a NotificationData; each is wrapped in
the NfNotification envelope the collector publishes, before timing. Each variant gets a fresh Processor on a fresh
in-process bus (nothing subscribed: publishing costs the envelope encoding and the bus append) and every envelope
goes through ``on_message``: decode, flow rows, window, features, publish. ``before`` is the former hot path
(benchmarks/support/processor_before.py: per-row decoder, windows merged from all rows, per-column ``to_list``);
``after`` is the code as it is. Variants alternate ``--repeat`` times; the best run of each is reported (the
machine is shared). Two more tables time the decoders alone (NotificationData dict -> the processor's flow rows;
the storage sink's ``usage_rows`` against the decoder's columns) and the windows alone (flow rows in, every window's
flow records out).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import asyncio
import cProfile
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from benchmarks.support.processor_before import FullWindows, ProcessorBefore, former_columns
from benchmarks.support.processor_before import notification_frame as before_frame
from tests.support.profiling import profile_summary
from tests.support.upf_load import UpfLoad, measurement_count

from nwdaf.lib.flows.convert import flow_rows
from nwdaf.lib.flows.notification import NotificationDecoder
from nwdaf.nf.processor.config import ProcessorSettings
from nwdaf.nf.processor.processor import Processor
from nwdaf.nf.processor.windows import SlidingWindows
from nwdaf.nf.storage.normalise import usage_rows
from nwdaf.platform.bus import InMemoryBus, Message, encode, topics
from nwdaf.platform.events import NF_NOTIFICATION, NfNotification


def _envelopes(bodies: list[dict[str, Any]]) -> list[bytes]:
    now = datetime.now(UTC)
    return [encode(NfNotification(source="upf-ee", received_at=now, body=b), type_=NF_NOTIFICATION) for b in bodies]


async def _run(cls: type[Processor], envelopes: list[bytes], settings: ProcessorSettings,
               profile: cProfile.Profile | None) -> tuple[float, float, Processor]:
    bus = InMemoryBus()
    proc = cls(bus, settings)
    messages = [Message(topics.UPF_EE_NOTIFICATIONS, v) for v in envelopes]
    wall, cpu = time.perf_counter(), time.process_time()
    if profile is not None:
        profile.enable()
    for msg in messages:
        await proc.on_message(msg)
    if profile is not None:
        profile.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await bus.close()
    return wall, cpu, proc


def _figures(records: int, wall: float, cpu: float) -> dict[str, float]:
    return {"records_per_s": records / wall, "cpu_us_per_record": cpu / records * 1e6, "wall_s": wall, "cpu_s": cpu}


def run_processor(envelopes: list[bytes], records: int, settings: ProcessorSettings, repeat: int,
                  profile: bool) -> dict[str, Any]:
    best: dict[str, dict[str, Any]] = {}
    profiles: dict[str, Any] = {}
    for _ in range(repeat):
        for name, cls in (("before", ProcessorBefore), ("after", Processor)):
            prof = cProfile.Profile() if profile and name not in profiles else None
            if name == "before":
                with former_columns():
                    wall, cpu, proc = asyncio.run(_run(cls, envelopes, settings, prof))
            else:
                wall, cpu, proc = asyncio.run(_run(cls, envelopes, settings, prof))
            fig = _figures(records, wall, cpu) | {"windows": proc.stats.windows, "bad_rows": proc.stats.bad_rows,
                                                  "flow_records": proc.stats.flow_records}
            if name not in best or fig["cpu_s"] < best[name]["cpu_s"]:
                best[name] = fig
            if prof is not None:
                profiles[name] = profile_summary(prof, top=12)
    out: dict[str, Any] = dict(best)
    out["cpu_ratio"] = best["before"]["cpu_us_per_record"] / best["after"]["cpu_us_per_record"]
    out["rps_ratio"] = best["after"]["records_per_s"] / best["before"]["records_per_s"]
    if profiles:
        out["profiles"] = profiles
    return out


def run_decoders(bodies: list[dict[str, Any]], records: int, repeat: int) -> dict[str, Any]:
    """The decoders alone: NotificationData dict -> the processor's flow rows (the new decoder with a memo warm
    from earlier periods, as in a running processor), and -> the storage sink's rows (``usage_rows``: pydantic
    validation, then a dict per measurement) against the decoder's columns."""
    decoder = NotificationDecoder()
    now = datetime.now(UTC)
    variants: dict[str, Callable[[dict[str, Any]], Any]] = {
        "before": before_frame, "after": lambda b: flow_rows(decoder(b).frame),
        "sink_rows_before": lambda b: usage_rows(NfNotification(source="upf-ee", received_at=now, body=b)),
        "sink_columns_after": lambda b: decoder(b).frame,
    }
    best: dict[str, float] = {}
    for _ in range(repeat):
        for name, fn in variants.items():
            cpu = time.process_time()
            for body in bodies:
                fn(body)
            us = (time.process_time() - cpu) / records * 1e6
            best[name] = min(best.get(name, us), us)
    return {"cpu_us_per_record": best, "cpu_ratio": best["before"] / best["after"],
            "sink_cpu_ratio": best["sink_rows_before"] / best["sink_columns_after"]}


def run_windows(bodies: list[dict[str, Any]], records: int, window_s: float, repeat: int) -> dict[str, Any]:
    """The windows alone: every notification's flow rows added, each window's flow records (and the newest
    period's) merged -- from all rows (before) or from per-notification partial aggregates (after)."""
    rows = [before_frame(b) for b in bodies]
    best: dict[str, float] = {}
    for _ in range(repeat):
        for name, cls in (("before", FullWindows), ("after", SlidingWindows)):
            windows = cls(window_s)
            cpu = time.process_time()
            for frame in rows:
                windows.add(frame)
            us = (time.process_time() - cpu) / records * 1e6
            best[name] = min(best.get(name, us), us)
    return {"cpu_us_per_record": best, "cpu_ratio": best["before"] / best["after"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ues", type=int, default=250)
    ap.add_argument("--flows-per-ue", type=int, default=4)
    ap.add_argument("--periods", type=int, default=30)
    ap.add_argument("--per-notification", type=int, default=1000)
    ap.add_argument("--window-s", type=float, default=10.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--profile", action="store_true", help="cProfile of the first run of each variant")
    args = ap.parse_args()
    load = UpfLoad.build(args.ues, args.flows_per_ue)
    bodies = load.notifications(args.periods, int(time.time()) - 3600, args.per_notification)
    records = measurement_count(bodies)
    settings = ProcessorSettings(window_s=args.window_s)
    result: dict[str, Any] = {
        "workload": {"ues": args.ues, "flows_per_ue": args.flows_per_ue, "periods": args.periods,
                     "notifications": len(bodies), "records": records, "window_s": args.window_s,
                     "repeat": args.repeat},
        "processor": run_processor(_envelopes(bodies), records, settings, args.repeat, args.profile),
        "decoder": run_decoders(bodies, records, args.repeat),
        "windows": run_windows(bodies, records, args.window_s, args.repeat),
    }
    _print(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


def _print(result: dict[str, Any]) -> None:
    w, p, d = result["workload"], result["processor"], result["decoder"]
    print(f"{w['records']} usage records in {w['notifications']} notifications ({w['ues']} UEs x "
          f"{w['flows_per_ue']} flows, {w['periods']} periods, window {w['window_s']} s)")
    for name in ("before", "after"):
        f = p[name]
        print(f"  processor {name:6}: {f['records_per_s']:>10,.0f} records/s  "
              f"{f['cpu_us_per_record']:7.1f} µs CPU/record  ({f['windows']} windows, "
              f"{f['flow_records']} flow records, {f['bad_rows']} bad rows)")
    print(f"  processor after/before: {p['rps_ratio']:.2f}x records/s, {p['cpu_ratio']:.2f}x less CPU per record")
    for name, us in d["cpu_us_per_record"].items():
        print(f"  decoder {name:22}: {us:7.2f} µs CPU/record")
    print(f"  decoder after/before: {d['cpu_ratio']:.2f}x less CPU per record (flow rows), "
          f"{d['sink_cpu_ratio']:.2f}x (the sink's usage_rows -> the decoder's columns)")
    win = result["windows"]
    for name, us in win["cpu_us_per_record"].items():
        print(f"  windows {name:22}: {us:7.2f} µs CPU/record")
    print(f"  windows after/before: {win['cpu_ratio']:.2f}x less CPU per record")
    for name, prof in p.get("profiles", {}).items():
        print(f"  profile {name} (own s by module):")
        for mod, secs in prof["modules"]:
            print(f"    {secs:8.3f}  {mod}")


if __name__ == "__main__":
    main()
