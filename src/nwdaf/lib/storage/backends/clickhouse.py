"""ClickHouse server over the native protocol (clickhouse-driver; extra ``clickhouse``).

Works with the Debian ``clickhouse-server`` 18.16 and current releases: parameters are substituted client-side by
the driver, TTL is used only where the server has it (19.6+), older servers drop expired daily partitions instead.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

import polars as pl

from nwdaf.lib.storage.backends import _sql
from nwdaf.lib.storage.backends.base import (
    StorageConfigError,
    StorageError,
    check_database_name,
    query_param,
    redacted,
    retention_days,
)
from nwdaf.lib.storage.backends.mergetree import MergeTreeBackend

DEFAULT_PORT = 9000


class ClickHouseEngine:
    """One native-protocol connection, used by one thread at a time (the driver's client is not thread-safe)."""

    def __init__(self, host: str, port: int, *, user: str, password: str, connect_timeout_s: float = 5.0,
                 send_receive_timeout_s: float = 60.0) -> None:
        self.host, self.port, self.user = host, port, user
        self._password = password
        self._timeouts = (connect_timeout_s, send_receive_timeout_s)
        self.placeholder: _sql.Placeholder = _sql.driver_placeholder
        self._client: Any = None
        self._lock = threading.Lock()

    def connect(self) -> None:
        try:
            from clickhouse_driver import Client
        except ImportError as exc:
            msg = f"clickhouse:// needs the native driver: pip install 'nwdaf[clickhouse]' ({exc})"
            raise StorageConfigError(msg) from exc
        client = Client(host=self.host, port=self.port, user=self.user, password=self._password,
                        connect_timeout=self._timeouts[0], send_receive_timeout=self._timeouts[1],
                        client_name="nwdaf", settings={"use_numpy": False})
        with self._lock:
            client.execute("SELECT 1")
            self._client = client

    def _require(self) -> Any:
        if self._client is None:
            raise StorageError(f"ClickHouse {self.host}:{self.port} is not connected (call start() first)")
        return self._client

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        with self._lock:
            rows = self._require().execute(sql, dict(params) if params else None)
        return [tuple(r) for r in rows]

    def insert_frame(self, qualified_table: str, frame: pl.DataFrame) -> None:
        # Columnar insert: one list per column, sent as native-protocol column blocks (ClickHouse 18.16 reads them;
        # the values were checked by TableFrame, so the driver's per-value type check is off).
        columns = [frame.get_column(name).to_list() for name in frame.columns]
        with self._lock:
            self._require().execute(f"INSERT INTO {qualified_table} ({', '.join(frame.columns)}) VALUES", columns,
                                    columnar=True, types_check=False)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.disconnect()
                self._client = None


def open_clickhouse(raw_url: str) -> MergeTreeBackend:
    """``clickhouse://[user[:password]@]host[:port]/database?retention_days=N`` (native protocol port)."""
    parts = urlsplit(raw_url)
    url = redacted(raw_url)
    try:
        host, port = parts.hostname, parts.port or DEFAULT_PORT
    except ValueError as exc:
        raise StorageConfigError(f"{url!r}: {exc}") from exc
    if not host:
        raise StorageConfigError(f"{url!r} names no host: use clickhouse://host:port/database")
    database = check_database_name(parts.path.strip("/") or query_param(parts, "database") or "default", url)
    engine = ClickHouseEngine(host, port, user=unquote(parts.username or "default"),
                              password=unquote(parts.password or ""))
    return MergeTreeBackend(url, engine, database, retention_days(parts))
