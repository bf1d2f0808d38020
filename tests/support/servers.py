"""Real ClickHouse and InfluxDB servers for tests and benchmarks, run by ``scripts/services/{clickhouse,influxdb}``.

:class:`ManagedServer` starts a private server through the script (own state file, temp dir, free ports) and stops
it by PID (:mod:`tests.support.lifecycle`); :func:`server_from_env` adopts one already started (``CLICKHOUSE_URL`` /
``INFLUXDB_URL``, as ``make test`` exports them). The scripts' implementation is :mod:`tests.support._dbserver`
(standard library only).
"""

from __future__ import annotations

import os
import socket
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

from tests.support._dbserver import KINDS, START_TIMEOUT_S, ServerInfo, probe
from tests.support.lifecycle import ScriptServer, ServerError
from tests.support.lifecycle import service_script as lifecycle_script

__all__ = ["KINDS", "ManagedServer", "ServerError", "ServerInfo", "server_from_env", "service_script"]


def service_script(kind: str) -> Path:
    """``scripts/services/<kind>`` of this checkout."""
    return lifecycle_script(kind)


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


class ManagedServer(ScriptServer[ServerInfo]):
    """A private server: ``scripts/services/<kind> start``/``stop`` with its own state file (a context manager)."""

    def __init__(self, kind: str, *, timeout_s: float = 600.0) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown server kind {kind!r}; known: {sorted(KINDS)}")
        # The timeout covers a first-time apt-get install, not only the start.
        super().__init__(kind, timeout_s=timeout_s, start_args=["--timeout", str(START_TIMEOUT_S)])
        self.kind = kind

    @property
    def info(self) -> ServerInfo | None:
        return self.running

    def script(self) -> Path:
        return service_script(self.kind)

    def parse(self, values: Mapping[str, str]) -> ServerInfo:
        prefix = self.kind.upper()
        return ServerInfo(self.kind, values[f"{prefix}_URL"], values[f"{prefix}_HTTP"], values[f"{prefix}_VERSION"],
                          int(values[f"{prefix}_PID"]), started_here=True)
