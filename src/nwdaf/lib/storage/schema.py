"""The stored tables, their columns and how a row (a plain dict) is checked and encoded for them.

One definition serves every backend: the ClickHouse family (server and embedded chdb) creates one table per
:class:`Table`; InfluxDB stores the time-series tables as measurements, with the ``tag`` columns as tags and the
``field`` columns as fields.

Conventions:

* Times are **Float64 seconds since the Unix epoch, UTC** (as in :mod:`nwdaf.lib.flows.schema`): ClickHouse 18.16,
  the Debian server, has no ``DateTime64``, and a float keeps sub-second order everywhere.
* ``tag`` columns are non-null ``String`` (``""`` = absent, returned as ``None``): they form sort keys, which may not
  be ``Nullable``, and InfluxDB has no empty tags.
* Every row carries ``record_id`` (UInt64), derived from the batch it came in (:func:`record_id`), so a redelivered
  batch rewrites the same identities and ``ReplacingMergeTree ... FINAL`` returns each record once.
* Feature vectors are two parallel arrays (names, values): ClickHouse 18.16 has no ``Map`` type, and feature sets
  change without a migration that way (:class:`MapColumn`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, overload

SCHEMA_VERSION: Final = 2
"""2: every ClickHouse-family table has ``ingested_at`` (retention counts from it).
Bumped when a table gains columns; backends record it in ``schema_version`` when they reconcile. A new table
(``slice_features``) needs no bump: every start creates the tables that are missing."""

SNSSAI_KEY_PATTERN: Final = r"^([0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5])(-[A-Fa-f0-9]{6})?$"
"""TS 29.571 string form of an S-NSSAI: ``sst`` or ``sst-sd`` (stored with the SD lower-cased)."""

MAX_TS: Final = float(2**32 - 1)
"""Times must fit ``toDateTime(toUInt32(ts))``, the partition/TTL expression (year 2106)."""

Role = Literal["time", "tag", "field"]


@dataclass(frozen=True, slots=True)
class Column:
    """One stored column: its name, ClickHouse type and role."""

    name: str
    type: str
    role: Role = "field"

    @property
    def nullable(self) -> bool:
        return self.type.startswith("Nullable(")


@dataclass(frozen=True, slots=True)
class MapColumn:
    """A logical ``dict[str, float | None]`` stored as two arrays (ClickHouse's Nested idiom)."""

    name: str
    keys: str
    values: str


@dataclass(frozen=True, slots=True)
class Table:
    """A stored table: columns, its time column and sort key (the ClickHouse ``ORDER BY`` before ``record_id``)."""

    name: str
    columns: tuple[Column, ...]
    time_column: str
    order_by: tuple[str, ...]
    timeseries: bool = False
    """True when an InfluxDB backend can hold it (tags + fields, identity = tags and time)."""
    map_column: MapColumn | None = None
    by_name: dict[str, Column] = field(init=False, repr=False, compare=False)
    _column_names: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {c.name: c for c in self.columns})
        object.__setattr__(self, "_column_names", tuple(c.name for c in self.columns))

    @property
    def tags(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.role == "tag")

    @property
    def fields(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.role == "field")

    @property
    def column_names(self) -> tuple[str, ...]:
        return self._column_names


def _tags(*names: str) -> tuple[Column, ...]:
    return tuple(Column(n, "String", "tag") for n in names)


def _nullable(kind: str, *names: str) -> tuple[Column, ...]:
    return tuple(Column(n, f"Nullable({kind})") for n in names)


_USAGE_MEASURES = (
    Column("start_ts", "Nullable(Float64)"),
    *_nullable("UInt64", "ul_bytes", "dl_bytes", "total_bytes", "ul_packets", "dl_packets", "total_packets"),
    *_nullable("Float64", "ul_throughput_bps", "dl_throughput_bps", "ul_packet_rate", "dl_packet_rate"),
)

UPF_USAGE = Table(
    "upf_usage",
    (Column("ts", "Float64", "time"), *_tags("supi", "ue_ip", "snssai", "dnn", "app_id", "flow", "granularity"),
     *_USAGE_MEASURES, Column("reports", "UInt32")),
    time_column="ts", order_by=("supi", "ue_ip", "ts"), timeseries=True,
)
"""Time series of UPF usage (TS 29.564 USER_DATA_USAGE_MEASURES): one point per reported measurement."""

UPF_USAGE_REPORTS = Table(
    "upf_usage_reports",
    (Column("ts", "Float64", "time"),
     *_tags("supi", "gpsi", "ue_ip", "snssai", "dnn", "event_type", "granularity", "app_id", "correlation_id"),
     Column("flow_description", "String"), Column("flow_direction", "String"), Column("proto", "Nullable(Int16)"),
     Column("src_ip", "String"), Column("src_port", "Nullable(Int32)"),
     Column("dst_ip", "String"), Column("dst_port", "Nullable(Int32)"), *_USAGE_MEASURES),
    time_column="ts", order_by=("supi", "ue_ip", "ts"),
)
"""Normalised UPF usage records (warehouse): one row per ``userDataUsageMeasurements`` entry."""

FLOW_RECORDS = Table(
    "flow_records",
    (Column("start_ts", "Float64", "time"), *_tags("supi", "ue_ip", "snssai", "dnn"),
     Column("duration_s", "Nullable(Float64)"), Column("proto", "String"), Column("proto_num", "Nullable(Int16)"),
     Column("src_ip", "String"), Column("src_port", "Nullable(Int32)"),
     Column("dst_ip", "String"), Column("dst_port", "Nullable(Int32)"),
     Column("state", "String"), Column("service", "String"),
     *_nullable("Int64", "pkts_fwd", "pkts_bwd", "pkts_total", "bytes_fwd", "bytes_bwd", "bytes_total"),
     Column("label", "String"), Column("label_detail", "String"), Column("source", "String"),
     Column("extra", "String")),
    time_column="start_ts", order_by=("supi", "ue_ip", "start_ts"),
)
"""Flow records in the :mod:`nwdaf.lib.flows.schema` columns, plus the UE they belong to; ``extra`` is a JSON object
of any further columns the producer sent."""

UE_FEATURES = Table(
    "ue_features",
    (Column("window_start", "Float64", "time"), Column("window_end", "Float64"), *_tags("supi", "host", "snssai"),
     Column("feature_names", "Array(String)"), Column("feature_values", "Array(Nullable(Float64))"),
     Column("details", "String")),
    time_column="window_start", order_by=("supi", "host", "window_start"),
    map_column=MapColumn("features", "feature_names", "feature_values"),
)
"""Per-UE (or per-host) feature vectors of one window; ``details`` is a JSON object of the non-numeric columns
(e.g. ``top_destinations``)."""

SLICE_FEATURES = Table(
    "slice_features",
    (Column("window_start", "Float64", "time"), Column("window_end", "Float64"), *_tags("scope", "snssai", "dnn"),
     Column("feature_names", "Array(String)"), Column("feature_values", "Array(Nullable(Float64))")),
    time_column="window_start", order_by=("snssai", "dnn", "scope", "window_start"),
    map_column=MapColumn("features", "feature_names", "feature_values"),
)
"""Per-slice (``scope`` ``snssai``), per-DNN (``dnn``) and per slice + DNN (``snssai_dnn``) feature vectors of one
window; the key a scope does not group by is empty."""

ANALYTICS_RESULTS = Table(
    "analytics_results",
    (Column("ts", "Float64", "time"),
     *_tags("event", "supi", "ue_ip", "snssai", "dnn", "exception_id", "model_version"),
     Column("window_start", "Float64"), Column("window_end", "Float64"), Column("excep_level", "Nullable(Int32)"),
     *_nullable("Float64", "ratio", "confidence", "score"), Column("details", "String")),
    time_column="ts", order_by=("supi", "ts"),
)
"""Inference results of the analytics engines (``ts`` = when generated)."""

TABLES: Final[dict[str, Table]] = {t.name: t for t in (UPF_USAGE, UPF_USAGE_REPORTS, FLOW_RECORDS, UE_FEATURES,
                                                       SLICE_FEATURES, ANALYTICS_RESULTS)}


class RowError(ValueError):
    """A row that does not fit its table; the message names the table, the column and the value."""


def table(name: str) -> Table:
    try:
        return TABLES[name]
    except KeyError:
        raise RowError(f"unknown table {name!r}; known: {sorted(TABLES)}") from None


def record_id(batch_id: str, table_name: str, index: int) -> int:
    """Deterministic 64-bit identity of the ``index``-th row of ``table_name`` in batch ``batch_id``."""
    digest = hashlib.blake2b(f"{batch_id}\x00{table_name}\x00{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def assign_record_ids(rows: Sequence[Mapping[str, Any]], batch_id: str, table_name: str) -> list[dict[str, Any]]:
    """Copies of ``rows`` with ``record_id`` set from the batch, unless a row already has one."""
    return [{"record_id": record_id(batch_id, table_name, i), **row} for i, row in enumerate(rows)]


def _number(col: Column, value: Any, where: str) -> int | float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        if col.nullable:
            return None
        raise RowError(f"{where}: {col.name} is required")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RowError(f"{where}: {col.name} must be a number, got {value!r}")
    if "Int" in col.type:
        if isinstance(value, float) and not value.is_integer():
            raise RowError(f"{where}: {col.name} must be a whole number, got {value!r}")
        if "UInt" in col.type and value < 0:
            raise RowError(f"{where}: {col.name} cannot be negative, got {value!r}")
        return int(value)
    if not math.isfinite(value):
        raise RowError(f"{where}: {col.name} must be finite, got {value!r}")
    return float(value)


def _value(col: Column, value: Any, where: str) -> Any:
    if col.type == "String":
        return "" if value is None else str(value)
    if col.type == "Array(String)":
        return [str(v) for v in value or ()]
    if col.type == "Array(Nullable(Float64))":
        return [_number(Column(col.name, "Nullable(Float64)"), v, where) for v in value or ()]
    number = _number(col, value, where)
    if col.role == "time" and number is not None and not 0 <= number <= MAX_TS:
        raise RowError(f"{where}: {col.name}={value!r} is not epoch seconds between 1970 and 2106")
    return number


Converter = Callable[[Any], Any]


def _string(value: Any) -> str:
    return value if type(value) is str else "" if value is None else str(value)


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value or ()]


def _converter(col: Column, where: str) -> Converter:
    """``_value`` for one column: the common well-typed values pass straight through, the rest take the full check."""
    if col.type == "String":
        return _string
    if col.type == "Array(String)":
        return _strings
    if col.type == "Array(Nullable(Float64))":
        item = _converter(Column(col.name, "Nullable(Float64)"), where)
        return lambda value: [item(v) for v in value or ()]
    if col.role == "time":
        if col.type != "Float64":
            return lambda value: _value(col, value, where)
        return lambda value: (value if type(value) is float and 0.0 <= value <= MAX_TS
                              else _value(col, value, where))
    if "Int" in col.type:
        if "UInt" in col.type:
            return lambda value: value if type(value) is int and value >= 0 else _number(col, value, where)
        return lambda value: value if type(value) is int else _number(col, value, where)
    return lambda value: value if type(value) is float and math.isfinite(value) else _number(col, value, where)


@dataclass(frozen=True, slots=True)
class _Codec:
    """What :func:`encode_row` needs of a table, built once per :class:`Table`."""

    table: Table
    where: str
    known: frozenset[str]
    plan: tuple[tuple[str, Converter], ...]


_CODECS: dict[int, _Codec] = {}


def _codec(tbl: Table) -> _Codec:
    codec = _CODECS.get(id(tbl))
    if codec is None or codec.table is not tbl:
        where = f"table {tbl.name}"
        codec = _Codec(tbl, where, frozenset((*tbl.column_names, "record_id")),
                       tuple((c.name, _converter(c, where)) for c in tbl.columns))
        _CODECS[id(tbl)] = codec
    return codec


def _with_map(tbl: Table, map_column: MapColumn, row: Mapping[str, Any]) -> Mapping[str, Any]:
    if map_column.name not in row:
        return row
    values = dict(row)
    mapping = values.pop(map_column.name) or {}
    if not isinstance(mapping, Mapping):
        raise RowError(f"table {tbl.name}: {map_column.name} must be a mapping of name to number")
    values[map_column.keys] = list(mapping)
    values[map_column.values] = list(mapping.values())
    return values


def encode_row(tbl: Table, row: Mapping[str, Any]) -> tuple[Any, ...]:
    """``row`` as a tuple in column order, then ``record_id``; raises :class:`RowError` naming the bad column."""
    codec = _codec(tbl)
    values = row if tbl.map_column is None else _with_map(tbl, tbl.map_column, row)
    if not codec.known.issuperset(values):
        raise RowError(f"{codec.where}: unknown column(s) {sorted(set(values) - codec.known)}")
    rid = values.get("record_id")
    if isinstance(rid, bool) or not isinstance(rid, int) or not 0 <= rid < 2**64:
        raise RowError(f"{codec.where}: record_id must be a UInt64 (see assign_record_ids), got {rid!r}")
    get = values.get
    return (*[convert(get(name)) for name, convert in codec.plan], rid)


class EncodedRows(Sequence[Mapping[str, Any]]):
    """Rows of one table together with their :func:`encode_row` tuples (``record_id`` last, so every row has one).

    A writer that is handed these reuses the tuples instead of encoding the rows again; to any other caller they
    are an ordinary read-only sequence of the rows. Build them only from tuples ``encode_row(tbl, row)`` returned.
    """

    __slots__ = ("encoded", "rows", "table")

    def __init__(self, tbl: Table, rows: Sequence[Mapping[str, Any]], encoded: Sequence[tuple[Any, ...]]) -> None:
        if len(rows) != len(encoded):
            raise ValueError(f"{len(rows)} rows but {len(encoded)} encoded tuples for table {tbl.name}")
        self.table = tbl
        self.rows: tuple[Mapping[str, Any], ...] = tuple(rows)
        self.encoded: tuple[tuple[Any, ...], ...] = tuple(encoded)

    @overload
    def __getitem__(self, index: int) -> Mapping[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Mapping[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> Mapping[str, Any] | Sequence[Mapping[str, Any]]:
        return self.rows[index]

    def __len__(self) -> int:
        return len(self.rows)


def encoded_for(tbl: Table, rows: Sequence[Mapping[str, Any]]) -> Sequence[tuple[Any, ...]] | None:
    """The tuples ``rows`` already carry for ``tbl`` (:class:`EncodedRows`), or None when they must be encoded."""
    return rows.encoded if isinstance(rows, EncodedRows) and rows.table is tbl else None


def encode_rows(tbl: Table, rows: Sequence[Mapping[str, Any]], batch_id: str) -> Sequence[tuple[Any, ...]]:
    """Every row encoded (ids from ``batch_id`` unless a row carries ``record_id``), reusing :class:`EncodedRows`."""
    encoded = encoded_for(tbl, rows)
    if encoded is not None:
        return encoded
    return [encode_row(tbl, r) for r in assign_record_ids(rows, batch_id, tbl.name)]


def _decoded(col: Column, value: Any) -> Any:
    # JSON output formats print whole floats without a fraction and may quote 64-bit integers: restore the type.
    if value is None:
        return None
    if col.type == "String":
        return None if value == "" else value
    if col.type == "Array(Nullable(Float64))":
        return [None if v is None else float(v) for v in value]
    if "Float" in col.type and not col.type.startswith("Array"):
        return float(value)
    if "Int" in col.type:
        return int(value)
    return value


def decode_row(tbl: Table, values: Iterable[Any]) -> dict[str, Any]:
    """A stored row (in column order, without ``record_id``) as a dict: empty tags/strings become ``None``."""
    out: dict[str, Any] = {}
    for col, value in zip(tbl.columns, values, strict=True):
        out[col.name] = _decoded(col, value)
    if tbl.map_column is not None:
        keys, vals = out.pop(tbl.map_column.keys) or [], out.pop(tbl.map_column.values) or []
        out[tbl.map_column.name] = dict(zip(keys, vals, strict=True))
    return out
