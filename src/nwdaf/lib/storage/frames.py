"""Rows of a stored table as one polars frame, checked per column (the columnar form of :func:`schema.encode_row`).

A :class:`TableFrame` holds a table's columns in table order, then ``record_id``, with the polars type of each
ClickHouse type (:data:`POLARS_TYPES`). It is only made by a check, so a writer handed one inserts it as it is:

* :meth:`TableFrame.check` — a frame of (some of) the table's columns, checked with :func:`schema.encode_row`'s
  rules, one vectorised pass per rule: required columns have no nulls (a float NaN counts as null), numbers are not
  booleans or strings, integer columns hold whole numbers in their type's range (``UInt`` not negative), floats are
  finite, times are epoch seconds 1970-2106, absent ``String`` columns and nulls become ``""``. Record ids come from
  the batch id exactly as :func:`schema.record_id` gives them, unless the frame carries ``record_id``.
* :meth:`TableFrame.of_rows` — row dicts through :func:`schema.encode_rows` (the row path, for callers that have
  dicts).

A failed check raises :class:`schema.RowError` naming the table, the column, the first bad value and its row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final, overload

import numpy as np
import polars as pl

from nwdaf.lib.storage.schema import MAX_TS, Column, RowError, Table, encode_rows

POLARS_TYPES: Final[dict[str, pl.DataType]] = {
    "String": pl.String(), "Float64": pl.Float64(), "UInt32": pl.UInt32(), "UInt64": pl.UInt64(),
    "Int16": pl.Int16(), "Int32": pl.Int32(), "Int64": pl.Int64(),
    "Array(String)": pl.List(pl.String()), "Array(Nullable(Float64))": pl.List(pl.Float64()),
}
"""ClickHouse type (without ``Nullable``) -> the polars type a :class:`TableFrame` holds it in."""

_INT_RANGE: Final = {"UInt32": (0, 2**32 - 1), "UInt64": (0, 2**64 - 1), "Int16": (-(2**15), 2**15 - 1),
                     "Int32": (-(2**31), 2**31 - 1), "Int64": (-(2**63), 2**63 - 1)}


def base_type(col: Column) -> str:
    return col.type.removeprefix("Nullable(").removesuffix(")") if col.nullable else col.type


def polars_type(col: Column) -> pl.DataType:
    return POLARS_TYPES[base_type(col)]


def frame_schema(tbl: Table) -> dict[str, pl.DataType]:
    """The columns of a :class:`TableFrame` of ``tbl`` and their polars types (``record_id`` last)."""
    return {**{c.name: polars_type(c) for c in tbl.columns}, "record_id": pl.UInt64()}


def record_ids(batch_id: str, table_name: str, count: int) -> pl.Series:
    """``[record_id(batch_id, table_name, i) for i in range(count)]`` as a UInt64 series (one hash per row)."""
    prefix = hashlib.blake2b(f"{batch_id}\x00{table_name}\x00".encode(), digest_size=8)
    digests = []
    for i in range(count):
        h = prefix.copy()
        h.update(str(i).encode())
        digests.append(h.digest())
    return pl.Series("record_id", np.frombuffer(b"".join(digests), dtype=">u8").astype(np.uint64), pl.UInt64())


class TableFrame(Sequence[Mapping[str, Any]]):
    """Checked rows of ``table`` as a frame in :func:`frame_schema` form (build it with :meth:`check`,
    :meth:`of_rows` or :meth:`concat`). Writers insert ``frame``; to any other caller it is a read-only sequence of
    its rows (encoded values: ``""`` for an absent string, ``record_id`` set)."""

    __slots__ = ("frame", "table")

    def __init__(self, tbl: Table, frame: pl.DataFrame) -> None:
        if frame.columns != [*tbl.column_names, "record_id"]:
            raise ValueError(f"a TableFrame of {tbl.name} needs its columns in table order, then record_id")
        self.table = tbl
        self.frame = frame

    def __len__(self) -> int:
        return self.frame.height

    @overload
    def __getitem__(self, index: int) -> Mapping[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Mapping[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> Mapping[str, Any] | Sequence[Mapping[str, Any]]:
        if isinstance(index, slice):
            return list(self.frame[index].iter_rows(named=True))
        return self.frame.row(index, named=True)

    def __iter__(self) -> Iterator[Mapping[str, Any]]:
        return iter(self.frame.iter_rows(named=True))

    @classmethod
    def check(cls, tbl: Table, frame: pl.DataFrame, batch_id: str) -> TableFrame:
        """``frame`` checked and encoded for ``tbl``; ids from ``batch_id`` unless it has ``record_id``."""
        unknown = set(frame.columns) - {*tbl.column_names, "record_id"}
        if unknown:
            raise RowError(f"table {tbl.name}: unknown column(s) {sorted(unknown)}")
        exprs = [_column_expr(tbl, col, frame) for col in tbl.columns]
        _raise_first_violation(tbl, frame, [rule for _, rules in exprs for rule in rules])
        out = frame.select([expr for expr, _ in exprs])
        return cls(tbl, out.with_columns(_ids(tbl, frame, batch_id)))

    @classmethod
    def of_rows(cls, tbl: Table, rows: Sequence[Mapping[str, Any]], batch_id: str) -> TableFrame:
        """Row dicts checked by :func:`schema.encode_rows` (ids from ``batch_id`` unless a row has one)."""
        encoded = encode_rows(tbl, rows, batch_id)
        return cls(tbl, pl.DataFrame(list(encoded), schema=frame_schema(tbl), orient="row"))

    @classmethod
    def concat(cls, parts: Sequence[TableFrame]) -> TableFrame:
        """Checked frames of one table as one (row order kept)."""
        tables = {id(p.table) for p in parts}
        if len(tables) != 1:
            raise ValueError("TableFrame.concat needs frames of one table")
        return cls(parts[0].table, pl.concat([p.frame for p in parts], how="vertical", rechunk=False))


def _ids(tbl: Table, frame: pl.DataFrame, batch_id: str) -> pl.Series:
    if "record_id" not in frame.columns:
        return record_ids(batch_id, tbl.name, frame.height)
    given = frame["record_id"]
    bad = not given.dtype.is_integer() or given.null_count() or (given.len() and given.min() < 0)  # type: ignore[operator]
    if bad:
        raise RowError(f"table {tbl.name}: record_id must be a UInt64 (see assign_record_ids), got {given.dtype}")
    return given.cast(pl.UInt64)


Rule = tuple[str, pl.Expr, str]
"""(column, expression true on a bad row, what is wrong)."""


def _column_expr(tbl: Table, col: Column, frame: pl.DataFrame) -> tuple[pl.Expr, list[Rule]]:
    """The encoded column and the rules it must meet."""
    kind, target = base_type(col), polars_type(col)
    if col.name not in frame.columns:
        if kind == "String":
            return pl.lit("", pl.String()).alias(col.name), []
        if kind.startswith("Array"):
            return pl.lit([], target).alias(col.name), []
        src: pl.Expr = pl.lit(None, target)
        return src.alias(col.name), [] if col.nullable else [(col.name, pl.lit(True), "is required")]
    dtype = frame.schema[col.name]
    src = pl.col(col.name)
    if kind == "String":
        if dtype in (pl.String, pl.Null) or dtype.is_integer():
            return src.cast(pl.String).fill_null("").alias(col.name), []
        raise RowError(f"table {tbl.name}: {col.name} must be a string, got a column of {dtype}")
    if kind.startswith("Array"):
        return src.cast(target).fill_null([]).alias(col.name), []
    if dtype != pl.Null and not dtype.is_numeric():
        raise RowError(f"table {tbl.name}: {col.name} must be a number, got a column of {dtype}")
    if dtype.is_float():
        src = src.fill_nan(None)
    rules: list[Rule] = [] if col.nullable else [(col.name, src.is_null(), "is required")]
    rules.extend(_value_rules(col, kind, src, dtype))
    return src.cast(target, strict=False).alias(col.name), rules


def _value_rules(col: Column, kind: str, src: pl.Expr, dtype: pl.DataType) -> list[Rule]:
    if dtype == pl.Null:
        return []
    if kind in _INT_RANGE:
        low, high = _INT_RANGE[kind]
        rules: list[Rule] = []
        if dtype.is_float():
            rules.append((col.name, src.is_infinite() | (src != src.floor()), "must be a whole number"))
        if kind.startswith("UInt"):
            rules.append((col.name, src < 0, "cannot be negative"))
        if not _fits(dtype, low, high):
            rules.append((col.name, (src < float(low)) | (src > float(high)), f"does not fit {kind}"))
        return rules
    rules = [(col.name, src.is_infinite(), "must be finite")] if dtype.is_float() else []
    if col.role == "time":
        rules.append((col.name, (src < 0) | (src > MAX_TS), "is not epoch seconds between 1970 and 2106"))
    return rules


def _fits(dtype: pl.DataType, low: int, high: int) -> bool:
    """Whether every value of an integer ``dtype`` lies in ``low..high`` (negatives are a rule of their own)."""
    if not dtype.is_integer():
        return False
    info = np.iinfo(str(dtype).lower())
    return max(int(info.min), 0) >= max(low, 0) and int(info.max) <= high


def _raise_first_violation(tbl: Table, frame: pl.DataFrame, rules: list[Rule]) -> None:
    """One pass over every rule; on a violation, a :class:`RowError` naming the first bad row of the first rule."""
    if not rules:
        return
    flags = frame.select([bad.fill_null(False).any().alias(str(i)) for i, (_, bad, _) in enumerate(rules)]).row(0)
    for flagged, (name, bad, what) in zip(flags, rules, strict=True):
        if flagged:
            hit = frame.with_row_index("_row").filter(bad.fill_null(False)).head(1)
            value = hit[name][0] if name in frame.columns and hit.height else None
            row = hit["_row"][0] if hit.height else 0
            raise RowError(f"table {tbl.name}: {name} {what}, got {value!r} (row {row})")
