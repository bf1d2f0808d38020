"""Storage: time series and warehouse backends chosen by URL, the bus sink agent, and the Data Relay."""

from nwdaf.storage.backends import (
    RecordQuery,
    StorageBackend,
    StorageConfigError,
    StorageError,
    StorageReader,
    StorageWriter,
    open_backend,
)
from nwdaf.storage.config import RelaySettings, SinkSettings, StorageSettings
from nwdaf.storage.schema import TABLES, RowError

__all__ = [
    "TABLES",
    "RecordQuery",
    "RelaySettings",
    "RowError",
    "SinkSettings",
    "StorageBackend",
    "StorageConfigError",
    "StorageError",
    "StorageReader",
    "StorageSettings",
    "StorageWriter",
    "open_backend",
]
