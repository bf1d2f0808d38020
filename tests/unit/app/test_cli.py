"""The ``nwdaf`` command's help and its clean errors (exit 2, one line, no traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from nwdaf.app.cli import app
from nwdaf.app.runtime import service_names

pytestmark = pytest.mark.unit


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_run_help_explains_every_service() -> None:
    code, out = run("run", "--help")
    assert code == 0
    missing = [name for name in service_names() if f"{name} " not in out]
    assert not missing, f"`nwdaf run --help` does not explain {missing}"


def test_unknown_service_names_the_choices() -> None:
    code, out = run("run", "pcf")
    assert code == 2
    assert "pcf" in out
    assert "collector" in out


@pytest.mark.parametrize("sub", ["ml", "bench", "testbed", "config"])
def test_groups_have_help(sub: str) -> None:
    code, out = run(sub, "--help")
    assert code == 0
    assert "Commands" in out


def test_bench_tap_missing_and_corrupt_pcap(tmp_path: Path) -> None:
    code, out = run("bench", "tap", "--pcap", str(tmp_path / "absent.pcap"))
    assert code == 2
    assert "no such file" in out
    broken = tmp_path / "broken.pcap"
    broken.write_bytes(b"\xd4\xc3\xb2\xa1" + b"\x00" * 9)  # pcap magic, then a truncated global header
    code, out = run("bench", "tap", "--pcap", str(broken))
    assert code == 2
    assert "broken.pcap" in out
    assert "Traceback" not in out


def test_detect_rejects_unknown_format(tmp_path: Path) -> None:
    code, out = run("detect", "--input", f"parquet:{tmp_path}/x", "--json", str(tmp_path / "o.json"))
    assert code == 2
    assert "FORMAT:PATH" in out


def test_detect_skips_bad_rows_and_strict_fails_cleanly(tmp_path: Path) -> None:
    header = "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,TotPkts,TotBytes,SrcBytes,Label"
    good = "2011/08/18 15:47:57.98,0.1,udp,10.0.0.1,1025,<->,10.0.0.2,53,CON,2,203,64,flow=From-Botnet-1"
    flows = tmp_path / "x.binetflow"
    flows.write_text("\n".join([header, good, good.replace(",53,", ",http,"), good]) + "\n")
    report = tmp_path / "o.json"
    code, out = run("detect", "-i", f"binetflow:{flows}", "--json", str(report))
    assert code == 0, out
    assert "skipped 1 of 3 rows: column dst_port: expected a port ×1 (line 3)" in out
    assert '"skipped": 1' in report.read_text()
    code, out = run("detect", "-i", f"binetflow:{flows}", "--json", str(report), "--strict")
    assert code == 2
    assert f"--strict: {flows}:3: column dst_port: expected a port, got 'http'" in out
    assert "Traceback" not in out
