"""MTLF unit-test fixtures: a small labelled flow set and a trained model (seconds, not minutes)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from tests.support.mtlf_data import labelled_flows

from nwdaf.nf.mtlf.train import TrainResult, train
from nwdaf.nf.mtlf.train.config import TrainConfig


@pytest.fixture(scope="session")
def flows() -> pl.DataFrame:
    return labelled_flows(seed=7)


def small_config(flows: pl.DataFrame, tmp: Path, **overrides: object) -> TrainConfig:
    values: dict[str, object] = {
        "flows": flows, "candidates": ["random_forest", "logistic_regression"], "samplers": ["smote", "undersample"],
        "n_splits": 3, "register_model": False, "progress": False, "report_dir": tmp / "reports",
        "tracking_uri": f"sqlite:///{tmp / 'mlflow.db'}", "artifact_root": str(tmp / "artifacts"),
    }
    return TrainConfig(**{**values, **overrides})


@pytest.fixture(scope="session")
def make_config() -> Callable[..., TrainConfig]:
    """``make_config(flows, tmp_dir, **overrides)``: a CI-sized training configuration."""
    return small_config


@pytest.fixture(scope="session")
def trained(flows: pl.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    return train(small_config(flows, tmp_path_factory.mktemp("trained")))
