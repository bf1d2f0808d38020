"""Where the tests and benchmarks find the real datasets: ``NWDAF_DATASETS_DIR``, else ``../shared/datasets``
beside the repository (never copied into it). Tests that need them skip with this module's reason when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def datasets_dir() -> Path:
    return Path(os.environ.get("NWDAF_DATASETS_DIR", REPO_ROOT.parent / "shared" / "datasets"))


DATASETS = datasets_dir()

MISSING_REASON = f"real datasets not found at {DATASETS} (set NWDAF_DATASETS_DIR to the shared/datasets folder)"

needs_datasets = pytest.mark.skipif(not DATASETS.is_dir(), reason=MISSING_REASON)
"""Mark: skip when the datasets folder is absent."""
