"""Offline detection (``nwdaf detect``) on a synthetic pcap with ground truth, and on the real datasets."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nwdaf.cli import app
from nwdaf.upf.dataplane import Scenario

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
DATASETS = Path(os.environ.get("NWDAF_DATASETS_DIR", REPO.parent / "shared" / "datasets"))


def test_detect_flags_the_scanner_and_not_benign_ues(tmp_path: Path) -> None:
    scenario = Scenario.build(benign=6, attackers={"scan": 1}, attack_start_s=5, seed=7)
    pcap = tmp_path / "s.pcap"
    scenario.write_pcap(pcap, 0, 30)
    out = tmp_path / "r.json"
    result = CliRunner().invoke(app, ["detect", "--input", f"pcap:{pcap}", "--window", "10", "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    labels = {ue.ip: ue.label for ue in scenario.ues}
    flagged = {f["host"] for w in report["windows"] for f in w["flagged"]}
    assert {ip for ip, label in labels.items() if label != "benign"} <= flagged
    assert not flagged & {ip for ip, label in labels.items() if label == "benign"}
    assert all(w["hosts_seen"] > 0 for w in report["windows"])


def test_detect_rejects_bad_input_cleanly(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["detect", "--input", "nosuchformat:/x", "--window", "10",
                                      "--json", str(tmp_path / "o.json")])
    assert result.exit_code == 2
    assert "nosuchformat" in result.output
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"\xd4\xc3\xb2\xa1" + b"\x00" * 10)
    result = CliRunner().invoke(app, ["detect", "--input", f"pcap:{bad}", "--window", "10",
                                      "--json", str(tmp_path / "o.json")])
    assert result.exit_code == 2
    assert "offset" in result.output


@pytest.mark.skipif(not DATASETS.is_dir(), reason=f"datasets not found at {DATASETS} (set NWDAF_DATASETS_DIR)")
def test_detect_reads_real_zeek_log_without_labels(tmp_path: Path) -> None:
    out = tmp_path / "iot.json"
    spec = f"zeek:{DATASETS / 'iot23_ctu_iot_malware_capture_34_1' / 'conn.log.labeled.gz'}"
    result = CliRunner().invoke(app, ["detect", "--input", spec, "--window", "60", "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert sum(w["hosts_seen"] for w in report["windows"]) > 0
    flagged = {f["host"] for w in report["windows"] for f in w["flagged"]}
    assert "192.168.1.195" in flagged  # the Mirai-infected device of capture 34-1
