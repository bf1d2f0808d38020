"""``nwdaf ml train --warehouse chdb://PATH --start --end [--labels FILE]``: flow records written through the
storage backend (as the sink writes them), read back by time range through its read side, trained on and
registered. Labelled records use their own label column; unlabelled ones (the processor's live records) a
labels file mapping hosts and time ranges to labels."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from tests.support.mtlf_data import labelled_flows
from typer.testing import CliRunner

from nwdaf.app.cli import app
from nwdaf.lib.storage.backends import open_backend
from nwdaf.nf.mtlf.registry import ModelRegistry

pytestmark = pytest.mark.integration
pytest.importorskip("chdb", reason="the chdb extra is not installed (pip install 'nwdaf[chdb]')")

MODEL = "nwdaf-abnormal-behaviour-host"
SMALL = ["--candidates", "random_forest", "--samplers", "smote", "--splits", "3"]
# A recording's times (2011): retention counts from ingestion, so old records are kept like recent ones.
START_TS = 1_313_000_040.0


@pytest.fixture(scope="module")
def chdb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("warehouse")  # chdb: one data path per process, a database per test


@pytest.fixture
def env(tmp_path: Path, chdb_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("NWDAF_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NWDAF_ML__TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    monkeypatch.setenv("NWDAF_ML__ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    return {"url": f"chdb://{chdb_dir}?database=t_{uuid.uuid4().hex[:12]}", "tracking": f"sqlite:///{tmp_path}/mlflow.db",
            "artifacts": str(tmp_path / "artifacts")}


def store(url: str, flows: pl.DataFrame, batch: int = 500) -> None:
    async def write() -> None:
        backend = open_backend(url)
        await backend.start()
        try:
            rows = flows.to_dicts()
            for i in range(0, len(rows), batch):
                await backend.write("flow_records", rows[i:i + batch], f"test-{i}")
        finally:
            await backend.close()

    asyncio.run(write())


def time_range(flows: pl.DataFrame) -> list[str]:
    first, last = flows.get_column("start_ts").min(), flows.get_column("start_ts").max()
    assert isinstance(first, float)
    assert isinstance(last, float)
    iso = [datetime.fromtimestamp(t, UTC).isoformat() for t in (first, last + 1)]
    return ["--start", iso[0], "--end", iso[1]]


def train(env: dict[str, str], tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "train.json"
    result = CliRunner().invoke(app, ["ml", "train", "--warehouse", env["url"], *args, *SMALL, "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert f"registered {MODEL} v1" in result.output
    written: dict[str, Any] = json.loads(out.read_text())
    return written


def test_labelled_records_train_and_register(env: dict[str, str], tmp_path: Path) -> None:
    flows = labelled_flows(seed=21, start_ts=START_TS)
    store(env["url"], flows)
    trained = train(env, tmp_path, *time_range(flows))
    data = trained["metrics"]["data"]
    assert data["warehouse_rows"] == flows.height
    assert data["group_kind"] == "host+window"
    assert data["warehouse"]["url"] == env["url"]
    version = ModelRegistry(env["tracking"], env["artifacts"]).version(MODEL, "1")
    assert version.sha256 == trained["sha256"]
    assert json.loads(version.tags["warehouse"])["rows"] == flows.height


def test_a_time_range_selects_records(env: dict[str, str], tmp_path: Path) -> None:
    flows = labelled_flows(seed=22, start_ts=START_TS, windows=16)
    store(env["url"], flows)
    cut = START_TS + 12 * 60.0  # the last 4 windows are outside the range
    trained = train(env, tmp_path, "--start", datetime.fromtimestamp(START_TS, UTC).isoformat(),
                    "--end", datetime.fromtimestamp(cut, UTC).isoformat())
    assert trained["metrics"]["data"]["warehouse_rows"] == flows.filter(pl.col("start_ts") < cut).height


def test_live_records_take_labels_from_a_file(env: dict[str, str], tmp_path: Path) -> None:
    truth = labelled_flows(seed=23, start_ts=START_TS)
    live = truth.drop("label", "label_detail").with_columns(pl.lit("upf").alias("source"))
    store(env["url"], live)
    labels = tmp_path / "labels.csv"
    labels.write_text(labels_csv(truth))
    trained = train(env, tmp_path, *time_range(truth), "--labels", str(labels))
    data = trained["metrics"]["data"]
    assert data["labels_file"] == str(labels)
    assert data["positives"] > 0
    assert data["sources"] == [["upf", data["rows"]]]


def labels_csv(truth: pl.DataFrame) -> str:
    """Every host benign, then each bot malicious in the windows it scanned (later rows win)."""
    window = (pl.col("start_ts") // 60 * 60).alias("w")
    scans = truth.filter(pl.col("label") == "malicious").select("src_ip", window).unique().sort("src_ip", "w")
    lines = ["host,label,label_detail,start,end"]
    lines += [f"{h},benign,,," for h in truth.get_column("src_ip").unique().sort()]
    lines += [f"{h},malicious,scan,{w},{w + 60}" for h, w in scans.iter_rows()]
    return "\n".join(lines) + "\n"
