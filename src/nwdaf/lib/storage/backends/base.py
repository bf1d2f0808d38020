"""The narrow storage interface every backend implements: a write side, a read side, and their lifecycle."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Protocol, runtime_checkable
from urllib.parse import SplitResult, parse_qs, urlencode, urlsplit

DEFAULT_RETENTION_DAYS: Final = 30
MAX_LIMIT: Final = 10_000


class StorageError(RuntimeError):
    """A backend could not be reached, refused a statement, or lost a write; the message says which and why."""


class StorageConfigError(ValueError):
    """A storage URL names no known backend, is malformed, or its backend's extra is not installed."""


@dataclass(frozen=True, slots=True)
class RecordQuery:
    """Which rows to read: by UE (SUPI), slice (S-NSSAI key ``"1"``/``"1-000001"``) and time range.

    ``start`` is inclusive, ``end`` exclusive, both on the table's time column; rows come newest first.
    """

    supi: str | None = None
    snssai: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    limit: int = 100

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise ValueError(f"limit must be 1..{MAX_LIMIT}, got {self.limit}")
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} must carry a UTC offset (TS 29.571 DateTime), got {value.isoformat()}")
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValueError(f"start {self.start.isoformat()} must be before end {self.end.isoformat()}")

    def bounds(self) -> tuple[float | None, float | None]:
        """``start``/``end`` as epoch seconds (the stored time unit)."""
        return (self.start.timestamp() if self.start else None, self.end.timestamp() if self.end else None)


@runtime_checkable
class StorageWriter(Protocol):
    """Write side: append rows of one table; a batch written again under the same ``batch_id`` adds nothing.

    ``rows`` is a checked :class:`~nwdaf.lib.storage.frames.TableFrame` (columns with ids set, the sink's form,
    written as it is in one columnar insert; also a read-only sequence of its rows) or row dicts (checked, ids from
    ``batch_id`` unless a row carries ``record_id``). Returns the rows handed to the store."""

    async def write(self, table: str, rows: Sequence[Mapping[str, Any]], batch_id: str) -> int: ...


@runtime_checkable
class StorageReader(Protocol):
    """Read side: rows of one table matching a :class:`RecordQuery`, as dicts, newest first."""

    async def query(self, table: str, query: RecordQuery) -> list[dict[str, Any]]: ...


@runtime_checkable
class StorageBackend(StorageWriter, StorageReader, Protocol):
    """A backend chosen by URL: ``start`` connects and reconciles the schema, ``maintain`` enforces retention
    where the engine cannot (ClickHouse < 19.6 has no TTL), ``close`` releases the connection."""

    url: str

    def supports(self, table: str) -> bool: ...

    async def start(self) -> None: ...

    async def maintain(self) -> None: ...

    async def close(self) -> None: ...


def retention_days(parts: SplitResult, default: int = DEFAULT_RETENTION_DAYS) -> int:
    """The ``retention_days`` URL query parameter (whole days, >= 1), or ``default``."""
    values = parse_qs(parts.query).get("retention_days")
    if not values:
        return default
    try:
        days = int(values[-1])
    except ValueError:
        raise StorageConfigError(f"retention_days={values[-1]!r} in {parts.geturl()!r} is not a whole number") from None
    if days < 1:
        raise StorageConfigError(f"retention_days must be >= 1, got {days} in {parts.geturl()!r}")
    return days


def query_param(parts: SplitResult, name: str) -> str | None:
    values = parse_qs(parts.query).get(name)
    return values[-1] if values else None


def check_database_name(name: str, url: str) -> str:
    """Database names go into DDL unquoted-safe: letters, digits and ``_`` only."""
    if not name or not name.replace("_", "").isalnum() or not name.isascii():
        raise StorageConfigError(f"database name {name!r} in {url!r} must be letters, digits and '_' only")
    return name


def utc_from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def redacted(url: str) -> str:
    """The URL without its password and ``token`` (safe for logs and error messages)."""
    parts = urlsplit(url)
    if parts.password is None and "token" not in parse_qs(parts.query):
        return url
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    pairs = [(k, "***" if k == "token" else v) for k, vs in parse_qs(parts.query).items() for v in vs]
    return parts._replace(netloc=netloc, query=urlencode(pairs, safe="*")).geturl()
