"""UPF usage notifications (TS 29.564 ``NotificationData``) to flow-record rows.

Each per-flow ``UserDataUsageMeasurements`` entry becomes one row: the UE is the source (``src_ip``) and uplink is
the forward direction, whichever way the ``flowDescription`` was written, so per-UE features see the UE as the
initiator (the same orientation as the dataset importers). Items without ``flowInfo`` (per-session and
per-application granularity) carry no peer and yield no flow row; they still reach storage as raw reports.
"""

from __future__ import annotations

import re
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

ROW_COLUMNS: Final = (
    "start_ts", "end_ts", "duration_s", "proto", "src_ip", "src_port", "dst_ip", "dst_port",
    "pkts_fwd", "pkts_bwd", "bytes_fwd", "bytes_bwd", "supi", "snssai", "dnn",
)


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


def _slice(value: Any) -> str | None:
    return snssai_key(value) if isinstance(value, dict) else None


def _row(item: dict[str, Any], meas: dict[str, Any]) -> dict[str, Any] | None:
    desc = (meas.get("flowInfo") or {}).get("flowDescription")
    vol = meas.get("volumeMeasurement")
    if not desc or not isinstance(vol, dict):
        return None
    proto, src, sport, dst, dport = parse_flow_description(desc)
    ue = item.get("ueIpv4Addr") or item.get("ueIpv6Prefix", "").split("/")[0]
    if dst == ue and src != ue:  # written downlink-wise: turn it so the UE initiates
        src, sport, dst, dport = dst, dport, src, sport
    end = _epoch(item["timeStamp"])
    start = _epoch(item["startTime"]) if item.get("startTime") else end
    return {
        "start_ts": start, "end_ts": end, "duration_s": max(end - start, 0.0), "proto": proto,
        "src_ip": src, "src_port": sport, "dst_ip": dst, "dst_port": dport,
        "pkts_fwd": int(vol.get("ulNbOfPackets", 0)), "pkts_bwd": int(vol.get("dlNbOfPackets", 0)),
        "bytes_fwd": parse_traffic_volume(vol["ulVolume"]) if "ulVolume" in vol else 0,
        "bytes_bwd": parse_traffic_volume(vol["dlVolume"]) if "dlVolume" in vol else 0,
        "supi": item.get("supi"), "snssai": _slice(item.get("snssai")),
        "dnn": item.get("dnn"),
    }


def notification_rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Per-flow usage rows of one NotificationData (per-period volumes, UE as source)."""
    rows: list[dict[str, Any]] = []
    for item in body.get("notificationItems", []):
        for meas in item.get("userDataUsageMeasurements") or []:
            row = _row(item, meas)
            if row is not None:
                rows.append(row)
    return rows


def rows_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = {
        "start_ts": pl.Float64, "end_ts": pl.Float64, "duration_s": pl.Float64, "proto": pl.String,
        "src_ip": pl.String, "src_port": pl.Int32, "dst_ip": pl.String, "dst_port": pl.Int32,
        "pkts_fwd": pl.Int64, "pkts_bwd": pl.Int64, "bytes_fwd": pl.Int64, "bytes_bwd": pl.Int64,
        "supi": pl.String, "snssai": pl.String, "dnn": pl.String,
    }
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


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
