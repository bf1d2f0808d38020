"""Every benchmark script starts: it finds benchmarks.support and tests.support from the repo root and parses
its arguments (a moved module once left two of them failing at their first import)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SCRIPTS = sorted((Path(__file__).resolve().parents[3] / "benchmarks").glob("*.py"))


def test_there_are_scripts() -> None:
    assert len(SCRIPTS) >= 8


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_imports_and_parses_help(script: Path, tmp_path: Path) -> None:
    # Run from elsewhere: a script must not depend on the caller's working directory.
    done = subprocess.run([sys.executable, str(script), "--help"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage" in done.stdout.lower()
