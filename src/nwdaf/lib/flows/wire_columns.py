"""Whole-column parsers of the wire strings in a UPF report: TS 29.571 ``TrafficVolume``/``BitRate``/``PacketRate``
and the TS 29.212 ``FlowDescription``.

Each parser takes a polars String series and gives the values the scalar parsers give
(:func:`nwdaf.platform.models.units.parse_traffic_volume`, :func:`~nwdaf.platform.models.units.parse_bit_rate`,
:func:`~nwdaf.platform.models.units.parse_packet_rate`, :func:`nwdaf.platform.models.flows.parse_flow_description`)
plus a per-row error (null when the row parsed). The common forms are parsed by one regex pass over the column
(``str.extract_groups``) and integer/float casts; a row outside that fast form (an IPv4-mapped IPv6 address, a port
range, a number with more than 18 digits, a non-string) goes through the scalar parser, so the result is the scalar
parser's for every row, and the per-row Python cost is paid only by the unusual rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, NamedTuple

import polars as pl

from nwdaf.lib.flows.schema import PROTO_NAMES
from nwdaf.platform.models.flows import FlowDescriptionError, parse_flow_description
from nwdaf.platform.models.units import (
    UnitFormatError,
    parse_bit_rate,
    parse_packet_rate,
    parse_traffic_volume,
)

_MAX_DIGITS: Final = 18
"""Numbers with more digits take the scalar path (Int64 and exact Decimal products stay safe below this)."""


class Parsed(NamedTuple):
    """Parsed values of a column (null where the input was null or bad) and the reason per bad row (else null)."""

    values: pl.Series
    errors: pl.Series


def _units(names: tuple[str, ...]) -> str:
    return "|".join(names)


_VOLUME: Final = rf"^([0-9]+)(?:\.([0-9]+))? ({_units(('B', 'kB', 'MB', 'GB', 'TB'))})$"
_BIT_RATE: Final = rf"^([0-9]+(?:\.[0-9]+)?) ({_units(('bps', 'Kbps', 'Mbps', 'Gbps', 'Tbps'))})$"
_PACKET_RATE: Final = rf"^([0-9]+(?:\.[0-9]+)?) ({_units(('pps', 'kpps', 'Mpps', 'Gpps', 'Tpps'))})$"
_EXPONENT: Final = {u: 3 * i for units in (("B", "kB", "MB", "GB", "TB"), ("bps", "Kbps", "Mbps", "Gbps", "Tbps"),
                                           ("pps", "kpps", "Mpps", "Gpps", "Tpps")) for i, u in enumerate(units)}


def _fallback(texts: pl.Series, values: pl.Series, fast_ok: pl.Series, parse: Callable[[Any], Any],
              errors_of: tuple[type[Exception], ...]) -> Parsed:
    """Rows with input but no fast value go through ``parse``; its error text becomes the row's error."""
    todo = (texts.is_not_null() & ~fast_ok.fill_null(False)).arg_true()
    errors = pl.Series(texts.name, [None] * len(texts), dtype=pl.String)
    if len(todo) == 0:
        return Parsed(values, errors)
    fixed: list[Any] = []
    reasons: list[str | None] = []
    for text in texts.gather(todo).to_list():
        try:
            value, reason = _in_range(parse(text), None)
        except errors_of as exc:
            value, reason = None, str(exc)
        fixed.append(value)
        reasons.append(reason)
    values = values.scatter(todo, pl.Series(fixed, dtype=values.dtype))
    return Parsed(values, errors.scatter(todo, pl.Series(reasons, dtype=pl.String)))


def _in_range(value: Any, reason: str | None) -> tuple[Any, str | None]:
    """A whole number that does not fit the Int64 columns is an error, not a wrapped value."""
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        return None, f"{value} does not fit in Int64"
    return value, reason


def traffic_volumes(texts: pl.Series) -> Parsed:
    """``"11.4 kB"`` → 11400 (Int64) for the whole column, as :func:`parse_traffic_volume` (half-to-even for a
    fractional byte)."""
    g = texts.str.extract_groups(_VOLUME).struct.unnest()
    whole, frac, unit = g[g.columns[0]], g[g.columns[1]].fill_null(""), g[g.columns[2]]
    frame = pl.DataFrame({"i": whole, "f": frac, "k": unit.replace_strict(_EXPONENT, default=None,
                                                                          return_dtype=pl.Int32)})
    padded = pl.col("f") + pl.lit("0" * 12)
    rest = pl.col("f").str.slice(pl.col("k"))
    out = frame.select(
        base=(pl.col("i") + padded.str.slice(0, pl.col("k"))).cast(pl.Int64, strict=False),
        first=rest.str.slice(0, 1), tail=rest.str.slice(1).str.contains("[1-9]"),
        short=(pl.col("i").str.len_bytes() + pl.col("f").str.len_bytes()) <= _MAX_DIGITS,
    )
    up = (pl.col("first") > "5") | ((pl.col("first") == "5") & (pl.col("tail") | (pl.col("base") % 2 == 1)))
    out = out.select(value=pl.when(pl.col("short")).then(pl.col("base") + up.fill_null(False).cast(pl.Int64)))
    values = out["value"].alias(texts.name)
    return _fallback(texts, values, values.is_not_null(), parse_traffic_volume, (UnitFormatError,))


def _rates(texts: pl.Series, pattern: str, parse: Callable[[str], float]) -> Parsed:
    g = texts.str.extract_groups(pattern).struct.unnest()
    number, unit = g[g.columns[0]], g[g.columns[1]]
    digits = number.str.len_bytes() <= _MAX_DIGITS
    scaled = (number + "e" + unit.replace_strict(_EXPONENT, default=None, return_dtype=pl.String))
    values = pl.select(pl.when(pl.lit(digits)).then(pl.lit(scaled).cast(pl.Float64, strict=False))).to_series()
    return _fallback(texts, values.alias(texts.name), values.is_not_null(), parse, (UnitFormatError,))


def bit_rates(texts: pl.Series) -> Parsed:
    """``"1.5 Mbps"`` → 1500000.0 for the whole column, as :func:`parse_bit_rate`."""
    return _rates(texts, _BIT_RATE, parse_bit_rate)


def packet_rates(texts: pl.Series) -> Parsed:
    """``"10 kpps"`` → 10000.0 for the whole column, as :func:`parse_packet_rate`."""
    return _rates(texts, _PACKET_RATE, parse_packet_rate)


# --- FlowDescription (TS 29.212 clause 5.4.2) -------------------------------------------------------------------

_OCTET: Final = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_V4: Final = rf"{_OCTET}(?:\.{_OCTET}){{3}}(?:/(?:3[0-2]|[12]?[0-9]))?"
_H: Final = "[0-9A-Fa-f]{1,4}"
_V6_FORMS: Final = (
    rf"(?:{_H}:){{7}}{_H}", rf"(?:{_H}:){{1,7}}:", rf"(?:{_H}:){{1,6}}:{_H}", rf"(?:{_H}:){{1,5}}(?::{_H}){{1,2}}",
    rf"(?:{_H}:){{1,4}}(?::{_H}){{1,3}}", rf"(?:{_H}:){{1,3}}(?::{_H}){{1,4}}", rf"(?:{_H}:){{1,2}}(?::{_H}){{1,5}}",
    rf"{_H}:(?::{_H}){{1,6}}", rf":(?:(?::{_H}){{1,7}}|:)",
)
_V6: Final = rf"(?:{'|'.join(_V6_FORMS)})(?:/(?:12[0-8]|1[01][0-9]|[1-9]?[0-9]))?"
_ADDR: Final = rf"any|{_V4}|{_V6}"
_FLOW: Final = (
    rf"^permit out (ip|[0-9]{{1,3}}|icmp|tcp|udp|ipv6-icmp) from ({_ADDR})(?: ([0-9]{{1,5}}))?"
    rf" to (assigned|{_ADDR})(?: ([0-9]{{1,5}}))?$"
)
"""The fast form: single ports, addresses the regex alone proves valid; anything else takes the scalar parser."""
_PROTOCOL_NUMBERS: Final = {"ip": None, "icmp": 1, "tcp": 6, "udp": 17, "ipv6-icmp": 58}
FLOW_PARTS: Final = pl.Schema({
    "proto": pl.Int16, "proto_name": pl.String, "src_ip": pl.String, "src_ports": pl.String,
    "dst_ip": pl.String, "dst_ports": pl.String, "error": pl.String,
})
"""What :func:`flow_descriptions` gives per row: the protocol's number (null = any), its name as the processor's
flow records write it (``udp``, ``ip``, the number's text when IANA has no name here), the addresses as written and
the port specifications as written (null when absent)."""


def flow_descriptions(texts: pl.Series) -> pl.DataFrame:
    """The parts of each flow description (:data:`FLOW_PARTS`), as :func:`parse_flow_description` reads them."""
    g = texts.str.extract_groups(_FLOW).struct.unnest()
    g.columns = ["p", "src_ip", "src_ports", "dst_ip", "dst_ports"]
    number = pl.col("p").cast(pl.Int64, strict=False)
    proto = pl.when(number.is_not_null()).then(number).otherwise(
        pl.col("p").replace_strict(_PROTOCOL_NUMBERS, default=None, return_dtype=pl.Int64))
    ports_ok = pl.all_horizontal(pl.col(c).cast(pl.Int64, strict=False).fill_null(0) <= 65535
                                 for c in ("src_ports", "dst_ports"))
    fast = g.with_columns(proto=proto.cast(pl.Int16, strict=False),
                          ok=pl.col("p").is_not_null() & ports_ok & (number.fill_null(0) <= 255))
    fast = fast.with_columns(pl.when(pl.col("ok")).then(pl.col(c)).alias(c)
                             for c in ("p", "src_ip", "src_ports", "dst_ip", "dst_ports", "proto"))
    parts = _flow_fallback(texts, fast)
    name = pl.when(pl.col("p").str.contains("^[0-9]+$")).then(
        pl.col("proto").replace_strict(PROTO_NAMES, default=pl.col("p"), return_dtype=pl.String)
    ).otherwise(pl.col("p"))
    return parts.with_columns(proto_name=name).select(FLOW_PARTS.names())


def _flow_fallback(texts: pl.Series, fast: pl.DataFrame) -> pl.DataFrame:
    todo = (texts.is_not_null() & ~fast["ok"]).arg_true()
    fast = fast.with_columns(error=pl.lit(None, pl.String))
    if len(todo) == 0:
        return fast
    rows: list[tuple[Any, ...]] = []
    for i, text in zip(todo.to_list(), texts.gather(todo).to_list(), strict=True):
        try:
            f = parse_flow_description(text)
        except FlowDescriptionError as exc:
            rows.append((i, None, None, None, None, None, None, f"flowDescription: {exc}"))
            continue
        p = "ip" if f.protocol is None else _name(text.split(" ", 3)[2])
        rows.append((i, p, f.protocol, f.src, f.src_ports, f.dst, f.dst_ports, None))
    cols = ("i", "p", "proto", "src_ip", "src_ports", "dst_ip", "dst_ports", "error")
    fix = pl.DataFrame(rows, schema={c: fast.schema.get(c, pl.String) for c in cols} | {"i": pl.UInt32},
                       orient="row")
    out = fast.drop("ok")
    for c in cols[1:]:
        out = out.with_columns(out[c].scatter(fix["i"], fix[c]))
    return out


def _name(token: str) -> str:
    """The processor's protocol name for the token as written (as :func:`nwdaf.lib.flows.convert.parse_flow_description`
    names it): a number's IANA name, else the token."""
    return PROTO_NAMES.get(int(token), token) if token.isdigit() else token.lower()


# --- Memoised column parsing --------------------------------------------------------------------------------------

VECTOR_MIN: Final = 256
"""Fewer new strings than this in a column are parsed one by one (a polars query costs ~0.1-0.3 ms to plan and
run, which only pays off over a few hundred rows); more go through the vectorised parser in one call."""


class ColumnParser:
    """Parses a column of wire strings, remembering the result of each distinct string (a flow reports the same
    description every period; volumes and rates repeat). New strings are parsed a column at a time
    (``vector``) or one by one (``scalar``) -- the two give the same results -- and the memo is emptied when it
    holds ``max_entries`` strings, so its memory is bounded."""

    def __init__(self, vector: Callable[[pl.Series], list[tuple[Any, str | None]]],
                 scalar: Callable[[str], tuple[Any, str | None]], max_entries: int = 200_000) -> None:
        self.vector, self.scalar, self.max_entries = vector, scalar, max_entries
        self.values: dict[str | None, Any] = {None: None}
        self.errors: dict[str, str] = {}

    def __call__(self, texts: list[str | None]) -> list[tuple[Any, str | None]]:
        """``(value, error)`` per entry; None entries give ``(None, None)``."""
        values, errors = self.parse(texts)
        return list(zip(values, errors, strict=True))

    def parse(self, texts: list[str | None]) -> tuple[list[Any], list[str | None]]:
        """The values (None for a null or bad entry) and the errors (None but for a bad entry) of ``texts``."""
        memo, bad = self.values, self.errors
        new = set(texts).difference(memo, bad)
        if new:
            if len(memo) + len(bad) + len(new) > self.max_entries:
                memo.clear()
                bad.clear()
                memo[None] = None
                new = set(texts).difference(memo)
            self._learn(list(new))  # type: ignore[arg-type]
        values = list(map(memo.get, texts))
        if not bad or bad.keys().isdisjoint(texts):
            return values, [None] * len(texts)
        return values, list(map(bad.get, texts))  # type: ignore[arg-type]

    def _learn(self, new: list[str]) -> None:
        results = self.vector(pl.Series(new, dtype=pl.String)) if len(new) >= VECTOR_MIN else [
            self.scalar(t) for t in new]
        for text, (value, error) in zip(new, results, strict=True):
            if error is None:
                self.values[text] = value
            else:
                self.errors[text] = error


def _pairs(parsed: Parsed) -> list[tuple[Any, str | None]]:
    return list(zip(parsed.values.to_list(), parsed.errors.to_list(), strict=True))


def _scalar(parse: Callable[[str], Any], kind: str) -> Callable[[str], tuple[Any, str | None]]:
    def one(text: str) -> tuple[Any, str | None]:
        try:
            return _in_range(parse(text), None)
        except (UnitFormatError, FlowDescriptionError) as exc:
            return None, str(exc)
    one.__name__ = f"scalar_{kind}"
    return one


def _flow_scalar(text: str) -> tuple[Any, str | None]:
    try:
        f = parse_flow_description(text)
    except FlowDescriptionError as exc:
        return None, f"flowDescription: {exc}"
    name = "ip" if f.protocol is None else _name(text.split(" ", 3)[2])
    return (f.protocol, name, f.src, f.src_ports, _single(f.src_ports), f.dst, f.dst_ports, _single(f.dst_ports)), None


def _single(ports: str | None) -> int | None:
    """The port of a single-port specification, else None (a range or a list names no one port)."""
    return int(ports) if ports is not None and ports.isdigit() else None


def _flow_vector(texts: pl.Series) -> list[tuple[Any, str | None]]:
    parts = flow_descriptions(texts)
    values = parts.select("proto", "proto_name", "src_ip", "src_ports", "dst_ip", "dst_ports").rows()
    return [(None, e) if e is not None else ((p, n, s, sp, _single(sp), d, dp, _single(dp)), None)
            for (p, n, s, sp, d, dp), e in zip(values, parts["error"].to_list(), strict=True)]


def parsers() -> dict[str, ColumnParser]:
    """One memoised parser per kind: ``volume``, ``bit_rate``, ``packet_rate``, ``flow``."""
    return {
        "volume": ColumnParser(lambda s: _pairs(traffic_volumes(s)), _scalar(parse_traffic_volume, "volume")),
        "bit_rate": ColumnParser(lambda s: _pairs(bit_rates(s)), _scalar(parse_bit_rate, "bit_rate")),
        "packet_rate": ColumnParser(lambda s: _pairs(packet_rates(s)), _scalar(parse_packet_rate, "packet_rate")),
        "flow": ColumnParser(_flow_vector, _flow_scalar),
    }
