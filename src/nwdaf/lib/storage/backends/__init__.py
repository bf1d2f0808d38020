"""Storage backends chosen by URL scheme: ``chdb://`` (embedded default), ``clickhouse://``, ``influxdb://``."""

from __future__ import annotations

from urllib.parse import urlsplit

from nwdaf.lib.storage.backends.base import (
    DEFAULT_RETENTION_DAYS,
    MAX_LIMIT,
    RecordQuery,
    StorageBackend,
    StorageConfigError,
    StorageError,
    StorageReader,
    StorageWriter,
)

__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "MAX_LIMIT",
    "RecordQuery",
    "StorageBackend",
    "StorageConfigError",
    "StorageError",
    "StorageReader",
    "StorageWriter",
    "open_backend",
]


def open_backend(url: str) -> StorageBackend:
    """An unstarted backend for ``url``; the only place that picks a concrete backend class.

    The driver libraries are imported when the backend starts, so a missing extra is reported then, naming it.
    """
    parts = urlsplit(url)
    if parts.scheme == "chdb":
        from nwdaf.lib.storage.backends.chdb import open_chdb

        return open_chdb(url)
    if parts.scheme == "clickhouse":
        from nwdaf.lib.storage.backends.clickhouse import open_clickhouse

        return open_clickhouse(url)
    if parts.scheme == "influxdb":
        from nwdaf.lib.storage.backends.influxdb import open_influxdb

        return open_influxdb(url)
    raise StorageConfigError(f"unknown storage url scheme {parts.scheme!r} in {url!r}: use chdb://PATH, "
                             "clickhouse://host:port/db or influxdb://host:port/db")
