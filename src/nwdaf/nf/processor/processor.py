"""Processor procedures: raw UPF notifications → flow records, per-UE and per-slice/DNN window features on the bus."""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

from nwdaf.lib.features import scoped_slice_features, ue_window_features
from nwdaf.lib.features._common import WINDOW
from nwdaf.lib.features.answered import AnsweredFlows, solicited
from nwdaf.lib.features.beacons import ContactHistory
from nwdaf.lib.features.host import recent_host_features, unanswered_out_share
from nwdaf.lib.features.peers import rule_window_features
from nwdaf.lib.flows.convert import flow_rows
from nwdaf.lib.flows.notification import Measurements, NotificationDecoder
from nwdaf.nf.processor.config import ProcessorSettings
from nwdaf.nf.processor.windows import ClosedWindow, SlidingWindows
from nwdaf.platform.bus import EventBus, Message, decode, encode, topics
from nwdaf.platform.events import (
    FLOW_RECORD_BATCH,
    SLICE_FEATURE_BATCH,
    UE_FEATURE_BATCH,
    FlowRecordBatch,
    NfNotification,
    SliceFeatureBatch,
    UeFeatureBatch,
)

log = logging.getLogger("nwdaf.processor")

TOP_DESTINATIONS = 5
"""Most-used peers per UE carried with the features (evidence for ``addtMeasInfo`` in abnormal behaviour)."""


def columns_of(df: pl.DataFrame) -> dict[str, list[Any]]:
    """A frame as the bus's JSON columns (name -> values), in one conversion."""
    return df.to_dict(as_series=False)


def ue_features(window: ClosedWindow, window_s: float, beacons: pl.DataFrame | None = None,
                recent_min_s: float = 1e-3) -> pl.DataFrame:
    """Features of the UEs in ``window`` (rows for DN-side hosts dropped), with the SUPI, S-NSSAI (key) and DNN of
    the UE's PDU session: the engines' findings carry them, so subscriptions can filter on slice and DNN.
    ``beacons``: the hosts' beaconing features across windows (:meth:`ContactHistory.features`), joined on;
    ``recent_min_s``: the least length the newest report period counts as for its rates
    (:attr:`ProcessorSettings.recent_min_s`)."""
    flows = solicited(window.flows)
    if flows.is_empty():
        return pl.DataFrame()
    feats = ue_window_features(flows, window_s).join(unanswered_out_share(flows), on="host", how="left")
    feats = feats.join(rule_window_features(flows, window_s).drop(WINDOW), on="host", how="left")
    if beacons is not None and not beacons.is_empty():
        feats = feats.join(beacons, on="host", how="left")
    recent = solicited(window.recent) if window.recent is not None else None
    if recent is not None and window.recent_start is not None and not recent.is_empty():
        period_s = max(window.end - window.recent_start, recent_min_s)
        feats = feats.join(recent_host_features(recent, period_s), on="host", how="left")
    ues = (
        flows.filter(pl.col("supi").is_not_null())
        .sort("pkts_total", descending=True)
        .group_by("src_ip")
        .agg(
            pl.col("supi").first(),
            pl.col("snssai").drop_nulls().first(),
            pl.col("dnn").drop_nulls().first(),
            pl.col("dst_ip").unique(maintain_order=True)
            .head(TOP_DESTINATIONS).alias("top_destinations"),
        )
    )
    return feats.join(ues.rename({"src_ip": "host"}), on="host", how="inner").sort("host")


def slice_features(window: ClosedWindow, window_s: float) -> pl.DataFrame:
    """Per-slice, per-DNN and per slice + DNN features of ``window`` (the window's bounds travel with the batch)."""
    if window.flows.is_empty():
        return pl.DataFrame()
    return scoped_slice_features(window.flows, window_s).drop(WINDOW)


@dataclass
class ProcessorStats:
    notifications: int = 0
    duplicates: int = 0
    bad_rows: int = 0
    """Usage measurements left out because they could not be read (each one logged with its reason)."""
    windows: int = 0
    flow_records: int = 0
    feature_rows: int = 0
    slice_feature_rows: int = 0


@dataclass
class Processor:
    """Stateful stream step; the feature maths stays in pure functions."""

    bus: EventBus
    settings: ProcessorSettings
    windows: SlidingWindows = field(init=False)
    contacts: ContactHistory = field(init=False)
    """Per-host contacts over ``beacon_lookback_s`` (bounded), for beaconing across windows."""
    answered: AnsweredFlows = field(init=False)
    """5-tuples answered within ``beacon_lookback_s``: a later window's record of one is not unanswered."""
    stats: ProcessorStats = field(default_factory=ProcessorStats)
    decoder: NotificationDecoder = field(default_factory=NotificationDecoder)
    """The columnar NotificationData decoder, with its memo of parsed strings (flows repeat every period)."""
    _seen: OrderedDict[str, None] = field(default_factory=OrderedDict)

    def __post_init__(self) -> None:
        self.windows = SlidingWindows(self.settings.window_s, self.settings.hop_s)
        lookback = self.settings.beacon_lookback_s
        self.contacts = ContactHistory(lookback_s=lookback, idle_s=min(60.0, lookback / 2))
        self.answered = AnsweredFlows(lookback_s=lookback)

    async def on_message(self, msg: Message) -> None:
        env = decode(msg.value, NfNotification)
        if self._is_duplicate(env.id):
            self.stats.duplicates += 1
            return
        self.stats.notifications += 1
        decoded = self.decoder(env.payload.body)
        if decoded.bad:
            self._count_bad(env.id, decoded)
        window = self.windows.add(flow_rows(decoded.frame))
        if window is not None:
            await self.publish_window(window)

    def _count_bad(self, envelope_id: str, decoded: Measurements) -> None:
        self.stats.bad_rows += len(decoded.bad)
        first = decoded.bad[0]
        log.warning("notification %s: %d usage measurement(s) left out, %d used; first: item %s measurement %s: %s",
                    envelope_id, len(decoded.bad), decoded.frame.height, first.item, first.measurement, first.reason)

    def _is_duplicate(self, envelope_id: str) -> bool:
        if envelope_id in self._seen:
            return True
        self._seen[envelope_id] = None
        while len(self._seen) > self.settings.dedup_ids:
            self._seen.popitem(last=False)
        return False

    async def publish_window(self, window: ClosedWindow) -> None:
        self.stats.windows += 1
        if not window.update:
            await self._publish_flows(window)  # as measured: the marks below are for the features only
        window = self._marked(window)
        if window.recent is not None and not window.recent.is_empty():
            # the newest period: a 5-tuple still active continues its contact; a probe the UE only received is none
            self.contacts.add(solicited(window.recent))
        feats = ue_features(window, self.settings.window_s, self.contacts.features(window.end),
                            self.settings.recent_min_s)
        if not feats.is_empty():
            fb = UeFeatureBatch(window_start=window.start, window_end=window.end, columns=columns_of(feats))
            await self.bus.publish(topics.UE_FEATURES, encode(fb, type_=UE_FEATURE_BATCH, source="processor"))
            self.stats.feature_rows += feats.height
        if self.settings.slice_features:
            await self._publish_slices(window)

    def _marked(self, window: ClosedWindow) -> ClosedWindow:
        """The window with its records of conversations answered in earlier windows marked (:class:`AnsweredFlows`)."""
        recent = window.recent
        if recent is not None:
            recent = self.answered.mark(recent, window.end, remember=False)
        return replace(window, flows=self.answered.mark(window.flows, window.end), recent=recent)

    async def _publish_flows(self, window: ClosedWindow) -> None:
        flows = window.flows
        step = self.settings.flow_records_per_message
        for offset in range(0, max(flows.height, 1), step):
            chunk = columns_of(flows.slice(offset, step))
            batch = FlowRecordBatch(window_start=window.start, window_end=window.end, columns=chunk)
            await self.bus.publish(topics.FLOW_RECORDS, encode(batch, type_=FLOW_RECORD_BATCH, source="processor"))
        self.stats.flow_records += flows.height

    async def _publish_slices(self, window: ClosedWindow) -> None:
        feats = slice_features(window, self.settings.window_s)
        if feats.is_empty():
            return
        sb = SliceFeatureBatch(window_start=window.start, window_end=window.end, columns=columns_of(feats))
        await self.bus.publish(topics.SLICE_FEATURES, encode(sb, type_=SLICE_FEATURE_BATCH, source="processor"))
        self.stats.slice_feature_rows += feats.height
