"""Pure functions from bus payloads to stored rows: UPF usage as polars frames of the
:mod:`nwdaf.lib.storage.schema` columns (:func:`usage_frame_of`, :func:`usage_points`), the other payloads as dicts
keyed by them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import polars as pl

from nwdaf.lib.flows.convert import ue_identity
from nwdaf.lib.flows.notification import measurements_frame
from nwdaf.lib.storage.schema import FLOW_RECORDS, UPF_USAGE, UPF_USAGE_REPORTS
from nwdaf.platform.events import (
    AnalyticsResult,
    ColumnBatch,
    FlowRecordBatch,
    NfNotification,
    SliceFeatureBatch,
    UeFeatureBatch,
)
from nwdaf.platform.models.common import snssai_key
from nwdaf.platform.models.flows import FlowDescriptionError, parse_flow_description
from nwdaf.platform.models.units import parse_bit_rate, parse_packet_rate, parse_traffic_volume
from nwdaf.platform.models.upf_ee import (
    GranularityOfMeasurement,
    NotificationData,
    NotificationItem,
    UserDataUsageMeasurements,
)

Row = dict[str, Any]


@dataclass
class UsageRows:
    """Rows of one NotificationData: the warehouse records, and items that carried no usage measurement."""

    reports: list[Row] = field(default_factory=list)
    ignored_items: int = 0

    def timeseries(self) -> list[Row]:
        """The same measurements projected onto the ``upf_usage`` time series (one point each)."""
        names = set(UPF_USAGE.column_names)
        points = []
        for row in self.reports:
            point = {k: v for k, v in row.items() if k in names}
            point["flow"] = row.get("flow_description") or ""
            point["reports"] = 1
            points.append(point)
        return points


def usage_frame_of(note: NfNotification) -> pl.DataFrame:
    """The ``upf_usage_reports`` columns of a Nupf_EventExposure notification, one row per
    ``userDataUsageMeasurements`` entry (empty when it has none): the one place the sink gets UPF usage from.

    The body is decoded column by column (:func:`nwdaf.lib.flows.notification.measurements_frame`, the
    processor's decoder); 3GPP validation of the body happened at the HTTP edge (the collector's Data Receiver).
    Raises ``ValueError`` naming the first unreadable measurement: the message is rejected whole, as before. The
    caller checks the frame (:meth:`nwdaf.lib.storage.frames.TableFrame.check`).
    """
    decoded = measurements_frame(note.body)
    if decoded.bad:
        first = decoded.bad[0]
        raise ValueError(f"{len(decoded.bad)} usage measurement(s) cannot be read; first: item {first.item} "
                         f"measurement {first.measurement}: {first.reason}")
    frame = decoded.frame
    if frame.is_empty():
        return pl.DataFrame()
    return frame.select([c for c in UPF_USAGE_REPORTS.column_names if c in frame.columns])


def ignored_items(body: Mapping[str, Any]) -> int:
    """Notification items without a usage measurement (QOS_MONITORING, TSC_MNGT_INFO: nothing to store)."""
    items = body.get("notificationItems")
    return sum(1 for item in items if isinstance(item, Mapping) and not item.get("userDataUsageMeasurements")) \
        if isinstance(items, list) else 0


def usage_points(reports: pl.DataFrame) -> pl.DataFrame:
    """``upf_usage_reports`` columns projected onto the ``upf_usage`` time series (one point per measurement; the
    ``flow`` tag is the flow description)."""
    if reports.is_empty():
        return pl.DataFrame()
    kept = [name for name in UPF_USAGE.column_names if name in reports.columns]
    flow = (pl.col("flow_description").cast(pl.String).fill_null("") if "flow_description" in reports.columns
            else pl.lit(""))
    return reports.select(*kept, flow.alias("flow"), pl.lit(1, pl.UInt32).alias("reports"))


def usage_rows(note: NfNotification) -> UsageRows:
    """A Nupf_EventExposure notification (TS 29.564 clause 6.1.6.2.3 NotificationData) as usage rows.

    One row per ``userDataUsageMeasurements`` entry. Volumes and rates arrive as TS 29.571 strings ("1000 B",
    "1.5 Mbps") and are stored as numbers. Raises ``ValueError`` (incl. pydantic's) for a malformed body.
    """
    data = NotificationData.model_validate(note.body)
    out = UsageRows()
    for item in data.notificationItems:
        if not item.userDataUsageMeasurements:
            out.ignored_items += 1  # QOS_MONITORING, TSC_MNGT_INFO: no usage to store
            continue
        base = _item_columns(item, data.correlationId)
        out.reports.extend({**base, **_measurement_columns(m)} for m in item.userDataUsageMeasurements)
    return out


def _item_columns(item: NotificationItem, correlation_id: str | None) -> Row:
    return {
        "ts": item.timeStamp.timestamp(),
        "start_ts": item.startTime.timestamp() if item.startTime else None,
        **ue_identity(item),
        "event_type": str(item.eventType), "correlation_id": correlation_id,
    }


def _granularity(m: UserDataUsageMeasurements) -> GranularityOfMeasurement:
    # TS 29.564 clause 5.2.2.3.2: a report names its flow (PER_FLOW), its application (PER_APPLICATION) or
    # neither (PER_SESSION); the notification itself does not repeat the subscribed granularity.
    if m.flowInfo is not None:
        return GranularityOfMeasurement.PER_FLOW
    if m.appId is not None:
        return GranularityOfMeasurement.PER_APPLICATION
    return GranularityOfMeasurement.PER_SESSION


def _measurement_columns(m: UserDataUsageMeasurements) -> Row:
    row: Row = {"granularity": str(_granularity(m)), "app_id": m.appId}
    row.update(_flow_columns(m))
    vol = m.volumeMeasurement
    if vol is not None:
        for name, text in (("ul_bytes", vol.ulVolume), ("dl_bytes", vol.dlVolume), ("total_bytes", vol.totalVolume)):
            row[name] = parse_traffic_volume(text) if text is not None else None
        row.update(ul_packets=vol.ulNbOfPackets, dl_packets=vol.dlNbOfPackets, total_packets=vol.totalNbOfPackets)
    thr, stats = m.throughputMeasurement, m.throughputStatisticsMeasurement
    rates = {
        "ul_throughput_bps": thr.ulThroughput if thr else stats.ulAverageThroughput if stats else None,
        "dl_throughput_bps": thr.dlThroughput if thr else stats.dlAverageThroughput if stats else None,
    }
    packet_rates = {
        "ul_packet_rate": thr.ulPacketThroughput if thr else stats.ulAveragePacketThroughput if stats else None,
        "dl_packet_rate": thr.dlPacketThroughput if thr else stats.dlAveragePacketThroughput if stats else None,
    }
    row.update({k: parse_bit_rate(v) if v else None for k, v in rates.items()})
    row.update({k: parse_packet_rate(v) if v else None for k, v in packet_rates.items()})
    return row


def _single_port(ports: str | None) -> int | None:
    return int(ports) if ports is not None and ports.isdigit() else None


def _flow_columns(m: UserDataUsageMeasurements) -> Row:
    info = m.flowInfo
    if info is None or info.flowDescription is None:
        return {"flow_direction": str(info.flowDirection) if info and info.flowDirection else None}
    try:
        flow = parse_flow_description(info.flowDescription)
    except FlowDescriptionError as exc:
        raise ValueError(f"flowInfo.flowDescription: {exc}") from exc
    return {
        "flow_description": info.flowDescription,
        "flow_direction": str(info.flowDirection) if info.flowDirection else None,
        "proto": flow.protocol,
        "src_ip": flow.src, "src_port": _single_port(flow.src_ports),
        "dst_ip": flow.dst, "dst_port": _single_port(flow.dst_ports),
    }


def column_rows(batch: ColumnBatch) -> list[Row]:
    """The rows of a columnar batch; raises ``ValueError`` when its columns differ in length."""
    lengths = {name: len(values) for name, values in batch.columns.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"columns of unequal length: {lengths}")
    names = list(batch.columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*batch.columns.values(), strict=True)]


def _json(values: Mapping[str, Any]) -> str:
    return orjson.dumps(values, option=orjson.OPT_NON_STR_KEYS).decode() if values else ""


def flow_rows(batch: FlowRecordBatch) -> list[Row]:
    """Flow records (FLOW_SCHEMA columns plus supi/snssai/dnn) as ``flow_records`` rows; columns the table does
    not model are kept in ``extra`` (JSON), never dropped."""
    known = set(FLOW_RECORDS.column_names) - {"extra"}
    rows = []
    for record in column_rows(batch):
        row = {k: v for k, v in record.items() if k in known}
        if isinstance(row.get("snssai"), str):
            row["snssai"] = snssai_key(row["snssai"])
        row["extra"] = _json({k: v for k, v in record.items() if k not in known})
        rows.append(row)
    return rows


_FEATURE_KEYS = ("window_start", "window_end", "host", "supi", "snssai")


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def feature_rows(batch: UeFeatureBatch) -> list[Row]:
    """Per-UE feature rows: numeric columns become the feature map (NaN stored as null), other columns (such as
    ``top_destinations``) go to ``details`` (JSON). Raises ``ValueError`` for a row without ``host``."""
    records = column_rows(batch)
    numeric = {name for name, values in batch.columns.items()
               if name not in _FEATURE_KEYS and all(_is_number(v) for v in values)}
    rows = []
    for record in records:
        if not record.get("host"):
            raise ValueError(f"a feature row of window {batch.window_start} has no host")
        snssai = record.get("snssai")
        rows.append({
            "window_start": record.get("window_start", batch.window_start),
            "window_end": record.get("window_end", batch.window_end),
            "host": record["host"], "supi": record.get("supi"),
            "snssai": snssai_key(snssai) if isinstance(snssai, str) else None,
            "features": {k: _feature(record[k]) for k in sorted(numeric)},
            "details": _json({k: v for k, v in record.items() if k not in numeric and k not in _FEATURE_KEYS}),
        })
    return rows


def _feature(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


_SLICE_KEYS = ("window_start", "window_end", "scope", "snssai", "dnn")


def slice_feature_rows(batch: SliceFeatureBatch) -> list[Row]:
    """Per-slice / per-DNN feature rows: every column but the keys is a feature (NaN stored as null). Raises
    ``ValueError`` for a row without ``scope`` or a feature that is not a number."""
    names = [name for name in batch.columns if name not in _SLICE_KEYS]
    for name in names:
        if not all(_is_number(v) for v in batch.columns[name]):
            raise ValueError(f"slice feature {name!r} of window {batch.window_start} is not numeric")
    rows = []
    for record in column_rows(batch):
        scope = record.get("scope")
        if not isinstance(scope, str) or not scope:
            raise ValueError(f"a slice feature row of window {batch.window_start} has no scope")
        snssai = record.get("snssai")
        rows.append({
            "window_start": record.get("window_start", batch.window_start),
            "window_end": record.get("window_end", batch.window_end),
            "scope": scope, "snssai": snssai_key(snssai) if isinstance(snssai, str) else None, "dnn": record.get("dnn"),
            "features": {k: _feature(record[k]) for k in names},
        })
    return rows


def analytics_row(result: AnalyticsResult) -> Row:
    """An analytics result as one ``analytics_results`` row (also the shape the Data Relay streams)."""
    abnormal = result.abnormal
    details: dict[str, Any] = {}
    if abnormal is not None and abnormal.addt_meas:
        details["addtMeas"] = abnormal.addt_meas
    if result.ue_comm is not None:
        details["ueComm"] = result.ue_comm.model_dump(mode="json")
    return {
        "ts": result.generated_at.timestamp(), "event": result.event, "supi": result.supi, "ue_ip": result.ue_ip,
        "snssai": snssai_key(result.snssai), "dnn": result.dnn,
        "exception_id": abnormal.excep_id if abnormal else None, "model_version": result.model_version,
        "window_start": result.window_start.timestamp(), "window_end": result.window_end.timestamp(),
        "excep_level": abnormal.excep_level if abnormal else None,
        "ratio": float(abnormal.ratio) if abnormal and abnormal.ratio is not None else None,
        "confidence": float(abnormal.confidence) if abnormal else None,
        "score": abnormal.score if abnormal else None,
        "details": _json(details),
    }
