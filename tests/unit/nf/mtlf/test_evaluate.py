"""evaluate(): per-class metrics, per-host results and per-label recall of a trained model on labelled flows."""

from __future__ import annotations

import polars as pl
import pytest
from tests.support.mtlf_data import labelled_flows

from nwdaf.nf.mtlf.train import TrainResult, evaluate

pytestmark = pytest.mark.unit


def test_evaluate_reports_per_class_and_per_host(trained: TrainResult) -> None:
    flows = labelled_flows(seed=21, windows=4)
    report = evaluate(str(trained.bundle_path), flows)
    assert report["rows"] > 0
    assert report["positives"] > 0
    assert set(report["per_class"]) == {"benign", "malicious"}
    assert -1.0 <= report["mcc"] <= 1.0
    hosts = {h["host"]: h for h in report["per_host"]}
    bots = {h for h, row in hosts.items() if row["malicious_host"]}
    assert bots
    assert all(h.startswith("10.45.1.") for h in bots)
    assert set(report["recall_by_label"]) == {"scan"}
    tn, fp = report["confusion"][0]
    fn, tp = report["confusion"][1]
    assert tn + fp + fn + tp == report["rows"]


def test_evaluate_accepts_single_class_data(trained: TrainResult) -> None:
    benign = labelled_flows(seed=22, windows=2).filter(pl.col("label") == "benign")
    report = evaluate(str(trained.bundle_path), benign)
    assert report["positives"] == 0
    assert report["per_class"]["malicious"]["support"] == 0


def test_unknown_model_reference_is_a_clear_error() -> None:
    with pytest.raises(FileNotFoundError, match="neither a models:/ URI"):
        evaluate("/no/such/model.skops", labelled_flows(seed=1, windows=1))
