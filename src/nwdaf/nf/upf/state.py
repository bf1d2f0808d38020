"""The UPF's state: PDU sessions and accounting (the data plane), event exposure subscriptions, delivery, clock."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from nwdaf.lib.dataplane.accounting import UsageAccounting
from nwdaf.lib.dataplane.batch import PacketBatch, ip_to_pair
from nwdaf.lib.dataplane.sessions import PduSession, SessionTable
from nwdaf.nf.upf.appinfo import DomainObserver
from nwdaf.nf.upf.config import UpfConfig
from nwdaf.nf.upf.enforcement import Enforcer
from nwdaf.nf.upf.notifier import EeNotifier
from nwdaf.nf.upf.reports import EventSpec
from nwdaf.nf.upf.usage import Window
from nwdaf.platform.models.common import IpAddr, snssai_key
from nwdaf.platform.models.upf_ee import UpfEventSubscription


class DataClock:
    """The UPF's clock (event time), in ns since the epoch; see "Time" in ``docs/architecture.md``.

    Live traffic is stamped by the kernel, so the data clock is the wall clock. A recorded source (pcap, flow
    dataset, synthetic scenario) carries its own time. With ``rebase`` (the default ``upf.replay_time: rebased``)
    its packets are moved onto the wall clock: ``offset_ns`` = wall clock when the first packet arrives - that
    packet's recorded time, added to every packet, so gaps are kept and a paced replay at ``speed`` x runs ahead
    of the wall clock by exactly the recording's compression. Without it (``original``) the recorded times are
    kept and the offset is 0. Either way the clock is the newest packet time seen, advancing with the wall clock at
    ``speed`` x in between (a paced replay), or standing still (an unpaced one); before the first packet of a
    recording it has not started.
    """

    def __init__(self, *, live: bool, speed: float | None = None, rebase: bool = False) -> None:
        self.live = live
        self.speed = speed
        self.rebase = rebase and not live
        self._offset_ns: int | None = None if self.rebase else 0
        self._seen_ns: int | None = None
        self._seen_at = 0.0

    @property
    def offset_ns(self) -> int | None:
        """Service time - recording time (0 for live and ``original`` times; None before a rebased first packet)."""
        return self._offset_ns

    def align(self, batch: PacketBatch) -> PacketBatch:
        """``batch`` on the service clock (the offset is fixed by the first non-empty batch of a rebased source)."""
        if not self.rebase or not len(batch):
            return batch
        if self._offset_ns is None:
            self._offset_ns = time.time_ns() - int(batch.ts_ns.min())
        return replace(batch, ts_ns=batch.ts_ns + self._offset_ns)

    def recording_ns(self, service_ns: int) -> int:
        """A service time mapped back to the recording's own time."""
        return service_ns - (self._offset_ns or 0)

    def observe(self, newest_ns: int) -> None:
        if self._seen_ns is None or newest_ns > self._seen_ns:
            self._seen_ns = newest_ns
            self._seen_at = time.monotonic()

    def now_ns(self) -> int | None:
        if self.live:
            return time.time_ns()
        if self._seen_ns is None:
            return None
        if self.speed is None:
            return self._seen_ns
        return self._seen_ns + int((time.monotonic() - self._seen_at) * self.speed * 1e9)

    def stamp_ns(self) -> int:
        """Now on this clock for a control-plane event (a PDU session established or released): the data
        clock once it runs, the wall clock before."""
        now = self.now_ns()
        return now if now is not None else time.time_ns()

    def tick_s(self, report_tick_s: float) -> float:
        """Wall seconds between reporting ticks, so that one tick covers ``report_tick_s`` of data time (a
        ``repPeriod`` counts data seconds: a replay at 60 x reports 60 times as often)."""
        if self.live or not self.speed:
            return report_tick_s
        return report_tick_s / self.speed


@dataclass
class ReportingSubscription:
    """An accepted Nupf_EventExposure subscription and its reporting state."""

    subscription_id: str
    request: UpfEventSubscription
    events: tuple[EventSpec, ...]
    period_s: int | None
    """``repPeriod`` of a PERIODIC subscription; None for ONE_TIME (one report after the next tick)."""
    period_ticks: int
    """Reporting ticks per report: a report is due when its window has merged this many snapshots."""
    max_reports: int | None
    expiry: datetime | None
    muted: bool
    window: Window
    reports: int = 0
    notifications: int = 0
    muted_reports: int = 0

    @property
    def correlation_id(self) -> str:
        return self.request.notifyCorrelationId

    def due(self) -> bool:
        return self.window.ticks >= self.period_ticks

    def exhausted(self) -> bool:
        """Whether the subscription has ended: report count reached or a ONE_TIME report made."""
        if self.period_s is None:
            return self.reports >= 1
        return self.max_reports is not None and self.reports >= self.max_reports


def _ip_matches(target: IpAddr, session: PduSession) -> bool:
    if target.ipv4Addr is not None:
        return session.ue_ipv4 == target.ipv4Addr
    if session.ue_ipv6_prefix is None:
        return False
    prefix = ip_to_pair(session.ue_ipv6_prefix.split("/")[0])[0]
    address = target.ipv6Addr or (target.ipv6Prefix or "").split("/")[0]
    return bool(address) and ip_to_pair(address)[0] == prefix


def targets(request: UpfEventSubscription, sessions: list[PduSession]) -> NDArray[np.bool_]:
    """Which session indices a subscription covers: any UE, or the UE named by address/SUPI, within DNN/S-NSSAI."""
    mask = np.zeros(len(sessions), np.bool_)
    for s in sessions:
        if request.ueIpAddress is not None and not _ip_matches(request.ueIpAddress, s):
            continue
        if request.supi is not None and s.supi != request.supi:
            continue
        if request.dnn is not None and s.dnn != request.dnn:
            continue
        if request.snssai is not None and snssai_key(s.snssai) != request.snssai.to_key():
            continue
        mask[s.index] = True
    return mask


@dataclass
class PumpStats:
    """What the packet pump did."""

    batches: int = 0
    packets: int = 0
    forwarded: int = 0
    dropped: int = 0
    unmatched: int = 0
    ticks: int = 0
    reports_discarded: int = 0
    source_error: str | None = None
    source_done: bool = False
    source_rows_skipped: dict[str, int] = field(default_factory=dict)
    """Rows of a ``dataset`` source skipped as malformed, by reason (:mod:`nwdaf.lib.flows.skips`)."""


@dataclass
class UpfContext:
    """Everything the UPF's procedures work on; built once by :mod:`nwdaf.nf.upf.service`."""

    config: UpfConfig
    sessions: SessionTable
    accounting: UsageAccounting
    notifier: EeNotifier
    enforcer: Enforcer
    clock: DataClock
    subscriptions: dict[str, ReportingSubscription] = field(default_factory=dict)
    pump: PumpStats = field(default_factory=PumpStats)
    app_info: DomainObserver | None = None
    """nDPI application detection (``app_detection``): enables APPLICATION_RELATED_INFO."""
    closing: set[asyncio.Task[None]] = field(default_factory=set)
    """Channels of ended subscriptions still sending their last report."""
    api_root: str = ""
    """Where this UPF's SBI is reachable (for Location headers), e.g. ``http://127.0.0.1:8081``."""
