"""Shared text handling of the importers: line reading, field splitting, typed parsing with per-row errors.

Every file is read as numbered text lines first, so a malformed row is reported with its real line number. Field
splitting and type conversion are vectorised polars expressions; only lines containing a quote character go
through the ``csv`` module (quoted CSV fields may hold the separator).
"""

from __future__ import annotations

import csv
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, NamedTuple

import polars as pl

from nwdaf.lib.flows.schema import FLOW_SCHEMA, FLOW_SCHEMA_NO_LABELS
from nwdaf.lib.flows.skips import MAX_LINES, reason_kind
from nwdaf.lib.flows.skips import BadRowError as BadRowError
from nwdaf.lib.flows.skips import FlowFormatError as FlowFormatError

OnError = Literal["raise", "count"]
MAX_REPORTED_ERRORS: Final = 20
LINE: Final = "_line"
RAW: Final = "_raw"
FIELDS: Final = "_fields"
REASON: Final = "_reason"
TRUNCATED: Final = "last line of a damaged gzip stream (cut short or corrupt)"
_GZIP_CHUNK: Final = 1 << 16


@dataclass(frozen=True, slots=True)
class RowError:
    """One skipped row: its 1-based line number in the (decompressed) file and why it was rejected."""

    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class SkipCount:
    """Rows of one file skipped for one kind of fault (:func:`~nwdaf.lib.flows.skips.reason_kind`): how many, and
    the first line numbers."""

    reason: str
    count: int
    lines: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ImportStats:
    """What one file import read and skipped (``on_error="count"``); ``errors`` holds the first few rows,
    ``reasons`` every kind of fault with its count."""

    path: str
    rows_read: int
    rows_skipped: int
    errors: tuple[RowError, ...]
    reasons: tuple[SkipCount, ...] = ()

    @property
    def rows_ok(self) -> int:
        """Rows that made it into the returned frame."""
        return self.rows_read - self.rows_skipped


class FlowImport(NamedTuple):
    """Flows read from one spec plus one :class:`ImportStats` per file."""

    flows: pl.DataFrame
    stats: tuple[ImportStats, ...]

    @property
    def rows_skipped(self) -> int:
        """Malformed rows skipped over all files."""
        return sum(s.rows_skipped for s in self.stats)


@dataclass(frozen=True, slots=True)
class Field:
    """How one output column is parsed.

    ``raw`` is the source text (already null for the format's "no value" markers): a row whose ``raw`` is set
    but whose ``value`` comes out null is malformed; so is a row whose ``raw`` is null for a ``required`` field.
    """

    name: str
    value: pl.Expr
    raw: pl.Expr | None = None
    expect: str = "a value"
    required: bool = False

    def reason(self) -> pl.Expr | None:
        """Error text for a bad row, null for a good one."""
        if self.raw is None:
            return None
        bad = pl.format(f"column {self.name}: expected {self.expect}, got '{{}}'", self.raw)
        if self.required:
            missing = pl.lit(f"column {self.name}: missing value")
            return pl.when(self.raw.is_null()).then(missing).when(self.value.is_null()).then(bad)
        return pl.when(self.raw.is_not_null() & self.value.is_null()).then(bad)


def read_lines(path: Path) -> pl.DataFrame:
    """Non-blank lines of a (possibly gzip-compressed) text file with their 1-based line numbers.

    Text is UTF-8; a line that is not is read as Windows-1252 (the original CIC-IDS2017 CSVs write an en dash that
    way), so no row is lost to its encoding. A damaged gzip stream yields what it holds up to the damage (its last,
    likely cut line is then a counted bad row); a gzip stream corrupt from its start is a :class:`FlowFormatError`.
    """
    data = path.read_bytes()
    truncated = False
    if data[:2] == b"\x1f\x8b":
        data, truncated = _gunzip(path, data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = "\n".join(_decode_line(raw) for raw in data.split(b"\n"))
    lines = pl.Series(RAW, text.split("\n"), dtype=pl.String).str.strip_suffix("\r")
    frame = pl.DataFrame({LINE: pl.int_range(1, len(lines) + 1, eager=True, dtype=pl.Int64), RAW: lines})
    frame = frame.filter(pl.col(RAW).str.strip_chars() != "")
    cut = pl.lit(TRUNCATED) if truncated else pl.lit(None, pl.String)
    return frame.with_columns(pl.when(pl.int_range(pl.len()) == pl.len() - 1).then(cut).alias(REASON))


def _decode_line(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _gunzip(path: Path, data: bytes) -> tuple[bytes, bool]:
    """Every member of a gzip stream, and whether it was damaged (cut short or corrupt: then what came before the
    damage). A stream that yields nothing at all is a :class:`FlowFormatError`."""
    out: list[bytes] = []
    while data[:2] == b"\x1f\x8b":
        unzip = zlib.decompressobj(wbits=31)
        try:
            out.append(unzip.decompress(data))
        except zlib.error as exc:
            out.append(_salvage(data))
            if not any(out):
                raise FlowFormatError(path, None, f"corrupt gzip data: {exc}") from exc
            return b"".join(out), True
        if not unzip.eof:
            return b"".join(out), True
        data = unzip.unused_data
    return b"".join(out), False


def _salvage(member: bytes) -> bytes:
    """What a corrupt gzip member decompresses to before the fault (read in chunks, so that it is kept)."""
    unzip, out = zlib.decompressobj(wbits=31), []
    try:
        for start in range(0, len(member), _GZIP_CHUNK):
            out.append(unzip.decompress(member[start : start + _GZIP_CHUNK]))
    except zlib.error:
        pass
    return b"".join(out)


def split_fields(lines: pl.DataFrame, sep: str, *, quoting: bool) -> pl.DataFrame:
    """Add a ``_fields`` list column; with ``quoting``, lines holding ``"`` are split by the csv module."""
    if not quoting:
        return lines.with_columns(pl.col(RAW).str.split(sep, literal=True).alias(FIELDS))
    has_quote = pl.col(RAW).str.contains('"', literal=True)
    plain = lines.filter(~has_quote).with_columns(pl.col(RAW).str.split(sep, literal=True).alias(FIELDS))
    quoted = lines.filter(has_quote)
    if quoted.height == 0:
        return plain
    parsed = [next(csv.reader([raw], delimiter=sep), []) for raw in quoted.get_column(RAW).to_list()]
    quoted = quoted.with_columns(pl.Series(FIELDS, parsed, dtype=pl.List(pl.String)))
    return pl.concat([plain, quoted]).sort(LINE)


def raw_columns(rows: pl.DataFrame, names: list[str], wanted: dict[str, str]) -> pl.DataFrame:
    """Pick fields by header name into string columns named by ``wanted`` (header -> column name).

    A row with another field count than the header gets a ``_reason``.
    """
    count = pl.col(FIELDS).list.len()
    reason: pl.Expr = pl.when(count != len(names)).then(pl.format(f"expected {len(names)} fields, found {{}}", count))
    if REASON in rows.columns:
        reason = pl.coalesce(pl.col(REASON), reason)
    picks = [
        pl.col(FIELDS).list.get(names.index(header), null_on_oob=True).alias(col) for header, col in wanted.items()
    ]
    return rows.select(pl.col(LINE), reason.alias(REASON), *picks)


def null_if(expr: pl.Expr, *markers: str) -> pl.Expr:
    """Text with surrounding blanks removed; empty text and the given markers become null."""
    text = expr.str.strip_chars()
    return pl.when(text.is_in(["", *markers])).then(None).otherwise(text)


def finish(
    rows: pl.DataFrame,
    fields: list[Field],
    *,
    path: Path,
    source: str,
    on_error: OnError,
    include_labels: bool,
) -> tuple[pl.DataFrame, ImportStats]:
    """Evaluate ``fields`` on the raw ``rows``, apply the ``on_error`` policy, return schema-shaped flows."""
    reasons = [r for r in (f.reason() for f in fields) if r is not None]
    parsed = rows.select(
        pl.col(LINE),
        pl.coalesce(pl.col(REASON), *reasons).alias(REASON),
        *[f.value.alias(f.name) for f in fields],
    )
    bad = parsed.filter(pl.col(REASON).is_not_null()).select(LINE, REASON)
    if bad.height and on_error == "raise":
        line, reason = bad.row(0)
        raise BadRowError(path, line, reason)
    good = parsed.filter(pl.col(REASON).is_null())
    schema = FLOW_SCHEMA if include_labels else FLOW_SCHEMA_NO_LABELS
    given = {f.name for f in fields}
    flows = good.select(
        *[
            (pl.col(name) if name in given else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in schema.items()
            if name != "source"
        ],
        pl.lit(source, dtype=pl.String).alias("source"),
    )
    errors = tuple(RowError(line, reason) for line, reason in bad.head(MAX_REPORTED_ERRORS).iter_rows())
    stats = ImportStats(path=str(path), rows_read=rows.height, rows_skipped=bad.height, errors=errors,
                        reasons=_skip_counts(bad))
    return flows, stats


def _skip_counts(bad: pl.DataFrame) -> tuple[SkipCount, ...]:
    """Bad rows grouped by kind of fault, most frequent first, with their first line numbers."""
    if bad.height == 0:
        return ()
    kinds = pl.Series("_kind", [reason_kind(r) for r in bad.get_column(REASON).to_list()], dtype=pl.String)
    grouped = (
        bad.with_columns(kinds)
        .group_by("_kind")
        .agg(pl.len().alias("n"), pl.col(LINE).sort().head(MAX_LINES).alias("lines"))
        .sort(["n", "_kind"], descending=[True, False])
    )
    return tuple(SkipCount(kind, n, tuple(lines)) for kind, n, lines in grouped.iter_rows())


def to_float(raw: pl.Expr) -> pl.Expr:
    """Decimal text to a finite Float64 (null when unparsable, and for ``inf``/``NaN``: no time or duration is)."""
    value = raw.cast(pl.Float64, strict=False)
    return pl.when(value.is_finite()).then(value)


def to_int(raw: pl.Expr) -> pl.Expr:
    """Decimal integer text to Int64 (null when unparsable)."""
    return raw.str.to_integer(base=10, strict=False)


PORTED_PROTOCOLS: Final = (6, 17, 132, 136)
"""TCP, UDP, SCTP and UDP-Lite: the IP protocols whose port fields must be ports."""


def to_port(raw: pl.Expr) -> pl.Expr:
    """Port text: decimal, or ``0x``-prefixed hex (Argus writes ICMP type/code that way); 0..65535."""
    lower = raw.str.to_lowercase()
    value = (
        pl.when(lower.str.starts_with("0x"))
        .then(lower.str.slice(2).str.to_integer(base=16, strict=False))
        .otherwise(lower.str.to_integer(base=10, strict=False))
    )
    return pl.when(value.is_between(0, 65535)).then(value).cast(pl.Int32)


def port_field(name: str, raw: pl.Expr, proto_num: pl.Expr) -> Field:
    """A port column. Only for :data:`PORTED_PROTOCOLS` is a value that is no port a bad row; for other protocols
    the field holds what the format puts there (ICMP type/code, an ESP SPI such as Argus' ``0x2020597d``, nothing
    for ARP) and is kept when it reads as a 0..65535 number, else left null."""
    must = proto_num.is_in(list(PORTED_PROTOCOLS)).fill_null(False)
    return Field(name, to_port(raw), pl.when(must).then(raw), "a port")


def nonneg(value: pl.Expr) -> pl.Expr:
    """Null for negative counters, so the row is reported as malformed."""
    return pl.when(value >= 0).then(value)


def csv_header(path: Path, lines: pl.DataFrame, sep: str) -> tuple[list[str], int]:
    """Column names from the first line (blanks around names removed) and that line's number."""
    if lines.height == 0:
        raise FlowFormatError(path, None, "empty file: no header line")
    line, raw = lines.select(LINE, RAW).row(0)
    names = [name.strip() for name in next(csv.reader([raw], delimiter=sep), [])]
    return names, line


def require_columns(path: Path, line: int | None, names: list[str], needed: Iterable[str]) -> None:
    """File-level check, raised whatever ``on_error`` says: a header without a needed column."""
    missing = [n for n in needed if n not in names]
    if missing:
        raise FlowFormatError(path, line, f"header lacks column(s) {missing}")


def to_epoch(raw: pl.Expr, formats: Sequence[str], time_zone: str) -> pl.Expr:
    """Timestamp text to Float64 epoch seconds: a plain number, or one of ``formats`` read in ``time_zone``."""
    parsed = [
        raw.str.to_datetime(fmt, strict=False, time_unit="us")
        .dt.replace_time_zone(time_zone, ambiguous="null", non_existent="null")
        .dt.epoch("us")
        / 1e6
        for fmt in formats
    ]
    return pl.coalesce(to_float(raw), *parsed)
