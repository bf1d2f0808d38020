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
