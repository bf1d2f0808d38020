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
import polars as pl

from nwdaf.lib.storage.backends.base import (
    RecordQuery,
    StorageConfigError,
    StorageError,
    check_database_name,
    query_param,
    redacted,
    retention_days,
)
from nwdaf.lib.storage.frames import TableFrame
from nwdaf.lib.storage.schema import SCHEMA_VERSION, TABLES, Column, RowError, Table, table

log = logging.getLogger("nwdaf.storage")

DEFAULT_PORT: Final = 8086
SCHEMA_MEASUREMENT: Final = "nwdaf_schema"
_BEYOND_RETENTION = re.compile(r"points beyond retention policy dropped=(\d+)")


MAX_LINES_PER_POST: Final = 10_000
"""Points per ``/write`` request (InfluxDB's guidance is 5,000–10,000 for the best throughput)."""


def _escape_key(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def _escaped_key(expr: pl.Expr) -> pl.Expr:
    """Tag keys/values and measurement names: backslash, comma, equals sign and space escaped."""
    for char in ("\\", ",", "=", " "):
        expr = expr.str.replace_all(char, "\\" + char, literal=True)
    return expr


def _field(col: Column, dtype: pl.DataType) -> pl.Expr:
    """``name=value`` of one field, null where the row has no value (not written)."""
    value = pl.col(col.name)
    if dtype == pl.String:
        text = pl.lit('"') + value.str.replace_all("\\", "\\\\", literal=True).str.replace_all(
            '"', '\\"', literal=True) + pl.lit('"')
        return pl.when(value != "").then(pl.lit(f"{col.name}=") + text)
    text = value.cast(pl.String) + pl.lit("i") if dtype.is_integer() else value.cast(pl.String)
    return pl.lit(f"{col.name}=") + text


def lines(tbl: Table, frame: pl.DataFrame) -> pl.Series:
    """Every row of a :class:`TableFrame` frame as a line-protocol point (null for a row without a field value).

    Timestamps are microsecond-exact (``round(ts * 1e6) * 1000`` ns, half to even as Python rounds): the same
    float always maps to the same point identity."""
    for col in tbl.columns:
        if frame.schema[col.name] == pl.String:
            broken = frame.filter(pl.col(col.name).str.contains(r"[\r\n]"))
            if broken.height:
                raise RowError(f"table {tbl.name}: {col.name} {broken[col.name][0]!r} holds a line break "
                               "(line protocol)")
    tags = [pl.when(pl.col(c.name) != "").then(pl.lit(f",{c.name}=") + _escaped_key(pl.col(c.name)))
            .otherwise(pl.lit("")) for c in tbl.tags]
    fields = pl.concat_str([_field(c, frame.schema[c.name]) for c in tbl.fields], separator=",", ignore_nulls=True)
    ts_ns = ((pl.col(tbl.time_column) * 1e6).round(0, mode="half_to_even").cast(pl.Int64) * 1000).cast(pl.String)
    head = pl.concat_str([pl.lit(_escape_key(tbl.name)), *tags])
    point = pl.when(fields != "").then(pl.concat_str([head, pl.lit(" "), fields, pl.lit(" "), ts_ns]))
    return frame.select(point.alias("line")).get_column("line")


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

    async def _post_lines(self, points: Sequence[str]) -> None:
        await self._post_body("\n".join(points).encode())

    async def _post_body(self, body: bytes) -> None:
        params = {"db": self.database, "rp": self.rp, "precision": "ns"}
        try:
            resp = await self._http().post("/write", params=params, content=body)
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
        """Write ``rows`` as line protocol, :data:`MAX_LINES_PER_POST` points per request.

        Point identity is tags + time, so record ids are not stored; row dicts are checked first (a
        :class:`TableFrame` was checked when it was made).
        """
        tbl = self._table(table_name)
        frame = rows if isinstance(rows, TableFrame) else TableFrame.of_rows(tbl, rows, batch_id)
        points = lines(tbl, frame.frame)
        if missing := points.null_count():
            raise RowError(f"table {tbl.name}: {missing} row(s) of batch {batch_id} have no field value (InfluxDB "
                           "needs at least one)")
        for start in range(0, points.len(), MAX_LINES_PER_POST):
            await self._post_body(points.slice(start, MAX_LINES_PER_POST).str.join("\n").item().encode())
        return points.len()

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
