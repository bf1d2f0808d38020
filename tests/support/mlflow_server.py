"""A real MLflow tracking server for tests and benchmarks, run by ``scripts/services/mlflow``.

:class:`MlflowServer` starts a private server (its own state file, temp directory, free port on 127.0.0.1,
SQLite backend, proxied artifact store) and stops it by PID; :func:`server_from_env` adopts one already started
(``MLFLOW_TRACKING_URI=http://...``, as the Makefile may export it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

_REPO_ROOT = Path(__file__).resolve().parents[2]


class MlflowServerError(RuntimeError):
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
    script = Path(os.environ.get("NWDAF_MLFLOW_SCRIPT", _REPO_ROOT / "scripts" / "services" / "mlflow"))
    if not script.is_file():
        raise MlflowServerError(f"server script {script} not found (set NWDAF_MLFLOW_SCRIPT)")
    return script


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


class MlflowServer:
    """Context manager around ``scripts/services/mlflow start``/``stop`` with a private state file."""

    def __init__(self, *, timeout_s: float = 120.0) -> None:
        self._timeout_s = timeout_s
        self._state_dir: tempfile.TemporaryDirectory[str] | None = None
        self.tracking: MlflowTracking | None = None

    @property
    def uri(self) -> str:
        if self.tracking is None:
            raise MlflowServerError("MlflowServer is not started")
        return self.tracking.uri

    def _run(self, *args: str) -> str:
        assert self._state_dir is not None
        state = str(Path(self._state_dir.name) / "mlflow.json")
        cmd = [sys.executable, str(service_script()), *args, "--state", state]
        env = {**os.environ, "NWDAF_PYTHON": os.environ.get("NWDAF_PYTHON", sys.executable)}
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=self._timeout_s, check=False, env=env)
        except subprocess.TimeoutExpired as exc:
            raise MlflowServerError(f"{' '.join(args)} did not finish within {self._timeout_s:.0f}s") from exc
        if proc.returncode != 0:
            raise MlflowServerError(f"scripts/services/mlflow {' '.join(args)} failed:\n{proc.stderr.strip()}")
        return proc.stdout

    def start(self) -> MlflowTracking:
        if self.tracking is not None:
            return self.tracking
        self._state_dir = tempfile.TemporaryDirectory(prefix="nwdaf-mlflow-state-")
        try:
            out = self._run("start")
        except MlflowServerError:
            self._state_dir.cleanup()
            self._state_dir = None
            raise
        values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        self.tracking = MlflowTracking(values["MLFLOW_TRACKING_URI"], int(values["MLFLOW_PID"]), True)
        return self.tracking

    def stop(self) -> None:
        if self._state_dir is None:
            return
        try:
            self._run("stop")
        finally:
            self._state_dir.cleanup()
            self._state_dir = None
            self.tracking = None

    def __enter__(self) -> MlflowTracking:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
