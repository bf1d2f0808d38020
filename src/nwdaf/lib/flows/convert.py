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
from collections.abc import Mapping
from typing import Any, Final

import polars as pl

from nwdaf.lib.flows import conform_flows
from nwdaf.lib.flows.notification import measurements_frame
from nwdaf.lib.flows.schema import PROTO_NAMES
from nwdaf.platform.models.common import snssai_key

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


def _in_prefix(addrs: list[str], prefixes: list[str]) -> list[bool]:
    """Whether each IPv6 address is in the paired prefix (an unreadable address or prefix is not)."""
    nets: dict[str, ipaddress.IPv6Network | None] = {}
    out = []
    for addr, prefix in zip(addrs, prefixes, strict=True):
        if prefix not in nets:
            try:
                nets[prefix] = ipaddress.IPv6Network(prefix, strict=False)
            except ValueError:
                nets[prefix] = None
        net = nets[prefix]
        try:
            out.append(net is not None and ipaddress.IPv6Address(addr) in net)
        except ValueError:
            out.append(False)
    return out


def _is_ue(frame: pl.DataFrame, addr: str) -> pl.Series:
    """Whether ``frame[addr]`` is the item's UE: its IPv4 address, or an address in its IPv6 prefix."""
    v4 = (frame[addr] == frame["ue_ipv4"]).fill_null(False)
    v6_rows = (frame["ue_ipv6_prefix"].is_not_null() & frame[addr].str.contains(":", literal=True)).arg_true()
    if len(v6_rows) == 0:
        return v4
    inside = _in_prefix(frame[addr].gather(v6_rows).to_list(), frame["ue_ipv6_prefix"].gather(v6_rows).to_list())
    return v4.scatter(v6_rows, pl.Series(inside, dtype=pl.Boolean)) | v4


def flow_rows(measurements: pl.DataFrame) -> pl.DataFrame:
    """Per-flow usage rows (:data:`ROW_SCHEMA`, UE as source) of decoded measurements
    (:data:`nwdaf.lib.flows.notification.MEASUREMENT_SCHEMA`): the measurements that name a flow and carry a
    volume; the period is ``(startTime, timeStamp]`` of the item (no ``startTime``: an instant)."""
    m = measurements.filter(pl.col("flow_description").is_not_null() & pl.col("has_volume"))
    if m.is_empty():
        return pl.DataFrame(schema=ROW_SCHEMA)
    m = m.with_columns(pl.col("src_ip").str.split("/").list.first(), pl.col("dst_ip").str.split("/").list.first())
    # Written downlink-wise (TS 29.212 "permit out"): the UE is "to"; a UE on both ends stays as written.
    swap = _is_ue(m, "dst_ip") & ~_is_ue(m, "src_ip")
    ue, remote = pl.lit(swap, pl.Boolean), ~pl.lit(swap, pl.Boolean)
    start = pl.col("start_ts").fill_null(pl.col("ts"))
    return m.select(
        start.alias("start_ts"), pl.col("ts").alias("end_ts"),
        (pl.col("ts") - start).clip(lower_bound=0.0).alias("duration_s"), pl.col("proto_name").alias("proto"),
        pl.when(ue).then(pl.col("dst_ip")).otherwise(pl.col("src_ip")).alias("src_ip"),
        pl.when(ue).then(pl.col("dst_port")).otherwise(pl.col("src_port")).fill_null(0).alias("src_port"),
        pl.when(remote).then(pl.col("dst_ip")).otherwise(pl.col("src_ip")).alias("dst_ip"),
        pl.when(remote).then(pl.col("dst_port")).otherwise(pl.col("src_port")).fill_null(0).alias("dst_port"),
        pl.col("ul_packets").fill_null(0).alias("pkts_fwd"), pl.col("dl_packets").fill_null(0).alias("pkts_bwd"),
        pl.col("ul_bytes").fill_null(0).alias("bytes_fwd"), pl.col("dl_bytes").fill_null(0).alias("bytes_bwd"),
        "supi", "snssai", "dnn",
    ).cast(dict(ROW_SCHEMA))  # type: ignore[arg-type]


def notification_frame(body: Mapping[str, Any]) -> pl.DataFrame:
    """Per-flow usage rows of one ``NotificationData`` body (per-period volumes, UE as source).

    Raises :class:`FlowDescriptionError` (a ``ValueError``) naming the first measurement it cannot read; the
    processor takes :func:`~nwdaf.lib.flows.notification.measurements_frame` itself and counts such rows instead.
    """
    decoded = measurements_frame(body)
    if decoded.bad:
        first = decoded.bad[0]
        raise FlowDescriptionError(f"{len(decoded.bad)} unreadable measurement(s); item {first.item} measurement "
                                   f"{first.measurement}: {first.reason}")
    return flow_rows(decoded.frame)


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


FLOW_KEYS: Final = ("src_ip", "src_port", "dst_ip", "dst_port", "proto")
"""What makes one flow: the UE's end and the remote end of the 5-tuple (UE as source)."""


def _merge(frame: pl.DataFrame, keys: list[str], *span: pl.Expr) -> pl.DataFrame:
    return frame.group_by(keys, maintain_order=True).agg(
        *span,
        pl.col("pkts_fwd").sum(), pl.col("pkts_bwd").sum(), pl.col("bytes_fwd").sum(), pl.col("bytes_bwd").sum(),
        pl.col("supi").drop_nulls().first(), pl.col("snssai").drop_nulls().first(), pl.col("dnn").drop_nulls().first(),
    )


def partial_flows(periods: pl.DataFrame) -> pl.DataFrame:
    """Per-period rows (:data:`ROW_SCHEMA`) merged per flow and report time (``end_ts``): a partial aggregate that
    :func:`combine_flows` merges with others as :func:`aggregate_flows` merges the rows themselves (sums of the
    counters, earliest start, latest end, first non-null UE identity in arrival order)."""
    return _merge(periods, [*FLOW_KEYS, "end_ts"], pl.col("start_ts").min())


def combine_flows(partials: pl.DataFrame, window_start: float) -> pl.DataFrame:
    """Partial aggregates (:func:`partial_flows`, concatenated in arrival order) as the window's flow records:
    the same result as :func:`aggregate_flows` over the rows they were made of."""
    merged = _merge(partials, list(FLOW_KEYS), pl.col("start_ts").min(), pl.col("end_ts").max())
    return _flow_records(merged, window_start)


def aggregate_flows(periods: pl.DataFrame, window_start: float) -> pl.DataFrame:
    """Merge the per-period rows of each flow (UE, 5-tuple) into one flow record for the window.

    The record starts at ``window_start`` so feature functions put the whole window in one bucket; its duration
    is the span the flow was active in. Returns rows in :data:`nwdaf.lib.flows.FLOW_SCHEMA` plus supi/snssai/dnn.
    """
    return _flow_records(_merge(periods, list(FLOW_KEYS), pl.col("start_ts").min(), pl.col("end_ts").max()),
                         window_start)


def _flow_records(merged: pl.DataFrame, window_start: float) -> pl.DataFrame:
    merged = merged.with_columns(
        (pl.col("end_ts") - pl.col("start_ts")).alias("duration_s"), pl.lit(window_start).alias("start_ts"),
        pl.lit("upf").alias("source"),
    ).drop("end_ts")
    return conform_flows(merged, include_labels=False)
