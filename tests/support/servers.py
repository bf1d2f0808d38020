"""Real ClickHouse and InfluxDB servers for tests and benchmarks, run by ``scripts/services/{clickhouse,influxdb}``.

:class:`ManagedServer` starts a private server through the script (own state file, temp dir, free ports) and stops
it by PID; :func:`server_from_env` adopts one already started (``CLICKHOUSE_URL`` / ``INFLUXDB_URL``, as
``make test`` exports them). The scripts' implementation is :mod:`tests.support._dbserver` (standard library only).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path
from types import TracebackType

from tests.support._dbserver import KINDS, START_TIMEOUT_S, ServerError, ServerInfo, probe

__all__ = ["KINDS", "ManagedServer", "ServerError", "ServerInfo", "server_from_env", "service_script"]

_REPO_ROOT = Path(__file__).resolve().parents[2]


def service_script(kind: str) -> Path:
    """``scripts/services/<kind>`` of this checkout."""
    script = _REPO_ROOT / "scripts" / "services" / kind
    if not script.is_file():
        raise ServerError(f"server script {script} not found")
    return script


def server_from_env(kind: str) -> ServerInfo | None:
    """The server named by ``CLICKHOUSE_URL`` / ``INFLUXDB_URL`` (as ``make test`` exports them), checked to answer."""
    url = os.environ.get(KINDS[kind].env_var, "").strip()
    if not url:
        return None
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != kind or not parts.hostname or not parts.port:
        raise ServerError(f"{KINDS[kind].env_var}={url!r} is not {kind}://host:port/database")
    http_url = os.environ.get(f"{kind.upper()}_HTTP", "").strip()
    if kind == "influxdb":
        http_url = f"http://{parts.hostname}:{parts.port}"
    try:
        if http_url:
            version = probe(kind, http_url)
        else:
            with socket.create_connection((parts.hostname, parts.port), timeout=2.0):
                version = os.environ.get(f"{kind.upper()}_VERSION", "(version unknown)")
    except (OSError, ValueError, ServerError) as exc:
        raise ServerError(f"{kind} at {url} does not answer: {exc}") from exc
    return ServerInfo(kind, url, http_url, version)


class ManagedServer:
    """Context manager around ``scripts/services/<kind> start``/``stop`` with a private state file: the server a
    test session starts is started and stopped exactly as ``make test`` does it."""

    def __init__(self, kind: str, *, timeout_s: float = 600.0) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown server kind {kind!r}; known: {sorted(KINDS)}")
        self.kind = kind
        self._timeout_s = timeout_s  # covers a first-time apt-get install, not only the start
        self._state_dir: tempfile.TemporaryDirectory[str] | None = None
        self.info: ServerInfo | None = None

    def _run(self, command: str) -> str:
        assert self._state_dir is not None
        state = Path(self._state_dir.name) / f"{self.kind}.json"
        cmd = [sys.executable, str(service_script(self.kind)), command, "--state", str(state)]
        if command == "start":
            cmd += ["--timeout", str(START_TIMEOUT_S)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=self._timeout_s, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ServerError(f"scripts/services/{self.kind} {command} did not finish in {self._timeout_s:.0f}s") \
                from exc
        if proc.returncode != 0:
            raise ServerError(f"scripts/services/{self.kind} {command} failed:\n{proc.stderr.strip()}")
        return proc.stdout

    def start(self) -> ServerInfo:
        if self.info is None:
            self._state_dir = tempfile.TemporaryDirectory(prefix=f"nwdaf-{self.kind}-state-")
            try:
                out = self._run("start")
            except ServerError:
                self._state_dir.cleanup()
                self._state_dir = None
                raise
            values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
            prefix = self.kind.upper()
            self.info = ServerInfo(self.kind, values[f"{prefix}_URL"], values[f"{prefix}_HTTP"],
                                   values[f"{prefix}_VERSION"], int(values[f"{prefix}_PID"]), started_here=True)
        return self.info

    def stop(self) -> None:
        if self._state_dir is None:
            return
        try:
            self._run("stop")
        finally:
            self._state_dir.cleanup()
            self._state_dir = None
            self.info = None

    def __enter__(self) -> ServerInfo:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
