"""``nwdaf replay`` end to end on a shared labelled recording: CTU-13 scenario 11's bots (Argus, 2011), replayed
through the whole stack; the report's times are recording times and its labels summary counts every bot."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.support.datasets import DATASETS, needs_datasets
from typer.testing import CliRunner

from nwdaf.app.cli import app

pytestmark = [pytest.mark.integration, needs_datasets]
pytest.importorskip("chdb", reason="the chdb extra is not installed (pip install 'nwdaf[chdb]')")

CTU13_SC11 = DATASETS / "ctu13_sc11_sc12_botnet_only" / "capture20110818-2.botnet_only.binetflow.gz"
BOTS = {"147.32.84.165", "147.32.84.191", "147.32.84.192"}


def test_replay_of_ctu13_bots_reports_in_recording_time(tmp_path: Path) -> None:
    if not CTU13_SC11.is_file():
        pytest.skip(f"{CTU13_SC11} not found (shared datasets)")
    out = tmp_path / "replay.json"
    result = CliRunner().invoke(app, ["replay", "--input", f"binetflow:{CTU13_SC11}", "--speed", "30",
                                      "--report", str(out)], env={"NWDAF_DATA_DIR": str(tmp_path / "data")})
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert (report["period_s"], report["speed"]) == (2.0, 30.0)
    hosts = {h["host"]: h for h in report["hosts"]}
    assert set(hosts) == BOTS
    day = datetime(2011, 8, 18, tzinfo=UTC).date()
    for h in hosts.values():
        for key in ("t_first_seen", "t_first_finding", "t_released"):
            if h[key] is not None:
                assert datetime.fromtimestamp(h[key], UTC).date() == day, (key, h)
        if h["released"]:
            assert h["t_first_seen"] <= h["t_first_finding"] <= h["t_released"]
            assert h["exception_ids"]
    labels = report["labels"]
    assert labels["hosts"]["malicious"]["released"] + labels["hosts"]["malicious"]["kept"] == len(BOTS)
    assert labels["benign_released"] == []
    assert labels["hosts"]["malicious"]["released"] >= 1  # the ICMP DDoS of scenario 11 (rules alone)
    assert report["findings_expired"] == 0
    assert report["storage"]["stored"] == report["storage"]["written"]
    assert "hosts released" in result.output
    assert (report["input_rows"]["total_rows"], report["input_rows"]["skipped"]) == (8164, 0)  # the bad-row policy
    assert "read 8,164 rows, none skipped" in result.output
