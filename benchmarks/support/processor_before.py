"""The processor's hot path as it was before the columnar decoder (commit 90deab5), kept to measure against in the
same run: a per-item, per-measurement Python loop with a regex and a Decimal parse per row, windows that merge
every row of the window again on each emission, and columns converted one ``to_list`` at a time."""

from __future__ import annotations

import ipaddress
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from nwdaf.lib.flows.convert import USAGE_FIELDS, aggregate_flows, parse_flow_description, usage_frame
from nwdaf.nf.processor import processor as processor_module
from nwdaf.nf.processor.processor import Processor
from nwdaf.nf.processor.windows import ClosedWindow
from nwdaf.platform.bus import Message, decode
from nwdaf.platform.events import NfNotification
from nwdaf.platform.models.units import parse_traffic_volume


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _ue_test(item: Mapping[str, Any]) -> Callable[[str], bool]:
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
        if is_ue(dst) and not is_ue(src):
            src, sport, dst, dport = dst, dport, src, sport
        for name, value in (
            ("start_ts", start), ("end_ts", end), ("proto", proto), ("ue_ip", src), ("ue_port", sport),
            ("remote_ip", dst), ("remote_port", dport),
            ("ul_packets", int(vol.get("ulNbOfPackets", 0))), ("dl_packets", int(vol.get("dlNbOfPackets", 0))),
            ("ul_bytes", parse_traffic_volume(vol["ulVolume"]) if "ulVolume" in vol else 0),
            ("dl_bytes", parse_traffic_volume(vol["dlVolume"]) if "dlVolume" in vol else 0),
            ("supi", item.get("supi")), ("snssai", item.get("snssai") if isinstance(item.get("snssai"), dict)
                                         else None), ("dnn", item.get("dnn")),
        ):
            out[name].append(value)


def notification_frame(body: Mapping[str, Any]) -> pl.DataFrame:
    """The former per-row decoder of a NotificationData body into flow rows."""
    columns: dict[str, list[Any]] = {name: [] for name in USAGE_FIELDS}
    for item in body.get("notificationItems", []):
        _add_item(columns, item)
    return usage_frame(columns)


@dataclass
class FullWindows:
    """The former SlidingWindows: every row kept, each window merged again from all of them."""

    window_s: float
    hop_s: float = 0.0
    frames: deque[pl.DataFrame] = field(default_factory=deque)
    last_end: float | None = None

    def add(self, rows: pl.DataFrame) -> ClosedWindow | None:
        if rows.is_empty():
            return None
        self.frames.append(rows)
        end = float(rows["end_ts"].max())  # type: ignore[arg-type]
        last = self.last_end
        if last is not None and end == last:
            return self.window(end, update=True)
        if last is not None and (end < last or end - last < self.hop_s):
            return None
        self.last_end = end
        while self.frames and float(self.frames[0]["end_ts"].max()) <= end - self.window_s:  # type: ignore[arg-type]
            self.frames.popleft()
        return self.window(end)

    def window(self, end: float, update: bool = False) -> ClosedWindow:
        start = end - self.window_s
        current = pl.concat(list(self.frames)).filter(pl.col("end_ts") > start)
        newest = current.filter(pl.col("end_ts") >= end)
        recent_start = float(newest["start_ts"].min())  # type: ignore[arg-type]
        return ClosedWindow(start, end, aggregate_flows(current, start), recent_start,
                            aggregate_flows(newest, recent_start), update)


def columns_of(df: pl.DataFrame) -> dict[str, list[Any]]:
    return {name: df[name].to_list() for name in df.columns}


@dataclass
class ProcessorBefore(Processor):
    """:class:`Processor` with the former decoder and windows."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.windows = FullWindows(self.settings.window_s, self.settings.hop_s)  # type: ignore[assignment]

    async def on_message(self, msg: Message) -> None:
        env = decode(msg.value, NfNotification)
        if self._is_duplicate(env.id):
            self.stats.duplicates += 1
            return
        self.stats.notifications += 1
        try:
            rows = notification_frame(env.payload.body)
        except (KeyError, ValueError):
            self.stats.bad_rows += 1
            return
        window = self.windows.add(rows)
        if window is not None:
            await self.publish_window(window)


@contextmanager
def former_columns() -> Iterator[None]:
    """The processor's bus columns built one ``to_list`` per column, as before, while the block runs."""
    current = processor_module.columns_of
    processor_module.columns_of = columns_of
    try:
        yield
    finally:
        processor_module.columns_of = current
