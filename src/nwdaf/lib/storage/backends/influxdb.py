"""InfluxDB time series (``influxdb://host:port/db``): line protocol over HTTP with httpx, InfluxQL reads.

Writes use ``POST /write?db=…&rp=…&precision=ns``, which InfluxDB 1.x, 2.x (DBRP mapping) and 3.x all accept; the
schema step (database, retention policy) and the read side use the 1.x ``/query`` InfluxQL API (Debian ships 1.6).

Idempotency comes from InfluxDB itself: a point is identified by measurement, tag set and timestamp, and writing
the same identity again overwrites it. Rows carry their report's own timestamp and identifying tags (UE, slice,
DNN, application, flow), so a redelivered batch rewrites the same points.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
import orjson

from nwdaf.lib.storage.backends.base import (
    RecordQuery,
    StorageConfigError,
    StorageError,
    check_database_name,
    query_param,
    redacted,
    retention_days,
)
from nwdaf.lib.storage.schema import SCHEMA_VERSION, TABLES, Column, RowError, Table, encode_row, encoded_for, table

log = logging.getLogger("nwdaf.storage")

DEFAULT_PORT: Final = 8086
SCHEMA_MEASUREMENT: Final = "nwdaf_schema"
_BEYOND_RETENTION = re.compile(r"points beyond retention policy dropped=(\d+)")


def _escape_key(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def _field(col: Column, value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if "Int" in col.type:
        return f"{int(value)}i"
    return repr(float(value))


def line(tbl: Table, row: tuple[Any, ...]) -> str | None:
    """One encoded row (see :func:`encode_row`) as a line-protocol point; None when it has no field value."""
    values = dict(zip((*tbl.column_names, "record_id"), row, strict=True))
    for col in tbl.columns:
        if isinstance(values[col.name], str) and ("\n" in values[col.name] or "\r" in values[col.name]):
            raise RowError(f"table {tbl.name}: {col.name} {values[col.name]!r} holds a line break (line protocol)")
    tags = "".join(f",{c.name}={_escape_key(str(values[c.name]))}" for c in tbl.tags if values[c.name] != "")
    fields = ",".join(f"{c.name}={_field(c, values[c.name])}" for c in tbl.fields
                      if values[c.name] is not None and values[c.name] != "")
    if not fields:
        return None
    # Microsecond-exact timestamps: the same float always maps to the same point identity.
    ts_ns = round(float(values[tbl.time_column]) * 1_000_000) * 1000
    return f"{_escape_key(tbl.name)}{tags} {fields} {ts_ns}"


class InfluxDbBackend:
    """Time-series backend on InfluxDB; holds the tables marked ``timeseries`` (``upf_usage``)."""

    def __init__(self, url: str, base_url: str, database: str, retention_days: int, *, rp: str = "nwdaf",
                 token: str | None = None, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.url = url
        self.database = database
        self.retention_days = retention_days
        self.rp = rp
        self.dropped_beyond_retention = 0
        self._base_url = base_url
        self._headers = {"Authorization": f"Token {token}"} if token else {}
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    def supports(self, table_name: str) -> bool:
        return table_name in TABLES and TABLES[table_name].timeseries

    def _table(self, table_name: str) -> Table:
        tbl = table(table_name)
        if not tbl.timeseries:
            timeseries = sorted(n for n, t in TABLES.items() if t.timeseries)
            raise RowError(f"InfluxDB holds the time-series tables {timeseries}, not {table_name!r}: "
                           "use a clickhouse:// or chdb:// warehouse for it")
        return tbl

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            raise StorageError(f"{self.url}: not started (call start() first)")
        return self._client

    async def _influxql(self, q: str, *, params: Mapping[str, Any] | None = None, write: bool = False) -> list[Any]:
        data = {"q": q, "db": self.database, "epoch": "ns"}
        if params:
            data["params"] = orjson.dumps(dict(params)).decode()
        try:
            http = self._http()
            resp = await (http.post("/query", data=data) if write else http.get("/query", params=data))
        except httpx.HTTPError as exc:
            raise StorageError(f"{self.url}: {type(exc).__name__}: {exc}") from exc
        if resp.status_code != 200:
            raise StorageError(f"{self.url}: /query answered {resp.status_code}: {resp.text[:300]}")
        results: list[Any] = resp.json().get("results", [])
        errors = [r["error"] for r in results if "error" in r]
        if errors:
            raise StorageError(f"{self.url}: InfluxQL {q[:80]!r} failed: {errors[0]}")
        return results

    async def start(self) -> None:
        """Create the database and its retention policy (or align its duration), record the schema version."""
        if self._client is None:
            self._client = httpx.AsyncClient(base_url=self._base_url, headers=self._headers, timeout=30.0,
                                             transport=self._transport)
        await self._influxql(f'CREATE DATABASE "{self.database}"', write=True)
        shard = "1h" if self.retention_days <= 2 else "1d" if self.retention_days <= 180 else "7d"
        spec = f'ON "{self.database}" DURATION {self.retention_days}d REPLICATION 1 SHARD DURATION {shard} DEFAULT'
        results = await self._influxql(f'SHOW RETENTION POLICIES ON "{self.database}"')
        existing = {v[0] for s in results[0].get("series", []) for v in s.get("values", [])}
        verb = "ALTER" if self.rp in existing else "CREATE"
        await self._influxql(f'{verb} RETENTION POLICY "{self.rp}" {spec}', write=True)
        if await self.schema_version() < SCHEMA_VERSION:
            await self._post_lines([f"{SCHEMA_MEASUREMENT},component=storage version={SCHEMA_VERSION}i "
                                    f"{time.time_ns()}"])
        log.info("storage %s ready (database %s, retention policy %s = %d days)", self.url, self.database, self.rp,
                 self.retention_days)

    async def schema_version(self) -> int:
        results = await self._influxql(f'SELECT last(version) FROM "{self.rp}"."{SCHEMA_MEASUREMENT}"')
        series = results[0].get("series") or []
        return int(series[0]["values"][0][1]) if series else 0

    async def _post_lines(self, lines: Sequence[str]) -> None:
        params = {"db": self.database, "rp": self.rp, "precision": "ns"}
        try:
            resp = await self._http().post("/write", params=params, content="\n".join(lines).encode())
        except httpx.HTTPError as exc:
            raise StorageError(f"{self.url}: {type(exc).__name__}: {exc}") from exc
        if resp.status_code == 204:
            return
        beyond = _BEYOND_RETENTION.search(resp.text)
        if resp.status_code == 400 and beyond and "partial write" in resp.text and resp.text.count("dropped=") == 1:
            # Points older than the retention policy are refused by design; everything else was written.
            self.dropped_beyond_retention += int(beyond.group(1))
            log.warning("storage %s: %s point(s) older than the %d-day retention were not stored", self.url,
                        beyond.group(1), self.retention_days)
            return
        raise StorageError(f"{self.url}: /write answered {resp.status_code}: {resp.text[:300]}")

    async def write(self, table_name: str, rows: Sequence[Mapping[str, Any]], batch_id: str) -> int:
        tbl = self._table(table_name)
        # Point identity is tags + time, so record ids are not stored; encode_row still checks every value
        # (EncodedRows from the sink were checked already: their tuples are used as they are).
        encoded = encoded_for(tbl, rows)
        if encoded is None:
            encoded = [encode_row(tbl, {"record_id": 0, **row}) for row in rows]
        lines = [p for p in (line(tbl, r) for r in encoded) if p is not None]
        if len(lines) != len(encoded):
            raise RowError(f"table {tbl.name}: {len(encoded) - len(lines)} row(s) of batch {batch_id} have no "
                           "field value (InfluxDB needs at least one)")
        if lines:
            await self._post_lines(lines)
        return len(lines)

    async def query(self, table_name: str, query: RecordQuery) -> list[dict[str, Any]]:
        tbl = self._table(table_name)
        where, params = [], {}
        for name, value in (("supi", query.supi), ("snssai", query.snssai)):
            if value is not None:
                where.append(f'"{name}" = ${name}')
                params[name] = value
        start, end = query.bounds()
        if start is not None:
            where.append(f"time >= {round(start * 1e6) * 1000}")
        if end is not None:
            where.append(f"time < {round(end * 1e6) * 1000}")
        q = f'SELECT * FROM "{self.rp}"."{tbl.name}"'
        q += (" WHERE " + " AND ".join(where) if where else "") + f" ORDER BY time DESC LIMIT {int(query.limit)}"
        results = await self._influxql(q, params=params)
        return [row for series in results[0].get("series") or [] for row in _rows(tbl, series)]

    async def maintain(self) -> None:
        return None  # the retention policy expires shards by itself

    async def drop_database(self) -> None:
        await self._influxql(f'DROP DATABASE "{self.database}"', write=True)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _rows(tbl: Table, series: Mapping[str, Any]) -> list[dict[str, Any]]:
    columns: list[str] = series["columns"]
    out = []
    for values in series.get("values", []):
        point = dict(zip(columns, values, strict=True))
        row: dict[str, Any] = {c.name: point.get(c.name) for c in tbl.columns}
        row[tbl.time_column] = int(point["time"]) / 1e9
        out.append(row)
    return out


def open_influxdb(raw_url: str) -> InfluxDbBackend:
    """``influxdb://host[:port]/database?retention_days=N&rp=NAME&token=T`` (HTTP API, port 8086 by default)."""
    parts = urlsplit(raw_url)
    url = redacted(raw_url)
    try:
        host, port = parts.hostname, parts.port or DEFAULT_PORT
    except ValueError as exc:
        raise StorageConfigError(f"{url!r}: {exc}") from exc
    if not host:
        raise StorageConfigError(f"{url!r} names no host: use influxdb://host:port/database")
    database = check_database_name(parts.path.strip("/") or "nwdaf", url)
    rp = check_database_name(query_param(parts, "rp") or "nwdaf", url)
    netloc = f"[{host}]" if ":" in host else host
    return InfluxDbBackend(url, f"http://{netloc}:{port}", database, retention_days(parts), rp=rp,
                           token=query_param(parts, "token"))
