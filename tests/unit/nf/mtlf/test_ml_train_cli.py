"""``nwdaf ml train`` wiring without training: options -> TrainConfig, clean errors, the report, --promote, --json.

The real training run through the CLI is in tests/integration/nf/mtlf/test_ml_cli.py (it needs the datasets).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

import nwdaf.nf.mtlf.train
from nwdaf.app import ml_cli
from nwdaf.app.cli import app
from nwdaf.nf.mtlf.train.config import TrainConfig

pytestmark = pytest.mark.unit


class Recorder:
    def __init__(self, error: Exception | None = None, version: str | None = "3") -> None:
        self.configs: list[TrainConfig] = []
        self.promoted: list[tuple[str, str]] = []
        self.error = error
        self.version = version

    def train(self, config: TrainConfig, skips: Any = None) -> Any:
        self.configs.append(config)
        if self.error is not None:
            raise self.error
        return SimpleNamespace(
            model_name=config.model_name or "m", version=self.version, sha256="ab" * 32, timings={"fit": 1.0},
            metrics={"test": {"f1": 0.9, "mcc": 0.8}}, report_dir=Path("reports"),
            selected=SimpleNamespace(candidate="random_forest", sampler="smote", f1=0.95),
        )

    def promote(self, name: str, version: str) -> Any:
        self.promoted.append((name, version))
        return SimpleNamespace(version=version)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Recorder:
    rec = Recorder()
    monkeypatch.setenv("NWDAF_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(nwdaf.nf.mtlf.train, "train", rec.train)
    monkeypatch.setattr(ml_cli, "_registry", lambda settings: rec)
    return rec


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["ml", "train", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_options_reach_the_train_config(recorder: Recorder, tmp_path: Path) -> None:
    code, out = run("-i", "zeek:a.log", "-i", "binetflow:b.gz", "--kind", "flow", "--window", "30",
                    "--candidates", "random_forest, logistic_regression", "--samplers", "smote", "--splits", "3",
                    "--max-rows", "1000", "--seed", "4", "--model-name", "mine", "--no-register")
    assert code == 0, out
    [config] = recorder.configs
    assert config.inputs == ["zeek:a.log", "binetflow:b.gz"]
    assert (config.kind, config.window_s, config.n_splits, config.max_rows, config.seed) == ("flow", 30.0, 3, 1000, 4)
    assert config.candidates == ["random_forest", "logistic_regression"]
    assert config.samplers == ["smote"]
    assert (config.model_name, config.register_model) == ("mine", False)
    assert config.report_dir == tmp_path / "mtlf" / "reports"  # from settings.data_dir
    assert "selected random_forest+smote (CV F1 0.950); held-out F1 0.900 MCC 0.800" in out
    assert recorder.promoted == []


def test_promote_and_json(recorder: Recorder, tmp_path: Path) -> None:
    out_file = tmp_path / "out" / "train.json"
    code, out = run("-i", "zeek:a.log", "--model-name", "mine", "--promote", "--json", str(out_file))
    assert code == 0, out
    assert "registered mine v3" in out
    assert "promoted mine v3 to champion" in out
    assert recorder.promoted == [("mine", "3")]
    written = json.loads(out_file.read_text())
    assert written == {"model_name": "mine", "version": "3", "sha256": "ab" * 32,
                       "metrics": {"test": {"f1": 0.9, "mcc": 0.8}}, "timings": {"fit": 1.0}}


def test_unregistered_result_is_not_promoted(recorder: Recorder) -> None:
    recorder.version = None
    code, out = run("-i", "zeek:a.log", "--promote")
    assert code == 0, out
    assert "registered" not in out
    assert recorder.promoted == []


def test_invalid_option_is_a_clean_message(recorder: Recorder) -> None:
    code, out = run("-i", "zeek:a.log", "--splits", "1")
    assert code == 2
    assert out.startswith("nwdaf ml: n_splits:")
    assert "Traceback" not in out
    assert recorder.configs == []


def test_failed_training_is_a_clean_message(recorder: Recorder) -> None:
    recorder.error = ValueError("no malicious rows")
    code, out = run("-i", "zeek:a.log")
    assert code == 2
    assert "nwdaf ml: training failed: no malicious rows" in out
