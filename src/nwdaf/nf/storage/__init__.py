"""Storage: time series and warehouse backends chosen by URL, the bus sink agent, and the Data Relay."""

from nwdaf.lib.storage.backends import (
    RecordQuery,
    StorageBackend,
    StorageConfigError,
    StorageError,
    StorageReader,
    StorageWriter,
    open_backend,
)
from nwdaf.lib.storage.schema import TABLES, RowError
from nwdaf.nf.storage.config import RelaySettings, SinkSettings, StorageSettings

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
