"""The UPF's data clock: recorded sources rebased onto the wall clock (gaps and speed kept) or kept at their times."""

from __future__ import annotations

import time

import numpy as np
import pytest

from nwdaf.lib.dataplane.batch import PacketBatch
from nwdaf.nf.upf.config import UpfConfig
from nwdaf.nf.upf.state import DataClock

pytestmark = pytest.mark.unit

RECORDED_2011 = 1_313_000_000 * 10**9


def _batch(*ts_ns: int) -> PacketBatch:
    n = len(ts_ns)
    addr = np.zeros((n, 2), np.uint64)
    zeros = np.zeros(n, np.int64)
    return PacketBatch(np.array(ts_ns, np.int64), addr, addr, zeros, zeros, zeros, np.full(n, 60), zeros, zeros,
                       zeros)


def test_rebased_recording_starts_now_and_keeps_its_gaps() -> None:
    clock = DataClock(live=False, speed=60.0, rebase=True)
    assert clock.offset_ns is None
    before = time.time_ns()
    first = clock.align(_batch(RECORDED_2011, RECORDED_2011 + 5 * 10**9))
    offset = clock.offset_ns
    assert offset is not None
    assert before <= int(first.ts_ns[0]) <= time.time_ns()
    assert int(first.ts_ns[1] - first.ts_ns[0]) == 5 * 10**9
    later = clock.align(_batch(RECORDED_2011 + 3600 * 10**9))
    assert int(later.ts_ns[0]) == RECORDED_2011 + 3600 * 10**9 + offset  # the offset is fixed once
    assert clock.recording_ns(int(later.ts_ns[0])) == RECORDED_2011 + 3600 * 10**9


def test_original_times_are_kept_and_the_offset_is_zero() -> None:
    clock = DataClock(live=False, speed=None, rebase=False)
    batch = _batch(RECORDED_2011)
    assert clock.align(batch) is batch
    assert clock.offset_ns == 0
    assert clock.recording_ns(RECORDED_2011) == RECORDED_2011


def test_live_traffic_is_never_rebased() -> None:
    clock = DataClock(live=True, speed=1.0, rebase=True)
    batch = _batch(time.time_ns())
    assert clock.align(batch) is batch
    assert clock.offset_ns == 0
    assert clock.tick_s(1.0) == 1.0


def test_a_paced_replay_ticks_on_data_time() -> None:
    assert DataClock(live=False, speed=60.0).tick_s(1.0) == pytest.approx(1 / 60)
    assert DataClock(live=False, speed=None).tick_s(1.0) == 1.0


def test_empty_batches_do_not_fix_the_offset() -> None:
    clock = DataClock(live=False, speed=1.0, rebase=True)
    clock.align(PacketBatch.empty())
    assert clock.offset_ns is None


def test_replay_time_setting_defaults_to_rebased() -> None:
    assert UpfConfig().replay_time == "rebased"
    assert UpfConfig(replay_time="original").replay_time == "original"
    with pytest.raises(ValueError, match="replay_time"):
        UpfConfig(replay_time="wall")
