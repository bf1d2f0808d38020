"""Prometheus metrics of the analytics exposure, in their own registry (bridged into the NWDAF app's
``/metrics`` by the router lifespan, see :func:`nwdaf.nf.anlf.api.events_subscription.create_router`)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENESS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class AnlfMetrics:
    """Subscriptions, notification outcomes and how late periodic reports leave compared with their due time."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self.lateness = Histogram(
            "nwdaf_anlf_periodic_report_lateness_seconds",
            "Delay between a PERIODIC report's due time (anchor + k * repetitionPeriod) and its POST leaving",
            registry=self.registry, buckets=LATENESS_BUCKETS,
        )
        self.notifications = Counter(
            "nwdaf_anlf_notifications", "Notifications to consumers by outcome (delivered, failed, dropped)",
            ["outcome"], registry=self.registry,
        )
        self.subscriptions = Gauge(
            "nwdaf_anlf_subscriptions", "Active Nnwdaf_EventsSubscription subscriptions", registry=self.registry
        )
        self.terminated = Counter(
            "nwdaf_anlf_subscriptions_terminated", "Subscriptions ended by the NWDAF, by reason", ["reason"],
            registry=self.registry,
        )
        self.skipped_ticks = Counter(
            "nwdaf_anlf_periodic_ticks_skipped",
            "PERIODIC reports not sent because the scheduler fell more than one period behind",
            registry=self.registry,
        )
        self.results = Counter(
            "nwdaf_anlf_analytics_results", "AnalyticsResult messages read from the bus by outcome",
            ["outcome"], registry=self.registry,
        )
