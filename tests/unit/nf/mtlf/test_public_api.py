"""The package's public names resolve, and loading a provisioned model does not import MLflow."""

from __future__ import annotations

import subprocess
import sys

import pytest

import nwdaf.nf.mtlf

pytestmark = pytest.mark.unit


def test_every_public_name_resolves() -> None:
    for name in nwdaf.nf.mtlf.__all__:
        assert getattr(nwdaf.nf.mtlf, name) is not None
    with pytest.raises(AttributeError):
        _ = nwdaf.nf.mtlf.no_such_name  # type: ignore[attr-defined]


def test_the_engine_side_does_not_need_mlflow() -> None:
    code = "import sys, nwdaf.lib.ml.holder, nwdaf.lib.ml.bundle; print('mlflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
