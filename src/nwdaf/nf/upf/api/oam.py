"""UPF operations view, mounted at ``/nupf-oam/v1`` (ours): data plane and notification delivery statistics.

The same figures are exported at ``/metrics``: the router's lifespan registers a Prometheus collector with the
NF app's registry, so the counters appear next to the SBI request metrics without a second endpoint.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from nwdaf.nf.upf.state import UpfContext

API_ROOT = "/nupf-oam/v1"


def upf_stats(ctx: UpfContext) -> dict[str, Any]:
    """A JSON view of the pump, the data plane and every subscription's delivery."""
    sessions = ctx.sessions.sessions
    subs = {}
    for sub_id, sub in ctx.subscriptions.items():
        channel = ctx.notifier.channels.get(sub_id)
        subs[sub_id] = {
            "correlationId": sub.correlation_id, "periodS": sub.period_s, "reports": sub.reports,
            "notifications": sub.notifications, "mutedReports": sub.muted_reports,
            "queueDepth": channel.depth if channel else 0,
            "delivery": channel.stats.to_dict() if channel else None,
        }
    acct = ctx.accounting
    return {
        "source": ctx.config.source,
        "pump": {**vars(ctx.pump)},
        "clock": {"live": ctx.clock.live, "speed": ctx.clock.speed, "rebased": ctx.clock.rebase,
                  "offsetNs": ctx.clock.offset_ns, "nowNs": ctx.clock.now_ns()},
        "dataplane": {
            "packetsForwarded": acct.packets, "bytesForwarded": acct.bytes, "liveFlows": acct.flows.live_count,
            "sessionsActive": sum(1 for s in sessions if s.active), "sessionsReleased": sum(
                1 for s in sessions if not s.active),
            "droppedPackets": sum(s.dropped_packets for s in sessions),
            "droppedBytes": sum(s.dropped_bytes for s in sessions),
            "unmatchedPackets": ctx.sessions.unmatched_packets,
        },
        "delivery": ctx.notifier.totals().to_dict(),
        "subscriptions": subs,
    }


class UpfCollector(Collector):
    """Prometheus view of :func:`upf_stats` (read at scrape time, nothing to update on the hot path)."""

    def __init__(self, ctx: UpfContext) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        ctx = self.ctx
        sessions = ctx.sessions.sessions
        yield CounterMetricFamily("upf_packets_forwarded", "Packets forwarded and accounted",
                                  value=ctx.accounting.packets)
        yield CounterMetricFamily("upf_bytes_forwarded", "IP bytes forwarded and accounted",
                                  value=ctx.accounting.bytes)
        yield CounterMetricFamily("upf_packets_dropped", "Packets of released PDU sessions dropped",
                                  value=sum(s.dropped_packets for s in sessions))
        yield CounterMetricFamily("upf_packets_unmatched", "Packets that belong to no PDU session",
                                  value=ctx.sessions.unmatched_packets)
        yield GaugeMetricFamily("upf_pdu_sessions_active", "Active PDU sessions",
                                value=sum(1 for s in sessions if s.active))
        yield GaugeMetricFamily("upf_ee_subscriptions", "Nupf_EventExposure subscriptions",
                                value=len(ctx.subscriptions))
        outcomes = CounterMetricFamily("upf_ee_notifications", "Notifications by outcome", labels=["outcome"])
        totals = ctx.notifier.totals()
        for outcome in ("enqueued", "delivered", "dropped_queue_full", "dropped_undeliverable", "rejected",
                        "discarded_on_close", "retries"):
            outcomes.add_metric([outcome], getattr(totals, outcome))
        yield outcomes
        skipped = CounterMetricFamily("upf_source_rows_skipped", "Malformed rows of a dataset source skipped, by "
                                      "reason", labels=["reason"])
        for reason, count in ctx.pump.source_rows_skipped.items():
            skipped.add_metric([reason], count)
        yield skipped
        depth = GaugeMetricFamily("upf_ee_queue_depth", "Queued notifications per subscription",
                                  labels=["subscription_id"])
        for sub_id, channel in ctx.notifier.channels.items():
            depth.add_metric([sub_id], channel.depth)
        yield depth


def create_router(ctx: UpfContext) -> APIRouter:
    collector = UpfCollector(ctx)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        metrics = getattr(app.state, "metrics", None)
        registry = getattr(metrics, "registry", None)
        if registry is not None:
            registry.register(collector)
        try:
            yield
        finally:
            if registry is not None:
                registry.unregister(collector)

    router = APIRouter(tags=["UPF OAM"], lifespan=lifespan)

    @router.get("/stats", summary="Data plane and notification delivery statistics")
    async def stats() -> dict[str, Any]:
        return upf_stats(ctx)

    return router
