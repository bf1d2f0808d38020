"""One columnar decoder for a UPF ``NotificationData`` body (TS 29.564 clause 6.1.6.2.3): every
``userDataUsageMeasurements`` entry of every ``notificationItems[]`` item becomes one row of typed columns
(:data:`MEASUREMENT_SCHEMA`), for the processor's flow rows and the storage sink's ``upf_usage_reports`` alike.

The Python part is a flattening of the JSON into column lists (one list comprehension per JSON level, then
transposed); the strings (volumes, rates, flow descriptions) go through :mod:`nwdaf.lib.flows.wire_columns`, which
parses each distinct string once (a column at a time when there are many new ones) and remembers it, with the
scalar parsers' results. A measurement that cannot be read is not dropped unsaid: it is left out of the frame and
listed in :attr:`Measurements.bad` with its item, its index in the item and the reason; an item without
measurements (QOS_MONITORING, TSC_MNGT_INFO) is counted in :attr:`Measurements.ignored_items`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Final

import numpy as np
import polars as pl

from nwdaf.lib.flows.wire_columns import ColumnParser, parsers
from nwdaf.platform.models.common import snssai_key
from nwdaf.platform.models.flows import FlowDirection
from nwdaf.platform.models.upf_ee import GranularityOfMeasurement

MEASUREMENT_SCHEMA: Final = pl.Schema({
    "item": pl.UInt32, "measurement": pl.UInt32,
    "ts": pl.Float64, "start_ts": pl.Float64,
    "supi": pl.String, "gpsi": pl.String, "ue_ip": pl.String, "ue_ipv4": pl.String, "ue_ipv6_prefix": pl.String,
    "snssai": pl.String, "dnn": pl.String, "event_type": pl.String, "correlation_id": pl.String,
    "granularity": pl.String, "app_id": pl.String, "flow_description": pl.String, "flow_direction": pl.String,
    "proto": pl.Int16, "proto_name": pl.String,
    "src_ip": pl.String, "src_port": pl.Int32, "src_ports": pl.String,
    "dst_ip": pl.String, "dst_port": pl.Int32, "dst_ports": pl.String,
    "has_volume": pl.Boolean,
    "ul_bytes": pl.Int64, "dl_bytes": pl.Int64, "total_bytes": pl.Int64,
    "ul_packets": pl.Int64, "dl_packets": pl.Int64, "total_packets": pl.Int64,
    "ul_throughput_bps": pl.Float64, "dl_throughput_bps": pl.Float64,
    "ul_packet_rate": pl.Float64, "dl_packet_rate": pl.Float64,
})
"""One row per measurement. ``item``/``measurement`` locate it in the body; ``ts`` is the item's ``timeStamp`` and
``start_ts`` its ``startTime`` (epoch s, null when absent); identity as :func:`nwdaf.lib.flows.convert.ue_identity`
gives it (``ue_ipv4``/``ue_ipv6_prefix`` are the item's own, for orienting flows); ``granularity`` as TS 29.564
clause 5.2.2.3.2 reads it off the measurement; the flow description's parts as
:func:`nwdaf.platform.models.flows.parse_flow_description` gives them (``proto`` null = any protocol;
``src_port``/``dst_port`` only for a single port; ``proto_name`` as the flow records name it); ``has_volume`` is
whether a ``volumeMeasurement`` object was present; volumes in bytes, rates in bit/s and packets/s."""

_DIRECTIONS: Final = frozenset(d.value for d in FlowDirection)
_EMPTY: Final[dict[str, Any]] = {}


@dataclass(frozen=True, slots=True)
class BadMeasurement:
    """A measurement left out: ``item`` (index in ``notificationItems``), ``measurement`` (index in its
    ``userDataUsageMeasurements``, None for a whole item or body) and why."""

    item: int | None
    measurement: int | None
    reason: str


@dataclass(frozen=True)
class Measurements:
    """The decoded measurements of one body; :attr:`bad` lists what was left out, never silently."""

    frame: pl.DataFrame
    bad: list[BadMeasurement] = field(default_factory=list)
    ignored_items: int = 0


@lru_cache(maxsize=4096)
def epoch(text: str) -> float:
    """TS 29.571 DateTime (``2025-01-01T00:00:10Z``, an offset, fractions) → epoch seconds; ``ValueError`` if not."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@lru_cache(maxsize=1024)
def _slice_key(sst: Any, sd: Any) -> str | None:
    return snssai_key({"sst": sst, "sd": sd} if sd is not None else {"sst": sst})


def _snssai(value: dict[str, Any]) -> str | None:
    try:
        return _slice_key(value.get("sst"), value.get("sd"))
    except TypeError:  # an unhashable sst/sd: not worth remembering
        return snssai_key(value)


_ITEM_SCHEMA: Final = pl.Schema({
    "item": pl.UInt32, "ts": pl.Float64, "start_ts": pl.Float64, "supi": pl.String, "gpsi": pl.String,
    "ue_ip": pl.String, "ue_ipv4": pl.String, "ue_ipv6_prefix": pl.String, "snssai": pl.String, "dnn": pl.String,
    "event_type": pl.String, "item_error": pl.String,
})
_ITEM_COLUMNS: Final = tuple(_ITEM_SCHEMA.names())


@dataclass
class _Items:
    """Item-level columns (one value per item that has measurements) and the measurements in body order."""

    cols: dict[str, list[Any]] = field(default_factory=lambda: {n: [] for n in _ITEM_COLUMNS})
    counts: list[int] = field(default_factory=list)
    meas: list[Any] = field(default_factory=list)
    bad: list[BadMeasurement] = field(default_factory=list)
    ignored: int = 0


def _item_error(item: Mapping[str, Any]) -> tuple[float | None, float | None, str | None]:
    """``(ts, start_ts, error)`` of an item."""
    try:
        ts = epoch(item["timeStamp"])
        start = item.get("startTime")
        return ts, (epoch(start) if start else None), None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        what = "timeStamp missing" if isinstance(exc, KeyError) else f"timeStamp/startTime: {exc}"
        return None, None, what


def _identity(item: Mapping[str, Any]) -> tuple[list[Any], str | None]:
    v4, v6, mac = item.get("ueIpv4Addr"), item.get("ueIpv6Prefix"), item.get("ueMacAddr")
    s = item.get("snssai")
    key = _snssai(s) if type(s) is dict else snssai_key(s) if type(s) is str else None
    values = [item.get("supi"), item.get("gpsi"), v4 or v6 or mac, v4, v6, key, item.get("dnn"),
              item.get("eventType")]
    wrong = [v for v in values if v is not None and type(v) is not str]
    if not wrong:
        return values, None
    return [v if type(v) is str else None for v in values], f"identity field is not a string: {wrong[0]!r}"


def _flatten(body: Mapping[str, Any]) -> _Items:
    out = _Items()
    items = body.get("notificationItems") if isinstance(body, Mapping) else None
    if not isinstance(items, list):
        if items is not None or not isinstance(body, Mapping):
            out.bad.append(BadMeasurement(None, None, "notificationItems is not an array"))
        return out
    cols = out.cols
    for i, item in enumerate(items):
        ms = item.get("userDataUsageMeasurements") if type(item) is dict else None
        if type(item) is not dict or (ms is not None and type(ms) is not list):
            out.bad.append(BadMeasurement(i, None, "item or its userDataUsageMeasurements is malformed"))
            continue
        if not ms:
            out.ignored += 1  # QOS_MONITORING, TSC_MNGT_INFO: no usage
            continue
        ts, start, error = _item_error(item)
        identity, id_error = _identity(item)
        for name, value in zip(_ITEM_COLUMNS, (i, ts, start, *identity, error or id_error), strict=True):
            cols[name].append(value)
        out.counts.append(len(ms))
        out.meas.extend(ms)
    return out


_NONE_TYPE: Final = type(None)


def _column(values: list[Any], name: str, kind: type, errors: list[str | None]) -> list[Any]:
    """``values`` with entries of the wrong JSON type nulled and reported in ``errors`` (first error per row)."""
    if set(map(type, values)) <= {kind, _NONE_TYPE}:
        return values
    out = []
    for j, v in enumerate(values):
        if v is None or type(v) is kind:
            out.append(v)
        else:
            out.append(None)
            if errors[j] is None:
                errors[j] = f"{name} is not a {kind.__name__}: {v!r}"
    return out


_VOLUME_KEYS: Final = ("ul_bytes", "dl_bytes", "total_bytes", "ul_packets", "dl_packets", "total_packets")
_NO_VOLUME: Final = (None,) * len(_VOLUME_KEYS)
_RATE_KEYS: Final = ("ul_throughput_bps", "dl_throughput_bps", "ul_packet_rate", "dl_packet_rate")
_NO_RATES: Final = (None,) * len(_RATE_KEYS)
_PER_FLOW: Final = GranularityOfMeasurement.PER_FLOW.value
_PER_APP: Final = GranularityOfMeasurement.PER_APPLICATION.value
_PER_SESSION: Final = GranularityOfMeasurement.PER_SESSION.value


def _rates(thr: Any, stats: Any) -> tuple[Any, ...]:
    """TS 29.564: the throughput measurement's rates, else the throughput statistics' averages."""
    if type(thr) is dict:
        g = thr.get
        return (g("ulThroughput") or None, g("dlThroughput") or None, g("ulPacketThroughput") or None,
                g("dlPacketThroughput") or None)
    if type(stats) is dict:
        g = stats.get
        return (g("ulAverageThroughput") or None, g("dlAverageThroughput") or None,
                g("ulAveragePacketThroughput") or None, g("dlAveragePacketThroughput") or None)
    return _NO_RATES


def _measurement_columns(meas: list[Any], errors: list[str | None]) -> dict[str, list[Any]]:
    if set(map(type, meas)) != {dict}:
        for j, m in enumerate(meas):
            if type(m) is not dict:
                errors[j] = "measurement is not an object"
        meas = [m if type(m) is dict else _EMPTY for m in meas]
    parts = [(m.get("appId"), m.get("flowInfo"), m.get("volumeMeasurement"), m.get("throughputMeasurement"),
              m.get("throughputStatisticsMeasurement")) for m in meas]
    app, info, vol, thr, stats = (list(c) for c in zip(*parts, strict=True))
    flow = [(f.get("flowDescription"), f.get("flowDirection")) if type(f) is dict else (None, None) for f in info]
    volumes = [(v.get("ulVolume"), v.get("dlVolume"), v.get("totalVolume"), v.get("ulNbOfPackets"),
                v.get("dlNbOfPackets"), v.get("totalNbOfPackets")) if type(v) is dict else _NO_VOLUME for v in vol]
    cols: dict[str, list[Any]] = {
        "granularity": [_PER_FLOW if f is not None else _PER_APP if a is not None else _PER_SESSION
                        for f, a in zip(info, app, strict=True)],
        "app_id": app, "has_volume": [type(v) is dict for v in vol],
    }
    cols.update(zip(("flow_description", "flow_direction"), map(list, zip(*flow, strict=True)), strict=True))
    cols.update(zip(_VOLUME_KEYS, map(list, zip(*volumes, strict=True)), strict=True))
    cols.update(zip(_RATE_KEYS, map(list, zip(*map(_rates, thr, stats), strict=True)), strict=True))
    for name, kind in (("app_id", str), ("flow_description", str), ("flow_direction", str),
                       *((n, str) for n in (*_VOLUME_KEYS[:3], *_RATE_KEYS)), *((n, int) for n in _VOLUME_KEYS[3:])):
        cols[name] = _column(cols[name], name, kind, errors)
    if not set(cols["flow_direction"]) <= _DIRECTIONS | {None}:
        for j, d in enumerate(cols["flow_direction"]):
            if d is not None and d not in _DIRECTIONS and errors[j] is None:
                errors[j] = f"flowDirection {d!r} is not one of {sorted(_DIRECTIONS)}"
    return cols


def _packets(values: list[Any], name: str, errors: list[str | None]) -> list[Any]:
    present = [*filter(None, values)]  # 0 and None need no check
    if not present or (min(present) >= 0 and max(present) < 2**63):
        return values
    for j, v in enumerate(values):
        if v is not None and not 0 <= v < 2**63:
            errors[j] = errors[j] or f"{name} {v} is not a packet count in 0..2^63-1"
            values[j] = None
    return values


def _apply(parse: ColumnParser, values: list[Any], name: str, errors: list[str | None]) -> list[Any]:
    """Parsed ``values``; a row's parse error goes to ``errors`` (unless it already has one)."""
    parsed, failed = parse.parse(values)
    if any(failed):
        for j, error in enumerate(failed):
            if error is not None and errors[j] is None:
                errors[j] = f"{name}: {error}"
    return parsed


_NO_FLOW: Final = (None,) * 8
_FLOW_COLUMNS: Final = ("proto", "proto_name", "src_ip", "src_ports", "src_port", "dst_ip", "dst_ports", "dst_port")


@dataclass
class NotificationDecoder:
    """:func:`measurements_frame` with its own memo of parsed strings (:class:`ColumnParser`, bounded)."""

    parsers: dict[str, ColumnParser] = field(default_factory=parsers)

    def __call__(self, body: Mapping[str, Any], correlation_id: str | None = None) -> Measurements:
        flat = _flatten(body)
        if correlation_id is None and isinstance(body, Mapping):
            given = body.get("correlationId")
            correlation_id = given if given is None or isinstance(given, str) else str(given)
        if not flat.meas:
            return Measurements(pl.DataFrame(schema=MEASUREMENT_SCHEMA), flat.bad, flat.ignored)
        errors: list[str | None] = [None] * len(flat.meas)
        cols = self._columns(flat.meas, errors)
        cols["measurement"] = [j for c in flat.counts for j in range(c)]
        items = pl.DataFrame(flat.cols, schema=_ITEM_SCHEMA)
        index = np.repeat(np.arange(items.height), flat.counts)
        frame = pl.concat([items[index], pl.DataFrame(cols, schema={c: MEASUREMENT_SCHEMA[c] for c in cols})],
                          how="horizontal")
        item_errors = flat.cols["item_error"]
        if any(e is not None for e in item_errors):
            for j, i in enumerate(index.tolist()):
                errors[j] = item_errors[i] or errors[j]
        if any(e is not None for e in errors):
            bad = [j for j, e in enumerate(errors) if e is not None]
            where = frame.select("item", "measurement")[bad].rows()
            flat.bad.extend(BadMeasurement(i, m, errors[j] or "") for (i, m), j in zip(where, bad, strict=True))
            frame = frame.filter(pl.Series([e is None for e in errors]))
        frame = frame.with_columns(correlation_id=pl.lit(correlation_id, pl.String))
        return Measurements(frame.select(MEASUREMENT_SCHEMA.names()), flat.bad, flat.ignored)

    def _columns(self, meas: list[Any], errors: list[str | None]) -> dict[str, list[Any]]:
        cols = _measurement_columns(meas, errors)
        p = self.parsers
        for c in ("ul_packets", "dl_packets", "total_packets"):
            cols[c] = _packets(cols[c], c, errors)
        for c in ("ul_bytes", "dl_bytes", "total_bytes"):
            cols[c] = _apply(p["volume"], cols[c], c, errors)
        for c in ("ul_throughput_bps", "dl_throughput_bps"):
            cols[c] = _apply(p["bit_rate"], cols[c], c, errors)
        for c in ("ul_packet_rate", "dl_packet_rate"):
            cols[c] = _apply(p["packet_rate"], cols[c], c, errors)
        flows = [v or _NO_FLOW for v in _apply(p["flow"], cols["flow_description"], "flowDescription", errors)]
        cols.update(zip(_FLOW_COLUMNS, map(list, zip(*flows, strict=True)), strict=True))
        return cols


_DEFAULT: Final = NotificationDecoder()


def measurements_frame(body: Mapping[str, Any], correlation_id: str | None = None) -> Measurements:
    """The usage measurements of one ``NotificationData`` body as :data:`MEASUREMENT_SCHEMA` rows.

    ``correlation_id`` defaults to the body's ``correlationId``. Rows that cannot be read are left out of the
    frame and listed in :attr:`Measurements.bad` (item, measurement index, reason). Uses a process-wide
    :class:`NotificationDecoder`; a long-lived consumer may keep its own.
    """
    return _DEFAULT(body, correlation_id)
