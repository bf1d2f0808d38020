"""``nwdaf replay``'s report: per host steps mapped back to recording time, the label summary, the source string."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nwdaf.app.config import load_settings
from nwdaf.app.replay import ReplayOptions, replay_settings, source_string
from nwdaf.app.replay_report import HostTracker, build_report, label_summary, summary_lines
from nwdaf.platform.events import AbnormalBehaviourResult, AnalyticsResult

pytestmark = pytest.mark.unit

OFFSET = 500_000_000.0
"""Service time - recording time, seconds (a 2011 recording replayed today)."""
T0 = 1_313_000_000.0


def _iso(recording_s: float) -> str:
    return datetime.fromtimestamp(recording_s + OFFSET, UTC).isoformat().replace("+00:00", "Z")


def _item(host: str, supi: str, start: float, *, idle: bool = False) -> dict[str, object]:
    item: dict[str, object] = {"eventType": "USER_DATA_USAGE_MEASURES", "ueIpv4Addr": host, "supi": supi,
                               "startTime": _iso(start), "timeStamp": _iso(start + 2)}
    if not idle:
        item["userDataUsageMeasurements"] = [{"volumeMeasurement": {"totalVolume": "1 kB", "totalNbOfPackets": 2}}]
    return item


def _finding(supi: str, end: float, excep: str = "SUSPICION_OF_DDOS_ATTACK") -> AnalyticsResult:
    at = datetime.fromtimestamp(end + OFFSET, UTC)
    return AnalyticsResult(event="ABNORMAL_BEHAVIOUR", supi=supi, window_start=at - timedelta(seconds=10),
                           window_end=at, generated_at=at,
                           abnormal=AbnormalBehaviourResult(excep_id=excep, score=0.9, confidence=90))


def _tracker() -> HostTracker:
    return HostTracker(lambda t: t - OFFSET)


def test_times_are_mapped_back_to_the_recording() -> None:
    tracker = _tracker()
    tracker.on_usage_items([_item("147.32.84.165", "imsi-1", T0 + 4), _item("147.32.84.191", "imsi-2", T0 + 4)])
    tracker.on_usage_items([_item("147.32.84.165", "imsi-1", T0 + 2)])  # an earlier part arriving late
    tracker.on_result(_finding("imsi-1", T0 + 20))
    tracker.on_result(_finding("imsi-1", T0 + 30, "WRONG_DESTINATION_ADDRESS"))
    tracker.on_result(_finding("imsi-1", T0 + 40))
    tracker.on_session("147.32.84.165", "imsi-1", T0 + 21.5 + OFFSET)
    tracker.on_session("147.32.84.191", "imsi-2", None)
    bot, other = tracker.outcomes()
    assert bot.to_report() == {"host": "147.32.84.165", "supi": "imsi-1", "released": True,
                               "t_first_seen": pytest.approx(T0 + 2), "t_first_finding": pytest.approx(T0 + 20),
                               "exception_ids": ["SUSPICION_OF_DDOS_ATTACK", "WRONG_DESTINATION_ADDRESS"],
                               "t_released": pytest.approx(T0 + 21.5)}
    assert other.to_report()["released"] is False
    assert other.to_report()["t_first_finding"] is None
    assert tracker.findings == 3


def test_a_ue_is_seen_from_its_first_traffic_not_from_an_idle_item() -> None:
    tracker = _tracker()
    tracker.on_usage_items([_item("10.0.0.1", "imsi-1", T0, idle=True), _item("10.0.0.2", "imsi-2", T0)])
    tracker.on_usage_items([_item("10.0.0.1", "imsi-1", T0 + 30)])
    seen = {h.host: h.to_report()["t_first_seen"] for h in tracker.outcomes()}
    assert seen == {"10.0.0.1": pytest.approx(T0 + 30), "10.0.0.2": pytest.approx(T0)}


def test_hosts_the_upf_never_reported_are_left_out() -> None:
    tracker = _tracker()
    tracker.on_usage_items([_item("10.0.0.1", "imsi-1", T0)])
    tracker.on_session("10.0.0.9", "imsi-9", None)  # learned, never active
    assert [h.host for h in tracker.outcomes()] == ["10.0.0.1"]


def test_results_without_an_abnormal_part_are_not_findings() -> None:
    tracker = _tracker()
    at = datetime.fromtimestamp(T0 + OFFSET, UTC)
    tracker.on_result(AnalyticsResult(event="UE_COMMUNICATION", supi="imsi-1", window_start=at, window_end=at,
                                      generated_at=at))
    assert tracker.findings == 0
    assert tracker.outcomes() == []


def test_label_summary_is_a_confusion_table_by_host() -> None:
    tracker = _tracker()
    for i, host in enumerate(("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4")):
        tracker.on_usage_items([_item(host, f"imsi-{i}", T0)])
    tracker.on_session("1.1.1.1", "imsi-0", T0 + OFFSET + 5)
    tracker.on_session("3.3.3.3", "imsi-2", T0 + OFFSET + 5)
    labels = {"1.1.1.1": "malicious", "2.2.2.2": "malicious", "3.3.3.3": "benign", "4.4.4.4": "background"}
    summary = label_summary(tracker.outcomes(), labels)
    assert summary is not None
    assert summary["hosts"] == {"malicious": {"released": 1, "kept": 1}, "benign": {"released": 1, "kept": 0},
                                "background": {"released": 0, "kept": 1}, "unlabelled": {"released": 0, "kept": 0}}
    assert summary["malicious_kept"] == ["2.2.2.2"]
    assert summary["benign_released"] == ["3.3.3.3"]
    assert label_summary(tracker.outcomes(), {"1.1.1.1": None}) is None


def test_report_shape_and_summary_lines() -> None:
    tracker = _tracker()
    tracker.on_usage_items([_item("1.1.1.1", "imsi-1", T0)])
    tracker.on_session("1.1.1.1", "imsi-1", T0 + OFFSET + 3)
    report = build_report(2.0, 10.0, 10.0, tracker, {"1.1.1.1": "malicious"}, input="pcap:x")
    assert set(report) >= {"period_s", "speed", "hosts", "labels", "input", "times"}
    assert report["hosts"][0]["host"] == "1.1.1.1"
    lines = summary_lines(report)
    assert lines[0] == "1 of 1 hosts released"
    assert "2011-08-10" in lines[1]  # recording time, UTC
    assert any(line.startswith("malicious") for line in lines)
    assert build_report(2.0, 10.0, 10.0, _tracker(), None)["labels"] is None
    skipped = build_report(2.0, 10.0, 10.0, tracker, None, input="pcap:x", skip_summary="skipped 1 of 9 frames")
    assert summary_lines(skipped)[:2] == ["pcap:x: skipped 1 of 9 frames", "1 of 1 hosts released"]


@pytest.mark.parametrize(("spec", "expected"), [
    ("pcap:/data/a.pcap", "pcap:/data/a.pcap:10"),
    ("binetflow:/d/*.binetflow.gz", "dataset:binetflow:/d/*.binetflow.gz:10"),
    ("zeek:/d/conn.log", "dataset:zeek:/d/conn.log:10"),
])
def test_inputs_become_upf_sources(spec: str, expected: str) -> None:
    assert source_string(spec, 10.0) == expected


@pytest.mark.parametrize(("spec", "speed", "message"), [
    ("csv:/x", 10.0, "FORMAT one of pcap"), ("/x.pcap", 10.0, "FORMAT:PATH"), ("pcap:/x", 0.0, "--speed"),
])
def test_bad_inputs_are_clear_errors(spec: str, speed: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        source_string(spec, speed)


def test_replay_settings_learn_every_initiator_and_act_on_every_exception(tmp_path: Path) -> None:
    opts = ReplayOptions("pcap:/data/a.pcap", speed=30.0, period_s=1, window_s=20.0)
    settings = replay_settings(load_settings(None), opts, tmp_path)
    assert settings.upf.source == "pcap:/data/a.pcap:30"
    assert settings.upf.learn_sessions
    assert not settings.upf.report_idle_ues, "quiet UEs' items cost most of a day's replay and carry nothing"
    assert settings.upf.replay_time == "rebased"
    assert settings.collector.upf_ee[0].rep_period_s == 1
    assert settings.processor.window_s == 20.0
    assert "SUSPICION_OF_DDOS_ATTACK" in settings.smf.exception_ids
    assert "WRONG_DESTINATION_ADDRESS" in settings.smf.exception_ids
    assert settings.storage.warehouse_url.startswith(f"chdb://{tmp_path}")
    assert settings.ml.tracking_uri.startswith("sqlite:///")
