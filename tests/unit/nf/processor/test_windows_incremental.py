"""Windows combine per-notification partial aggregates: the windows are the ones a full re-aggregation of every
row they cover gives (the algorithm windows.py used before), on randomised report streams with later parts of a
period (updates), late parts of older periods, several report times in one notification and a hop."""

from __future__ import annotations

import random

import polars as pl
import pytest
from benchmarks.support.processor_before import FullWindows

from nwdaf.lib.flows.convert import ROW_SCHEMA
from nwdaf.nf.processor.windows import ClosedWindow, SlidingWindows

pytestmark = pytest.mark.unit


def _rows(rng: random.Random, ends: list[float], period: float) -> pl.DataFrame:
    rows = []
    for _ in range(rng.randint(1, 12)):
        ue = rng.randint(1, 4)
        end = rng.choice(ends)
        rows.append({
            "start_ts": end - period * rng.choice([1.0, 0.5, 1.0]), "end_ts": end, "duration_s": period,
            "proto": rng.choice(["tcp", "udp"]), "src_ip": f"10.45.0.{ue}", "src_port": rng.choice([4000, 4001]),
            "dst_ip": rng.choice(["1.1.1.1", "9.9.9.9"]), "dst_port": rng.choice([53, 443]),
            "pkts_fwd": rng.randint(0, 50), "pkts_bwd": rng.randint(0, 50),
            "bytes_fwd": rng.randint(0, 10**6), "bytes_bwd": rng.randint(0, 10**6),
            "supi": rng.choice([f"imsi-{ue}", None]), "snssai": rng.choice(["1-000001", None]),
            "dnn": rng.choice(["internet", None]),
        })
    return pl.DataFrame(rows, schema=ROW_SCHEMA)


def _sorted(frame: pl.DataFrame | None) -> list[tuple[object, ...]]:
    return sorted(frame.rows(), key=repr) if frame is not None else []


def _same(a: ClosedWindow | None, b: ClosedWindow | None) -> None:
    assert (a is None) == (b is None)
    if a is None or b is None:
        return
    assert (a.start, a.end, a.update, a.recent_start) == (b.start, b.end, b.update, b.recent_start)
    assert a.flows.schema == b.flows.schema
    assert _sorted(a.flows) == _sorted(b.flows)
    assert _sorted(a.recent) == _sorted(b.recent)


@pytest.mark.parametrize("seed", range(12))
def test_incremental_windows_equal_full_reaggregation(seed: int) -> None:
    rng = random.Random(seed)
    period = rng.choice([1.0, 2.0])
    window_s, hop_s = rng.choice([3.0, 5.0, 10.0]), rng.choice([0.0, 0.0, 2.0])
    full, incremental = FullWindows(window_s, hop_s), SlidingWindows(window_s, hop_s)
    t = 1_750_000_000.0
    emitted = 0
    for _ in range(40):
        step = rng.random()
        if step < 0.55:
            t += period  # the next report period
        ends = [t] if step < 0.3 or step >= 0.55 else [t, t - period]  # sometimes a late item of the last period
        if rng.random() < 0.1:
            ends = [t - period * rng.randint(1, 3)]  # a late part of an older period
        rows = _rows(rng, ends, period)
        want, got = full.add(rows), incremental.add(rows)
        _same(got, want)
        emitted += want is not None
    assert emitted > 5


def test_updates_within_one_period_see_every_part() -> None:
    rng = random.Random(99)
    full, incremental = FullWindows(4.0), SlidingWindows(4.0)
    t = 1_750_000_000.0
    for period in range(6):
        for _part in range(3):  # one report period split over three notifications
            rows = _rows(rng, [t + period], 1.0)
            _same(incremental.add(rows), full.add(rows))
