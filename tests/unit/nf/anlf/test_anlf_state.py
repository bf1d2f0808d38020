"""FindingsState: latest finding per (UE, event, exception), bounded, expiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nwdaf.nf.anlf.state import FindingsState, Watermark

pytestmark = pytest.mark.unit

BOT, OTHER = "imsi-001010000000001", "imsi-001010000000002"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def test_add_reports_previous_only_while_it_is_valid(make_result) -> None:
    clock = Clock()
    state = FindingsState(timedelta(seconds=60), 100, clock)
    first = state.add(make_result())
    assert first.previous is None
    second = state.add(make_result())
    assert second.previous is first.current
    clock.now += timedelta(seconds=3600)
    assert state.add(make_result()).previous is None


def test_older_window_does_not_replace_newer(make_result) -> None:
    state = FindingsState(timedelta(seconds=60), 100)
    new = state.add(make_result(ended_s_ago=1)).current
    update = state.add(make_result(ended_s_ago=10))
    assert update.current is new
    assert state.current("ABNORMAL_BEHAVIOUR")[0] is new


def test_current_filters_by_event_supi_and_match(make_result) -> None:
    state = FindingsState(timedelta(seconds=60), 100)
    state.add(make_result(BOT))
    state.add(make_result(OTHER, excep="WRONG_DESTINATION_ADDRESS"))
    state.add(make_result(BOT, event="UE_COMMUNICATION"))
    assert {f.result.supi for f in state.current("ABNORMAL_BEHAVIOUR")} == {BOT, OTHER}
    assert [f.result.supi for f in state.current("ABNORMAL_BEHAVIOUR", [OTHER])] == [OTHER]
    only_ddos = state.current("ABNORMAL_BEHAVIOUR", None,
                              lambda f: f.result.abnormal is not None
                              and f.result.abnormal.excep_id == "SUSPICION_OF_DDOS_ATTACK")
    assert [f.result.supi for f in only_ddos] == [BOT]
    assert [f.result.event for f in state.current("UE_COMMUNICATION")] == ["UE_COMMUNICATION"]


def test_capacity_evicts_least_recently_updated(make_result) -> None:
    state = FindingsState(timedelta(seconds=60), 2)
    state.add(make_result("imsi-1"))
    state.add(make_result("imsi-2"))
    state.add(make_result("imsi-1"))
    state.add(make_result("imsi-3"))
    assert len(state) == 2
    assert state.evicted == 1
    assert {f.result.supi for f in state.current("ABNORMAL_BEHAVIOUR")} == {"imsi-1", "imsi-3"}


def test_expire_drops_findings_past_their_expiry(make_result) -> None:
    clock = Clock()
    state = FindingsState(timedelta(seconds=30), 100, clock)
    state.add(make_result(BOT))
    clock.now += timedelta(seconds=20)
    assert state.expire() == 0
    clock.now += timedelta(seconds=20)
    assert state.current("ABNORMAL_BEHAVIOUR") == []
    assert state.expire() == 1
    assert len(state) == 0


def test_rejects_non_positive_capacity() -> None:
    with pytest.raises(ValueError, match="max_findings"):
        FindingsState(timedelta(seconds=1), 0)


def test_watermark_is_the_wall_clock_until_data_arrives_then_the_newest_window_end() -> None:
    wall, mono = [1_000_000.0], [50.0]
    mark = Watermark(lambda: wall[0], lambda: mono[0])
    assert mark.now() == 1_000_000.0
    mark.observe(1_300_000_000.0)  # a recording from 2011
    assert mark.now() == 1_300_000_000.0
    mono[0] += 7.5  # advances with the wall clock in between
    assert mark.now() == 1_300_000_007.5
    mark.observe(1_300_000_001.0)  # an older window end does not move it back
    assert mark.now() == 1_300_000_007.5
    mark.observe(1_300_000_100.0)
    assert mark.now() == 1_300_000_100.0


def test_findings_on_the_watermark_stay_current_for_an_old_recording(make_result) -> None:
    mark = Watermark()
    state = FindingsState(timedelta(seconds=60), 100, mark.now_utc)
    old = make_result(BOT, ended_s_ago=15 * 365 * 86400.0)
    mark.observe(old.window_end.timestamp())
    state.add(old)
    assert [f.result.supi for f in state.current("ABNORMAL_BEHAVIOUR")] == [BOT]
    mark.observe((old.window_end + timedelta(seconds=61)).timestamp())
    assert state.current("ABNORMAL_BEHAVIOUR") == []
