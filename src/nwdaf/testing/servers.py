"""Real ClickHouse and InfluxDB servers for tests and benchmarks, run like ``scripts/services/{clickhouse,influxdb}``.

:class:`ManagedServer` starts a private server (own state file, temp dir, free ports) and stops it by PID;
:func:`server_from_env` adopts one already started (``CLICKHOUSE_URL`` / ``INFLUXDB_URL``, as ``make test`` exports
them). The process control itself is :mod:`nwdaf.testing._dbserver` (standard library only, shared with the scripts).
"""

from __future__ import annotations

import os
import socket
import tempfile
import urllib.parse
from pathlib import Path
from types import TracebackType

from nwdaf.testing._dbserver import KINDS, START_TIMEOUT_S, ServerError, ServerInfo, probe, start, stop

__all__ = ["KINDS", "ManagedServer", "ServerError", "ServerInfo", "server_from_env"]


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
    """Context manager: a private server (own state file and temp dir) for one test session, stopped by PID."""

    def __init__(self, kind: str, *, timeout_s: float = START_TIMEOUT_S) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown server kind {kind!r}; known: {sorted(KINDS)}")
        self.kind = kind
        self._timeout_s = timeout_s
        self._state_dir: tempfile.TemporaryDirectory[str] | None = None
        self.info: ServerInfo | None = None

    @property
    def _state_file(self) -> Path:
        assert self._state_dir is not None
        return Path(self._state_dir.name) / f"{self.kind}.json"

    def start(self) -> ServerInfo:
        if self.info is None:
            self._state_dir = tempfile.TemporaryDirectory(prefix=f"nwdaf-{self.kind}-state-")
            try:
                self.info = start(self.kind, self._state_file, self._timeout_s)
            except BaseException:
                self._state_dir.cleanup()
                self._state_dir = None
                raise
        return self.info

    def stop(self) -> None:
        if self._state_dir is None:
            return
        try:
            stop(self.kind, self._state_file)
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
