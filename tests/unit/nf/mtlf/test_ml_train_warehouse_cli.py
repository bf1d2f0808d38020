"""``nwdaf ml train --warehouse URL --start ISO --end ISO [--labels FILE]``: options -> TrainConfig, clean errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

import nwdaf.nf.mtlf.train
from nwdaf.app.cli import app
from nwdaf.nf.mtlf.train.config import TrainConfig

pytestmark = pytest.mark.unit
URL = "chdb:///var/lib/nwdaf?database=nwdaf"
RANGE = ["--start", "2026-01-01T00:00:00Z", "--end", "2026-01-01T06:00:00Z"]


@pytest.fixture
def configs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[TrainConfig]:
    seen: list[TrainConfig] = []

    def fake_train(config: TrainConfig, skips: Any = None) -> Any:
        seen.append(config)
        return SimpleNamespace(model_name="m", version=None, sha256="ab" * 32, timings={}, report_dir=Path("r"),
                               metrics={"test": {"f1": 1.0, "mcc": 1.0}},
                               selected=SimpleNamespace(candidate="random_forest", sampler="smote", f1=1.0))

    monkeypatch.setenv("NWDAF_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(nwdaf.nf.mtlf.train, "train", fake_train)
    return seen


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["ml", "train", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_warehouse_options_reach_the_train_config(configs: list[TrainConfig], tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("host,label\n10.45.1.2,malicious\n")
    code, out = run("--warehouse", URL, *RANGE, "--labels", str(labels), "--group-by", "host", "--host-col", "supi",
                    "--n-jobs", "1")
    assert code == 0, out
    [config] = configs
    assert (config.warehouse_url, config.inputs, config.labels_file) == (URL, [], labels)
    assert (config.start, config.end) == (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 6, tzinfo=UTC))
    assert (config.group_by, config.host_col, config.n_jobs) == ("host", "supi", 1)


def test_warehouse_and_imports_combine(configs: list[TrainConfig]) -> None:
    code, out = run("-i", "binetflow:bots.gz", "--warehouse", URL, *RANGE)
    assert code == 0, out
    assert configs[0].inputs == ["binetflow:bots.gz"]
    assert configs[0].warehouse_url == URL
    assert (configs[0].group_by, configs[0].n_jobs) == ("auto", -1), "defaults: strictest grouping, every core"


@pytest.mark.parametrize(("args", "message"), [
    ((), "no training data"),
    (("-i", "zeek:a.log", "--start", "2026-01-01T00:00:00Z"), "add --warehouse"),
    (("--warehouse", URL, "--start", "2026-01-01T00:00:00Z"), "needs --start and --end"),
    (("--warehouse", URL, "--start", "2026-01-01T00:00:00", "--end", "2026-01-02T00:00:00"), "UTC offset"),
    (("--warehouse", URL, *RANGE, "--labels", "/nonexistent/labels.csv"), "labels file"),
    (("--warehouse", "influxdb://h:8086/db", *RANGE), "chdb://PATH or clickhouse://"),
    (("-i", "zeek:a.log", "--group-by", "nope"), "group_by"),
])
def test_bad_data_options_are_clean_messages(configs: list[TrainConfig], args: tuple[str, ...], message: str) -> None:
    code, out = run(*args)
    assert code == 2, out
    assert out.startswith("nwdaf ml: ")
    assert message in out
    assert "Traceback" not in out
    assert configs == []
