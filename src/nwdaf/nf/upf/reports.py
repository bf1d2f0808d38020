"""Turn a subscription's merged usage into Nupf_EventExposure ``NotificationData`` (TS 29.564 clause 6.1.6.2).

One ``NotificationItem`` per UE and subscribed event; its ``userDataUsageMeasurements`` has one entry per flow
(``flowInfo``), per application (``appId``) or one for the PDU session (neither), as the granularity asks.
USER_DATA_USAGE_MEASURES carries ``volumeMeasurement`` / ``throughputMeasurement`` (rate over the window);
USER_DATA_USAGE_TRENDS carries ``volumeMeasurement`` / ``throughputStatisticsMeasurement`` (average over the
sub-intervals with traffic, and peak sub-interval).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from nwdaf.lib.dataplane.apps import app_name
from nwdaf.lib.dataplane.batch import format_ip
from nwdaf.lib.dataplane.flows import FlowKeys
from nwdaf.lib.dataplane.sessions import PduSession
from nwdaf.nf.upf.appinfo import DomainObserver
from nwdaf.nf.upf.filters import RowFilter
from nwdaf.nf.upf.usage import Level, Usage
from nwdaf.platform.models.common import Snssai, format_datetime, to_wire
from nwdaf.platform.models.flows import FlowDirection, FlowInformation, IpFlow, format_flow_description
from nwdaf.platform.models.units import format_bit_rate, format_packet_rate, format_traffic_volume
from nwdaf.platform.models.upf_ee import (
    ApplicationRelatedInformation,
    EventType,
    MeasurementType,
    NotificationItem,
    ThroughputMeasurement,
    ThroughputStatisticsMeasurement,
    UserDataUsageMeasurements,
    VolumeMeasurement,
)

_PORTED = (6, 17, 132)


@dataclass(frozen=True, slots=True)
class EventSpec:
    """One subscribed event, normalised: what to measure, at which level, restricted to which rows."""

    type: EventType
    measurements: frozenset[MeasurementType]
    level: Level
    rows: RowFilter = field(default_factory=RowFilter)


def to_datetime(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC)


def _volume(u: Usage, i: int) -> VolumeMeasurement:
    ul, dl = int(u.ul_bytes[i]), int(u.dl_bytes[i])
    ulp, dlp = int(u.ul_packets[i]), int(u.dl_packets[i])
    return VolumeMeasurement(
        totalVolume=format_traffic_volume(ul + dl), ulVolume=format_traffic_volume(ul),
        dlVolume=format_traffic_volume(dl), totalNbOfPackets=ulp + dlp, ulNbOfPackets=ulp, dlNbOfPackets=dlp,
    )


def _throughput(u: Usage, i: int, period_s: float) -> ThroughputMeasurement:
    return ThroughputMeasurement(
        ulThroughput=format_bit_rate(float(u.ul_bytes[i]) * 8 / period_s),
        dlThroughput=format_bit_rate(float(u.dl_bytes[i]) * 8 / period_s),
        ulPacketThroughput=format_packet_rate(float(u.ul_packets[i]) / period_s),
        dlPacketThroughput=format_packet_rate(float(u.dl_packets[i]) / period_s),
    )


def _statistics(u: Usage, i: int) -> ThroughputStatisticsMeasurement:
    active = float(u.active_s[i])

    def avg(amount: float) -> float:
        return amount / active if active > 0 else 0.0

    return ThroughputStatisticsMeasurement(
        ulAverageThroughput=format_bit_rate(avg(float(u.ul_bytes[i]) * 8)),
        dlAverageThroughput=format_bit_rate(avg(float(u.dl_bytes[i]) * 8)),
        ulPeakThroughput=format_bit_rate(float(u.ul_peak_bps[i])),
        dlPeakThroughPut=format_bit_rate(float(u.dl_peak_bps[i])),
        ulAveragePacketThroughput=format_packet_rate(avg(float(u.ul_packets[i]))),
        dlAveragePacketThroughput=format_packet_rate(avg(float(u.dl_packets[i]))),
        ulPeakPacketThroughput=format_packet_rate(float(u.ul_peak_pps[i])),
        dlPeakPacketThroughput=format_packet_rate(float(u.dl_peak_pps[i])),
    )


def flow_information(key: Sequence[int]) -> FlowInformation:
    """``flowInfo`` of a packed flow key (:meth:`FlowKeys.packed`), written downlink-wise as TS 29.212 flow
    descriptions are."""
    k = FlowKeys.unpack(np.array([key], np.uint64))
    proto, ue_port, remote_port = int(k.proto[0]), int(k.ue_port[0]), int(k.remote_port[0])
    ue, remote = format_ip(*k.ue_addr[0].tolist()), format_ip(*k.remote_addr[0].tolist())
    ported = proto in _PORTED
    flow = IpFlow(proto, remote, ue, str(remote_port) if ported else None, str(ue_port) if ported else None)
    return FlowInformation(flowDescription=format_flow_description(flow), flowDirection=FlowDirection.BIDIRECTIONAL)


def measurement(event: EventSpec, u: Usage, i: int, period_s: float,
                app: ApplicationRelatedInformation | None = None) -> UserDataUsageMeasurements:
    """One ``UserDataUsageMeasurements`` entry for row ``i`` (``app``: the UE's domains, per-session only)."""
    m = UserDataUsageMeasurements(applicationRelatedInformation=app)
    if event.level is Level.FLOW:
        m.flowInfo = flow_information(u.keys[i].tolist())
    elif event.level is Level.APPLICATION:
        m.appId = app_name(int(u.keys[i, 1]))
    if MeasurementType.VOLUME_MEASUREMENT in event.measurements:
        m.volumeMeasurement = _volume(u, i)
    if MeasurementType.THROUGHPUT_MEASUREMENT in event.measurements:
        if event.type is EventType.USER_DATA_USAGE_TRENDS:
            m.throughputStatisticsMeasurement = _statistics(u, i)
        else:
            m.throughputMeasurement = _throughput(u, i, period_s)
    return m


def _with_idle_sessions(u: Usage, active_targets: Iterable[int]) -> Usage:
    """PER_SESSION reports every targeted active session, idle ones with zero usage."""
    idle = sorted(set(active_targets) - set(u.session.tolist()))
    if not idle:
        return u
    n = len(idle)
    rows = Usage(keys=np.array(idle, np.uint64)[:, None], session=np.array(idle, np.int32),
                 **{name: np.zeros(n, np.float64) for name in
                    ("ul_bytes", "dl_bytes", "ul_packets", "dl_packets", "active_s", "ul_peak_bps", "dl_peak_bps",
                     "ul_peak_pps", "dl_peak_pps")})
    return u.merge(rows)


def ue_fields(session: PduSession) -> dict[str, object]:
    """The UE identification and PDU session attributes a NotificationItem carries."""
    fields: dict[str, object] = {"supi": session.supi, "dnn": session.dnn,
                                 "snssai": Snssai(sst=session.snssai.sst, sd=session.snssai.sd)}
    if session.ue_ipv4 is not None:
        fields["ueIpv4Addr"] = session.ue_ipv4
    if session.ue_ipv6_prefix is not None:
        fields["ueIpv6Prefix"] = session.ue_ipv6_prefix
    return fields


@dataclass(frozen=True, slots=True)
class ReportContext:
    """What every item of one report shares."""

    start_ns: int
    end_ns: int
    sessions: Sequence[PduSession]
    active_targets: frozenset[int]
    app_info: DomainObserver | None = None

    def application(self, event: EventSpec, session: PduSession) -> ApplicationRelatedInformation | None:
        """The UE's domains in the window, when the event asks for them (APPLICATION_RELATED_INFO)."""
        if self.app_info is None or session.ue_ipv4 is None or (
                MeasurementType.APPLICATION_RELATED_INFO not in event.measurements):
            return None
        return self.app_info.information(session.ue_ipv4, self.start_ns, self.end_ns)

    @property
    def period_s(self) -> float:
        return max((self.end_ns - self.start_ns) / 1e9, 1e-3)


def _identity_wire(session: PduSession) -> dict[str, Any]:
    """:func:`ue_fields` as the wire object (what ``to_wire`` makes of them), without a model round trip."""
    fields: dict[str, Any] = {"supi": session.supi, "dnn": session.dnn,
                              "snssai": to_wire(Snssai(sst=session.snssai.sst, sd=session.snssai.sd))}
    if session.ue_ipv4 is not None:
        fields["ueIpv4Addr"] = session.ue_ipv4
    if session.ue_ipv6_prefix is not None:
        fields["ueIpv6Prefix"] = session.ue_ipv6_prefix
    return fields


def event_items(event: EventSpec, usage: Usage, ctx: ReportContext, max_per_item: int) -> Iterator[dict[str, Any]]:
    """The items of one event as wire objects: per UE, its measurements in chunks of at most ``max_per_item``."""
    usage = event.rows.apply(usage, event.level)
    if event.level is Level.SESSION:
        usage = _with_idle_sessions(usage, ctx.active_targets)
    order = np.lexsort((np.arange(len(usage)), usage.session))
    start, end = to_datetime(ctx.start_ns), to_datetime(ctx.end_ns)
    # Run boundaries of equal sessions; none when the window saw no traffic at all.
    changes = np.diff(usage.session[order]) != 0
    bounds: list[int] = np.flatnonzero(np.r_[True, changes, True]).tolist() if len(usage) else []
    for lo, hi in itertools.pairwise(bounds):
        session = ctx.sessions[int(usage.session[order[lo]])]
        if session.ue_ipv4 is None and session.ue_ipv6_prefix is None:
            continue  # a TEID-only session has no UE address to report under (NotificationItem needs one)
        rows = order[lo:hi]
        app = ctx.application(event, session)
        for c in range(0, len(rows), max_per_item):
            measures = [measurement(event, usage, int(i), ctx.period_s, app) for i in rows[c:c + max_per_item]]
            yield to_wire(NotificationItem(eventType=event.type, timeStamp=end, startTime=start,
                                           userDataUsageMeasurements=measures, **ue_fields(session)))
    # A targeted UE without flows in the window is still reported, without measurements: the consumer learns
    # it was idle (and that the subscription is alive), rather than hearing nothing. Built straight as wire
    # objects: a UPF with many quiet sessions sends mostly these (the contract tests validate them too).
    head = {"eventType": event.type.value, "timeStamp": format_datetime(end), "startTime": format_datetime(start)}
    for index in sorted(ctx.active_targets - set(usage.session.tolist())):
        session = ctx.sessions[index]
        if session.ue_ipv4 is not None or session.ue_ipv6_prefix is not None:
            yield {**head, **_identity_wire(session)}


def pack(items: Iterable[dict[str, Any]], correlation_id: str, max_measurements: int) -> list[dict[str, Any]]:
    """Wire ``NotificationData`` bodies of at most ``max_measurements`` measurements each (at least one item)."""
    out: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []
    size = 0
    for item in items:
        n = len(item.get("userDataUsageMeasurements") or ())
        if current and size + n > max_measurements:
            out.append({"notificationItems": current, "correlationId": correlation_id})
            current, size = [], 0
        current.append(item)
        size += n
    if current:
        out.append({"notificationItems": current, "correlationId": correlation_id})
    return out
