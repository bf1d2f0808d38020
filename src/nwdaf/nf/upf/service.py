"""UPF wiring: the one place that makes the UPF's parts and runs its background work.

Three routers share the UPF's SBI listener: Nupf_EventExposure (``/nupf-ee/v1``), the N4-like PDU session API
(``/nupf-n4/v1``) and the OAM view (``/nupf-oam/v1``). Two tasks run beside them: the packet pump (source ->
session classification -> accounting) and the reporting tick (period snapshots -> reports -> notifier).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from fastapi import APIRouter

from nwdaf.lib.dataplane.accounting import AccountingConfig, UsageAccounting
from nwdaf.lib.dataplane.batch import PacketBatch
from nwdaf.lib.dataplane.sessions import SessionTable
from nwdaf.nf.upf.api import event_exposure, n4, oam
from nwdaf.nf.upf.appinfo import AppDetectionError, DomainObserver
from nwdaf.nf.upf.config import UpfConfig
from nwdaf.nf.upf.enforcement import create_enforcer
from nwdaf.nf.upf.notifier import DeliveryPolicy, EeNotifier
from nwdaf.nf.upf.processor import establish_configured
from nwdaf.nf.upf.reporting import reporting_loop
from nwdaf.nf.upf.sources import DatasetSource, PacketSource, PcapSource, open_source
from nwdaf.nf.upf.state import DataClock, UpfContext
from nwdaf.platform.nf import ServiceContext
from nwdaf.platform.sbi import SbiClient

log = logging.getLogger("nwdaf.upf")


def process_batch(ctx: UpfContext, batch: PacketBatch) -> None:
    """Classify a batch against the PDU sessions and account its forwarded packets (vectorised, no I/O)."""
    match = ctx.accounting.process(batch)
    ctx.clock.observe(int(batch.ts_ns.max()))
    stats = ctx.pump
    stats.batches += 1
    stats.packets += len(batch)
    forwarded = int(match.delivered.sum())
    dropped = int((match.dropped | (match.forwarded & ~match.delivered)).sum())
    stats.forwarded += forwarded
    stats.dropped += dropped
    stats.unmatched += len(batch) - forwarded - dropped


async def _first_subscription(ctx: UpfContext, source: PacketSource, stop: asyncio.Event) -> bool:
    """Hold a recording until its first Nupf_EventExposure consumer (``upf.replay_start``); False on ``stop``."""
    if source.live or ctx.config.replay_start != "first_subscription" or ctx.subscriptions:
        return True
    log.info("packet source %s waits for the first event exposure subscription", source.name)
    while not ctx.subscriptions:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), ctx.config.idle_poll_s)
            return False
    return True


async def pump(ctx: UpfContext, source: PacketSource, stop: asyncio.Event) -> None:
    """Read batches in a worker thread and process them on the loop until the source ends or ``stop``."""
    if not await _first_subscription(ctx, source, stop):
        return
    batches = source.batches()
    try:
        while not stop.is_set():
            batch = await asyncio.to_thread(next, batches, None)
            if batch is None:
                ctx.pump.source_done = True
                log.info("packet source %s exhausted after %d packets", source.name, ctx.pump.packets)
                return
            if len(batch):
                process_batch(ctx, ctx.clock.align(batch))
    except Exception as exc:
        ctx.pump.source_error = f"{type(exc).__name__}: {exc}"
        log.exception("packet source %s failed", source.name)


@dataclass
class UpfService:
    """The UPF network function: event exposure, PDU sessions, and the data plane behind them."""

    ctx: UpfContext
    source: PacketSource | None
    base_urls: Mapping[str, str] = field(default_factory=dict)
    name: str = "upf"
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _threads: list[asyncio.Future[None]] = field(default_factory=list)

    def routers(self) -> list[tuple[str, APIRouter]]:
        return [
            (event_exposure.API_ROOT, event_exposure.create_router(self.ctx)),
            (n4.API_ROOT, n4.create_router(self.ctx)),
            (oam.API_ROOT, oam.create_router(self.ctx)),
        ]

    async def start(self) -> None:
        self.ctx.api_root = self.ctx.api_root or self.base_urls.get("upf", "")
        self._stop.clear()
        establish_configured(self.ctx, self.ctx.config.sessions)
        loop = asyncio.get_running_loop()
        if self.ctx.app_info is not None:
            self._threads.append(loop.run_in_executor(None, self.ctx.app_info.run))
        if self.source is not None:
            if isinstance(self.source, DatasetSource):
                self.ctx.pump.source_rows_skipped = dict(self.source.stats.skipped_by_reason)
            self.source.prepare(self.ctx.sessions)
            self._tasks.append(loop.create_task(pump(self.ctx, self.source, self._stop), name="upf-pump"))
            log.info("UPF data plane reading %s", self.source.name)
        self._tasks.append(loop.create_task(reporting_loop(self.ctx, self._stop), name="upf-reporting"))

    async def stop(self) -> None:
        self._stop.set()
        if self.source is not None:
            self.source.close()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        for thread in self._threads:
            await thread  # nDPI over a file ends by itself
        self._threads.clear()
        for closing in list(self.ctx.closing):
            closing.cancel()
        await asyncio.gather(*self.ctx.closing, return_exceptions=True)
        await self.ctx.notifier.close_all()


def create_upf_service(config: UpfConfig, client: SbiClient, *, base_urls: Mapping[str, str] | None = None,
                       source: PacketSource | None = None) -> UpfService:
    """Make the UPF from its config; ``source`` overrides the configured one (tests, benchmarks)."""
    sessions = SessionTable(learn_sessions=config.learn_sessions)
    chosen = source if source is not None else open_source(config)
    live = chosen.live if chosen is not None else True
    ctx = UpfContext(
        config=config,
        sessions=sessions,
        accounting=UsageAccounting(sessions, AccountingConfig(**config.accounting.model_dump())),
        notifier=EeNotifier(client, DeliveryPolicy(config.queue_size, config.notify_attempts, config.notify_backoff_s,
                                                   config.notify_backoff_max_s)),
        enforcer=create_enforcer(config.enforcement),
        clock=DataClock(live=live, speed=chosen.speed if chosen is not None else None,
                        rebase=config.replay_time == "rebased"),
        app_info=_app_detection(config, chosen),
    )
    if ctx.app_info is not None:
        ctx.app_info.to_recording = ctx.clock.recording_ns  # nDPI reads the file's own times
    return UpfService(ctx, chosen, base_urls if base_urls is not None else {})


def _app_detection(config: UpfConfig, source: PacketSource | None) -> DomainObserver | None:
    if not config.app_detection:
        return None
    if not isinstance(source, PcapSource):
        raise AppDetectionError("app_detection needs a pcap source (nDPI dissects payloads, which live "
                                      "AF_PACKET snapshots and synthetic traffic do not carry)")
    return DomainObserver(source.path)


def build_upf(ctx: ServiceContext, config: UpfConfig) -> UpfService:
    """The runtime builder, configured by the ``upf`` section."""
    return create_upf_service(config, ctx.client, base_urls=ctx.base_urls)
