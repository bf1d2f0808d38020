"""Embedded ClickHouse (chdb): the default backend, both roles, no server to run (extra ``chdb``).

chdb runs one embedded server per process, bound to one data path: the time-series and warehouse URLs must name
the same ``chdb://PATH`` (the default does), and a second path is refused with a clear error until every session
on the first is closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
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

MEMORY = ":memory:"


class ChdbEngine:
    """Statements and inserts through one ``chdb.session.Session`` (thread-safe by chdb's own locks)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.placeholder: _sql.Placeholder = _sql.server_placeholder
        self._session: Any = None

    def connect(self) -> None:
        try:
            from chdb.session import Session
        except ImportError as exc:
            msg = f"chdb:// needs the embedded ClickHouse: pip install 'nwdaf[chdb]' ({exc})"
            raise StorageConfigError(msg) from exc
        if self.path != MEMORY:
            Path(self.path).mkdir(parents=True, exist_ok=True)
        try:
            self._session = Session(self.path)  # type: ignore[no-untyped-call]
        except Exception as exc:
            if "already initialized with path" in str(exc):
                raise StorageConfigError(
                    f"chdb runs one embedded database per process and another path is open; point every chdb:// "
                    f"URL at the same path (here {self.path!r}): {exc}") from exc
            raise

    def _require(self) -> Any:
        if self._session is None:
            raise StorageError(f"chdb session on {self.path!r} is not open (call start() first)")
        return self._session

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        result = self._require().query(sql, "JSONCompact", params=dict(params) if params else None)
        raw = result.bytes() if result is not None else b""
        if not raw.strip():
            return []
        return [tuple(row) for row in orjson.loads(raw)["data"]]

    def insert_frame(self, qualified_table: str, frame: pl.DataFrame) -> None:
        # chdb reads the Arrow table in place through its Python() table function, which finds it by this local
        # name; large_string columns (the oldest compat level) rather than string views, which it does not read.
        arrow_frame = frame.to_arrow(compat_level=pl.CompatLevel.oldest())  # noqa: F841 - read by name below
        names = ", ".join(frame.columns)
        self._require().query(f"INSERT INTO {qualified_table} ({names}) SELECT {names} FROM Python(arrow_frame)")

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


def open_chdb(raw_url: str) -> MergeTreeBackend:
    """``chdb://PATH`` (relative ``chdb://./.run/chdb``, absolute ``chdb:///var/lib/nwdaf``, or ``chdb://:memory:``);
    query parameters ``database`` (default ``nwdaf``) and ``retention_days``."""
    parts = urlsplit(raw_url)
    url = redacted(raw_url)
    path = (parts.netloc + parts.path) or ""
    if not path:
        raise StorageConfigError(f"{url!r} names no path: use chdb://./dir, chdb:///abs/dir or chdb://:memory:")
    database = check_database_name(query_param(parts, "database") or "nwdaf", url)
    return MergeTreeBackend(url, ChdbEngine(path), database, retention_days(parts))
