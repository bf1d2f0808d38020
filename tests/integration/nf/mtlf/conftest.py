"""Tracking backends for the MTLF integration tests: an embedded SQLite store and a real MLflow server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.mlflow_server import MlflowServer, MlflowServerError, TrackingBackend, server_from_env
from tests.support.pytest_plugin import record_service


@pytest.fixture(scope="session")
def mlflow_server_uri(request: pytest.FixtureRequest) -> Iterator[str]:
    """A real ``mlflow server`` (``MLFLOW_TRACKING_URI`` if it names one, else started by scripts/services/mlflow)."""
    server: MlflowServer | None = None
    try:
        tracking = server_from_env()
        if tracking is None:
            server = MlflowServer()
            tracking = server.start()
    except MlflowServerError as exc:
        if os.environ.get("NWDAF_SKIP_MLFLOW_SERVER") == "1":
            pytest.skip(f"MLflow server unavailable: {exc} (NWDAF_SKIP_MLFLOW_SERVER=1)")
        pytest.fail(f"MLflow server unavailable: {exc} (set NWDAF_SKIP_MLFLOW_SERVER=1 to skip)", pytrace=False)
    record_service(request.config, tracking.describe())
    try:
        yield tracking.uri
    finally:
        if server is not None:
            server.stop()


@pytest.fixture(params=["sqlite", "server"])
def tracking(request: pytest.FixtureRequest, tmp_path: Path) -> TrackingBackend:
    if request.param == "sqlite":
        return TrackingBackend(f"sqlite:///{tmp_path / 'mlflow.db'}", str(tmp_path / "artifacts"), "sqlite")
    uri = request.getfixturevalue("mlflow_server_uri")
    return TrackingBackend(uri, str(tmp_path / "unused-artifacts"), "server")
