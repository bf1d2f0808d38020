"""Settings of the NWDAF analytics exposure (AnLF northbound): notification delivery, scheduling, findings state.

The ``anlf`` section of :class:`nwdaf.app.config.Settings` (YAML ``anlf:``, environment ``NWDAF_ANLF__*``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class AnlfSettings(BaseModel):
    """Nnwdaf_EventsSubscription / Nnwdaf_AnalyticsInfo producer settings."""

    model_config = ConfigDict(extra="forbid")

    store_file: str = "anlf-subscriptions.sqlite3"
    """SQLite file (relative to ``settings.data_dir``) holding the subscriptions; ``:memory:`` keeps none."""
    max_concurrent_notifications: int = Field(64, ge=1, le=10_000)
    """Outbound notification POSTs in flight at once, across all subscriptions."""
    notify_attempts: int = Field(3, ge=1, le=10)
    """Attempts per notification (first try + retries with exponential backoff)."""
    notify_backoff_s: float = Field(0.2, ge=0)
    failures_before_termination: int = Field(3, ge=1, le=1000)
    """Consecutive undeliverable notifications after which the subscription is terminated and removed."""
    max_queued_per_subscription: int = Field(32, ge=1, le=10_000)
    """Undelivered notifications kept per subscription; beyond that the oldest is dropped (and counted)."""
    finding_ttl_s: float = Field(300.0, gt=0)
    """How long a finding stays current after its analytics window ended (its ``expiry``)."""
    max_findings: int = Field(100_000, ge=1)
    """Latest findings kept (one per UE, event and exception); the least recently updated go first."""
    progress_flush_s: float = Field(1.0, gt=0)
    """How often report counters (for ``maxReportNbr``) are written to the store."""
    min_repetition_period_s: int = Field(1, ge=1)
    """Shortest ``repetitionPeriod`` accepted for PERIODIC subscriptions."""
    detection_group_s: float = Field(0.05, ge=0, le=10)
    """Reports on detection (THRESHOLD / ON_EVENT_DETECTION): how long after a subscription's first new finding
    its notification waits for the others, so that the findings of one analytics window (published together,
    read from several bus partitions) go in one notification. A subscription's ``evtReq.grpRepTime`` overrides
    it; 0 sends as soon as the bus handler yields (one notification per bus batch)."""
    notification_client: Literal["http1", "httpx"] = "http1"
    """How the SBI client carries this NF's notifications (``SbiClient.send_notification``): ``http1`` sends those
    to ``http://`` callbacks over the lean pooled HTTP/1.1 client (:mod:`nwdaf.platform.sbi.callback`, several
    times httpx's throughput); ``httpx`` sends every notification over httpx (HTTP/2 with
    ``sbi_client.h2c_prior_knowledge``). ``https://`` callbacks always use httpx; a transport injected into the SBI
    client (tests) carries them all."""
