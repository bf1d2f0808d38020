"""UPF per-flow usage as flow-record rows: the one conversion, whichever way the usage arrives.

A per-flow usage measurement (TS 29.564 ``UserDataUsageMeasurements`` with ``flowInfo``) becomes one row in
:data:`ROW_COLUMNS`: the UE is the source (``src_ip``) and uplink is the forward direction, so per-UE features see
the UE as the initiator (the same orientation as the dataset importers). :func:`usage_frame` is that conversion;
it has two front-ends, which only pick the measurement's values out of their source:

* :func:`notification_frame`: a ``NotificationData`` body as the UPF sends it (the processor, on the live path);
* :func:`nwdaf.lib.flows.upf_usage.report_rows`: the data plane's own period report, without the HTTP hop (offline
  detection on a pcap, training on synthetic traffic).

``supi``, ``snssai`` and ``dnn`` are those of the flow's PDU session: what TS 29.564 ``NotificationItem`` carries
for the UE the item reports on, and what the data plane's session table holds for the session that carried the
flow. The S-NSSAI is written as its one key (:func:`nwdaf.platform.models.snssai_key`), so a slice is the same
string in flow records, features, findings and storage. (The offline rows used to leave S-NSSAI and DNN null while
the live rows carried them as the UPF wrote them; the session's values are right for both, since per-slice and
per-DNN features and the analytics filters group by exactly these.) :func:`ue_identity` gives the same identity
columns for the storage sink's raw report rows.

Items without ``flowInfo`` (per-session and per-application granularity) carry no peer and yield no flow row; they
still reach storage as raw reports.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

import polars as pl

from nwdaf.lib.flows import conform_flows
from nwdaf.lib.flows.schema import PROTO_NAMES
from nwdaf.platform.models.common import snssai_key
from nwdaf.platform.models.units import parse_traffic_volume

# RFC 6733 IPFilterRule as used by TS 29.214 Flow-Description: "permit out 17 from 10.0.0.1 5000 to 10.0.0.2 80".
_RULE: Final = re.compile(
    r"^permit\s+(?:in|out)\s+(?P<proto>\S+)\s+from\s+(?P<src>[^\s]+)(?:\s+(?P<sport>[\d,-]+))?"
    r"\s+to\s+(?P<dst>[^\s]+)(?:\s+(?P<dport>[\d,-]+))?\s*$"
)

ROW_SCHEMA: Final = pl.Schema({
    "start_ts": pl.Float64, "end_ts": pl.Float64, "duration_s": pl.Float64, "proto": pl.String,
    "src_ip": pl.String, "src_port": pl.Int32, "dst_ip": pl.String, "dst_port": pl.Int32,
    "pkts_fwd": pl.Int64, "pkts_bwd": pl.Int64, "bytes_fwd": pl.Int64, "bytes_bwd": pl.Int64,
    "supi": pl.String, "snssai": pl.String, "dnn": pl.String,
})
ROW_COLUMNS: Final = tuple(ROW_SCHEMA.names())

USAGE_FIELDS: Final = (
    "start_ts", "end_ts", "proto", "ue_ip", "ue_port", "remote_ip", "remote_port",
    "ul_packets", "dl_packets", "ul_bytes", "dl_bytes", "supi", "snssai", "dnn",
)
"""What :func:`usage_frame` takes: one value per measurement, or one for all (period bounds)."""


class FlowDescriptionError(ValueError):
    """A ``flowDescription`` that is not an IPFilterRule this converter understands."""


def parse_flow_description(text: str) -> tuple[str, str, int, str, int]:
    """``(proto, src, sport, dst, dport)`` with the protocol as a name (``17`` → ``udp``), absent ports 0."""
    m = _RULE.match(text.strip())
    if m is None:
        raise FlowDescriptionError(f"not an IPFilterRule: {text!r}")
    src, dst = (_strip_prefix(m["src"]), _strip_prefix(m["dst"]))
    proto = m["proto"].lower()
    if proto.isdigit():
        proto = PROTO_NAMES.get(int(proto), proto)
    return proto, src, _port(m["sport"]), dst, _port(m["dport"])


def _strip_prefix(addr: str) -> str:
    return addr.split("/", 1)[0]


def _port(text: str | None) -> int:
    if not text or not text.isdigit():
        return 0
    return int(text)


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _proto_name(proto: Any) -> str:
    return proto if isinstance(proto, str) else PROTO_NAMES.get(int(proto), str(proto))


def usage_frame(usage: Mapping[str, Any]) -> pl.DataFrame:
    """The one conversion of per-flow usage measurements to rows in :data:`ROW_SCHEMA`.

    ``usage`` maps each of :data:`USAGE_FIELDS` to a sequence (one value per measurement) or a scalar (shared):
    the period (``start_ts``/``end_ts``, epoch seconds), the protocol (number or name), the UE's and the remote
    end's address and port, uplink/downlink packets and bytes, and the PDU session's ``supi``, ``snssai`` (any form
    :func:`snssai_key` takes) and ``dnn``.
    """
    missing = [name for name in USAGE_FIELDS if name not in usage]
    if missing:
        raise ValueError(f"usage_frame needs {missing}")
    n = next((len(v) for v in usage.values() if not isinstance(v, str | int | float) and v is not None), 0)
    if n == 0:
        return pl.DataFrame(schema=ROW_SCHEMA)
    snssai = usage["snssai"]
    keys = [snssai_key(s) for s in snssai] if isinstance(snssai, list | tuple) else snssai_key(snssai)
    frame = pl.DataFrame({
        "start_ts": usage["start_ts"], "end_ts": usage["end_ts"], "proto": [_proto_name(p) for p in usage["proto"]],
        "src_ip": usage["ue_ip"], "src_port": usage["ue_port"], "dst_ip": usage["remote_ip"],
        "dst_port": usage["remote_port"], "pkts_fwd": usage["ul_packets"], "pkts_bwd": usage["dl_packets"],
        "bytes_fwd": usage["ul_bytes"], "bytes_bwd": usage["dl_bytes"],
        "supi": usage["supi"], "snssai": keys, "dnn": usage["dnn"],
    })
    duration = (pl.col("end_ts") - pl.col("start_ts")).clip(lower_bound=0.0).alias("duration_s")
    return frame.with_columns(duration).select(pl.col(name).cast(dtype) for name, dtype in ROW_SCHEMA.items())


def _ue_test(item: Mapping[str, Any]) -> Callable[[str], bool]:
    """Whether an address is the item's UE: its IPv4 address, or an address in its IPv6 prefix."""
    v4 = item.get("ueIpv4Addr")
    prefix = item.get("ueIpv6Prefix")
    net = None
    if prefix:
        try:
            net = ipaddress.IPv6Network(prefix, strict=False)
        except ValueError:
            net = None

    def is_ue(addr: str) -> bool:
        if addr == v4:
            return True
        if net is None or ":" not in addr:
            return False
        try:
            return ipaddress.IPv6Address(addr) in net
        except ValueError:
            return False

    return is_ue


def _add_item(out: dict[str, list[Any]], item: Mapping[str, Any]) -> None:
    is_ue: Callable[[str], bool] | None = None
    end = start = None
    for meas in item.get("userDataUsageMeasurements") or []:
        desc = (meas.get("flowInfo") or {}).get("flowDescription")
        vol = meas.get("volumeMeasurement")
        if not desc or not isinstance(vol, dict):
            continue
        proto, src, sport, dst, dport = parse_flow_description(desc)
        if is_ue is None:
            is_ue = _ue_test(item)
            end = _epoch(item["timeStamp"])
            start = _epoch(item["startTime"]) if item.get("startTime") else end
        if is_ue(dst) and not is_ue(src):  # written downlink-wise (TS 29.212 "permit out"): the UE is "to"
            src, sport, dst, dport = dst, dport, src, sport
        for name, value in (
            ("start_ts", start), ("end_ts", end), ("proto", proto), ("ue_ip", src), ("ue_port", sport),
            ("remote_ip", dst), ("remote_port", dport),
            ("ul_packets", int(vol.get("ulNbOfPackets", 0))), ("dl_packets", int(vol.get("dlNbOfPackets", 0))),
            ("ul_bytes", parse_traffic_volume(vol["ulVolume"]) if "ulVolume" in vol else 0),
            ("dl_bytes", parse_traffic_volume(vol["dlVolume"]) if "dlVolume" in vol else 0),
            ("supi", item.get("supi")), ("snssai", _slice(item.get("snssai"))), ("dnn", item.get("dnn")),
        ):
            out[name].append(value)


def _slice(value: Any) -> Any:
    return value if isinstance(value, dict) else None


def notification_frame(body: Mapping[str, Any]) -> pl.DataFrame:
    """Per-flow usage rows of one ``NotificationData`` body (per-period volumes, UE as source).

    Raises :class:`FlowDescriptionError`, ``KeyError`` or ``ValueError`` for an item it cannot read.
    """
    columns: dict[str, list[Any]] = {name: [] for name in USAGE_FIELDS}
    for item in body.get("notificationItems", []):
        _add_item(columns, item)
    return usage_frame(columns)


def notification_rows(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """:func:`notification_frame` as row dicts."""
    return notification_frame(body).to_dicts()


def ue_identity(item: Any) -> dict[str, Any]:
    """The UE and PDU-session columns of a ``NotificationItem`` (wire JSON or model): ``supi``, ``gpsi``,
    ``ue_ip`` (IPv4 address, else IPv6 prefix, else MAC address), ``snssai`` (its key) and ``dnn``."""
    values = item if isinstance(item, Mapping) else {name: getattr(item, name, None) for name in _IDENTITY}
    return {
        "supi": values.get("supi"), "gpsi": values.get("gpsi"),
        "ue_ip": values.get("ueIpv4Addr") or values.get("ueIpv6Prefix") or values.get("ueMacAddr"),
        "snssai": snssai_key(values.get("snssai")), "dnn": values.get("dnn"),
    }


_IDENTITY: Final = ("supi", "gpsi", "ueIpv4Addr", "ueIpv6Prefix", "ueMacAddr", "snssai", "dnn")


def rows_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Row dicts (as :func:`notification_rows` gives them) as a frame in :data:`ROW_SCHEMA`."""
    return pl.DataFrame(rows, schema=ROW_SCHEMA, orient="row") if rows else pl.DataFrame(schema=ROW_SCHEMA)


def aggregate_flows(periods: pl.DataFrame, window_start: float) -> pl.DataFrame:
    """Merge the per-period rows of each flow (UE, 5-tuple) into one flow record for the window.

    The record starts at ``window_start`` so feature functions put the whole window in one bucket; its duration
    is the span the flow was active in. Returns rows in :data:`nwdaf.lib.flows.FLOW_SCHEMA` plus supi/snssai/dnn.
    """
    keys = ["src_ip", "src_port", "dst_ip", "dst_port", "proto"]
    merged = periods.group_by(keys).agg(
        (pl.col("end_ts").max() - pl.col("start_ts").min()).alias("duration_s"),
        pl.col("pkts_fwd").sum(), pl.col("pkts_bwd").sum(),
        pl.col("bytes_fwd").sum(), pl.col("bytes_bwd").sum(),
        pl.col("supi").drop_nulls().first(), pl.col("snssai").drop_nulls().first(), pl.col("dnn").drop_nulls().first(),
    )
    merged = merged.with_columns(pl.lit(window_start).alias("start_ts"), pl.lit("upf").alias("source"))
    return conform_flows(merged, include_labels=False)
