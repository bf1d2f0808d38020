"""train(): selection by F1/MCC, calibrated probabilities, report files, the provisionable bundle."""

from __future__ import annotations

import collections
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from nwdaf.lib.features import graph_features, host_window_features
from nwdaf.lib.ml.bundle import BundleError, ModelBundle, calibrate, fit_calibrator
from nwdaf.nf.mtlf.train import DatasetError, TrainResult, train
from nwdaf.nf.mtlf.train.config import TrainConfig

pytestmark = pytest.mark.unit


def test_selection_takes_the_best_f1(trained: TrainResult) -> None:
    assert len(trained.cv_scores) == 4
    best_f1 = max(s.f1 for s in trained.cv_scores)
    assert trained.selected.f1 >= best_f1 - 0.005
    assert trained.metrics["test"]["n"] > 0
    assert trained.metrics["data"]["group_kind"] in {"host+window", "host", "window"}


def test_probabilities_are_calibrated_into_unit_interval(trained: TrainResult, flows: pl.DataFrame) -> None:
    feats = host_window_features(flows, 60.0).join(graph_features(flows, 60.0), on=["window_start", "host"])
    cols = trained.bundle.meta.feature_columns
    proba = trained.bundle.predict_proba(feats.select(cols).to_numpy())
    assert proba.shape == (feats.height,)
    assert np.all((proba >= 0) & (proba <= 1))
    assert 0.0 <= trained.metrics["test"]["ece"] <= 1.0


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_calibrators_map_scores_into_unit_interval(method: str) -> None:
    rng = np.random.default_rng(0)
    raw = rng.uniform(0, 1, 400)
    y = (rng.uniform(0, 1, 400) < raw**2).astype(np.int64)
    calibrator = fit_calibrator(method, raw, y)  # type: ignore[arg-type]
    out = calibrate(method, calibrator, np.array([-5.0, 0.0, 0.3, 0.9, 1.0, 7.0]))  # type: ignore[arg-type]
    assert np.all((out >= 0) & (out <= 1))
    assert out[3] > out[2], "calibration keeps the order of scores"


def test_report_files_are_written(trained: TrainResult) -> None:
    names = {p.name for p in trained.report_files}
    assert names == {"metrics.json", "confusion_matrix.png", "pr_curve.png", "reliability.png"}
    for png in trained.report_dir.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads((trained.report_dir / "metrics.json").read_text())
    assert saved["test"]["confusion"] == trained.metrics["test"]["confusion"]
    assert set(saved["test"]["per_class"]) == {"benign", "malicious"}


def test_bundle_round_trip_and_checksum(trained: TrainResult) -> None:
    data = trained.bundle_path.read_bytes()
    loaded = ModelBundle.from_bytes(data, trained.sha256)
    assert loaded.meta == trained.bundle.meta
    with pytest.raises(BundleError, match="does not match"):
        ModelBundle.from_bytes(data, "0" * 64)
    with pytest.raises(BundleError, match="not a skops"):
        ModelBundle.from_bytes(b"not a zip file")


def test_bundle_refuses_untrusted_types(tmp_path: Path) -> None:
    import skops.io as sio  # type: ignore[import-untyped]

    from nwdaf.lib.ml.bundle import BUNDLE_FORMAT

    payload = sio.dumps({"format": BUNDLE_FORMAT, "meta": "{}", "pipeline": collections.Counter(a=1),
                         "calibrator": None})
    with pytest.raises(BundleError, match="not trusted"):
        ModelBundle.from_bytes(payload)


def test_missing_feature_columns_are_named(trained: TrainResult) -> None:
    from nwdaf.lib.ml.bundle import feature_matrix

    frame = pl.DataFrame({"flows_out": [1.0]})
    with pytest.raises(BundleError, match="lacks column"):
        feature_matrix(frame, trained.bundle.meta.feature_columns)


def test_single_class_input_is_refused(
    flows: pl.DataFrame, tmp_path: Path, make_config: Callable[..., TrainConfig]
) -> None:
    with pytest.raises(DatasetError):
        train(make_config(flows.filter(pl.col("label") == "benign"), tmp_path))
