"""A real MLflow tracking server for tests and benchmarks, run by ``scripts/services/mlflow``.

:class:`MlflowServer` starts a private server (its own state file, temp directory, free port on 127.0.0.1,
SQLite backend, proxied artifact store) and stops it by PID (:mod:`tests.support.lifecycle`);
:func:`server_from_env` adopts one already started (``MLFLOW_TRACKING_URI=http://...``, as the Makefile may
export it).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.support.lifecycle import ScriptServer, ServerError
from tests.support.lifecycle import service_script as lifecycle_script


class MlflowServerError(ServerError):
    """The server could not be started, reached or stopped; the message says why."""


@dataclass(frozen=True)
class MlflowTracking:
    """A running tracking server: its URI and whether this process started it."""

    uri: str
    pid: int | None = None
    started_here: bool = False

    def describe(self) -> str:
        origin = f"started here, pid {self.pid}" if self.started_here else "from MLFLOW_TRACKING_URI"
        return f"real MLflow tracking server at {self.uri} ({origin})"


@dataclass(frozen=True)
class TrackingBackend:
    """Where a test's registry lives: ``sqlite`` (embedded, ``artifact_root`` used) or ``server``."""

    uri: str
    artifact_root: str
    kind: str


def service_script() -> Path:
    """``scripts/services/mlflow`` of this checkout (``NWDAF_MLFLOW_SCRIPT`` overrides)."""
    return lifecycle_script("mlflow", "NWDAF_MLFLOW_SCRIPT", MlflowServerError)


def check_answers(uri: str, timeout_s: float = 5.0) -> None:
    try:
        with urllib.request.urlopen(f"{uri}/health", timeout=timeout_s) as resp:
            if resp.status != 200:
                raise MlflowServerError(f"MLflow at {uri} answered /health with HTTP {resp.status}")
    except (urllib.error.URLError, OSError) as exc:
        raise MlflowServerError(f"MLflow at {uri} does not answer: {exc}") from exc


def server_from_env() -> MlflowTracking | None:
    """The server named by ``MLFLOW_TRACKING_URI`` when it is an ``http(s)://`` URI, checked to answer."""
    uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    if not uri.startswith(("http://", "https://")):
        return None
    check_answers(uri)
    return MlflowTracking(uri=uri)


class MlflowServer(ScriptServer[MlflowTracking]):
    """A private tracking server: ``scripts/services/mlflow start``/``stop`` with its own state file (a context
    manager). The script runs MLflow with this interpreter unless ``NWDAF_PYTHON`` names another."""

    error = MlflowServerError

    def __init__(self, *, timeout_s: float = 120.0) -> None:
        super().__init__("mlflow", timeout_s=timeout_s,
                         env={"NWDAF_PYTHON": os.environ.get("NWDAF_PYTHON", sys.executable)})

    @property
    def tracking(self) -> MlflowTracking | None:
        return self.running

    @property
    def uri(self) -> str:
        if self.running is None:
            raise MlflowServerError("MlflowServer is not started")
        return self.running.uri

    def script(self) -> Path:
        return service_script()

    def parse(self, values: Mapping[str, str]) -> MlflowTracking:
        return MlflowTracking(values["MLFLOW_TRACKING_URI"], int(values["MLFLOW_PID"]), True)
