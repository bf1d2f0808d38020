"""Offline detection (``nwdaf detect``) on a synthetic pcap with ground truth, on small crafted flow files of every
dataset format (labels ignored), and on the real datasets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.support.datasets import datasets_dir
from typer.testing import CliRunner

from nwdaf.app.cli import app
from nwdaf.lib.dataplane import Scenario
from nwdaf.lib.flows import read_flows

pytestmark = pytest.mark.integration

DATASETS = datasets_dir()


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


T0 = 1_700_000_000.0  # a multiple of the 10 s window
SCANNER = "10.45.0.9"
BENIGN = ("10.45.0.2", "10.45.0.3", "10.45.0.4")


def _crafted_flows() -> list[dict[str, Any]]:
    """Two 10 s windows: three UEs browsing two web servers, one UE probing 30 addresses (handshake-only TCP)."""
    rows: list[dict[str, Any]] = []
    for w in range(2):
        t = T0 + 10 * w
        for i, ue in enumerate(BENIGN):
            for k in range(3):
                rows.append({"start_ts": t + 1 + i + 0.5 * k, "duration_s": 1.25, "proto": "tcp", "src_ip": ue,
                             "src_port": 40000 + 10 * i + k, "dst_ip": f"198.51.100.{1 + k % 2}", "dst_port": 443,
                             "state": "SF", "pkts_fwd": 10, "pkts_bwd": 20, "bytes_fwd": 1200, "bytes_bwd": 24000,
                             "label": "benign"})
        for k in range(30):
            rows.append({"start_ts": t + 0.25 * k, "duration_s": 0.0, "proto": "tcp", "src_ip": SCANNER,
                         "src_port": 50000 + k, "dst_ip": f"203.0.113.{k + 1}", "dst_port": 23, "state": "S0",
                         "pkts_fwd": 1, "pkts_bwd": 0, "bytes_fwd": 60, "bytes_bwd": 0, "label": "malicious"})
    return rows


@pytest.mark.parametrize("fmt", ["binetflow", "cicflow", "nfstream"])
def test_detect_reads_each_flow_format_and_ignores_its_labels(fmt: str, tmp_path: Path, write_flows: Any) -> None:
    outputs: list[bytes] = []
    for labels in (True, False):
        flows = write_flows(fmt, _crafted_flows(), tmp_path / f"flows-{labels}.{fmt}", labels)
        read_back = read_flows(f"{fmt}:{flows}")
        assert read_back["label"].drop_nulls().unique().sort().to_list() == (["benign", "malicious"] if labels else [])
        out = tmp_path / f"report-{labels}.json"
        result = CliRunner().invoke(app, ["detect", "--input", f"{fmt}:{flows}", "--window", "10",
                                          "--json", str(out)])
        assert result.exit_code == 0, result.output
        rows = len(_crafted_flows())
        assert f"read {rows} rows, none skipped" in result.output
        written = json.loads(out.read_bytes())
        assert (written["input"]["total_rows"], written["input"]["skipped"]) == (rows, 0)
        del written["input"]  # names the file
        outputs.append(json.dumps(written).encode())
    assert outputs[0] == outputs[1]  # the label column changes nothing
    report = json.loads(outputs[0])
    assert [sorted(w) for w in report["windows"]] == [["end", "flagged", "hosts_seen", "start"]] * 2
    assert [(w["start"], w["end"]) for w in report["windows"]] == [(T0, T0 + 10), (T0 + 10, T0 + 20)]
    # every address is a host: the 4 UEs, the 2 web servers and the 30 probed addresses
    assert [w["hosts_seen"] for w in report["windows"]] == [36, 36]
    for window in report["windows"]:
        assert window["flagged"] == [{"host": SCANNER, "score": 1.0, "exceptionId": "WRONG_DESTINATION_ADDRESS"}]


def test_flood_hidden_among_answered_traffic_is_caught_as_live(tmp_path: Path, write_flows: Any) -> None:
    """A UE floods a victim with unanswered UDP while its web traffic is answered: 1 packet in 9 comes back, so
    only the share of packets on unanswered flows (which the live processor sends) shows the flood."""
    web = {"start_ts": T0 + 1, "duration_s": 8.0, "proto": "tcp", "src_ip": "10.45.0.7", "src_port": 40001,
           "dst_ip": "198.51.100.1", "dst_port": 443, "state": "SF", "pkts_fwd": 500, "pkts_bwd": 500,
           "bytes_fwd": 40_000, "bytes_bwd": 600_000, "label": "benign"}
    flood = [{**web, "start_ts": T0 + 0.5 + k, "proto": "udp", "src_port": 41000 + k, "dst_ip": "192.0.2.50",
              "dst_port": 80, "state": "S0", "pkts_fwd": 500, "pkts_bwd": 0, "bytes_fwd": 50_000, "bytes_bwd": 0,
              "label": "malicious"} for k in range(8)]
    flows = write_flows("nfstream", [web, *flood], tmp_path / "flood.csv", False)
    out = tmp_path / "flood.json"
    result = CliRunner().invoke(app, ["detect", "--input", f"nfstream:{flows}", "--window", "10", "--json", str(out)])
    assert result.exit_code == 0, result.output
    (window,) = json.loads(out.read_text())["windows"]
    assert [(f["host"], f["exceptionId"]) for f in window["flagged"]] == [("10.45.0.7", "SUSPICION_OF_DDOS_ATTACK")]
