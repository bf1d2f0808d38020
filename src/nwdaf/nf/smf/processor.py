"""SMF policy procedures: act on NWDAF abnormal-behaviour analytics by releasing the UE's PDU sessions.

For each SUPI of each ``AbnormalBehaviour`` the guardrails run in a fixed order — exception acted on, allowlist,
minimum confidence, sessions known to the UPF, release rate cap, dry-run — and exactly one audited decision
results. Why releasing at the UPF: TS 23.502 clause 4.3.4.2 (SMF-requested PDU Session Release) starts with the
SMF's N4 Session Release; here the N4 side is the UPF's N4-like API (:mod:`nwdaf.nf.smf.consumer.upf_n4`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nwdaf.nf.smf.audit import AuditEntry, AuditLog, Decision
from nwdaf.nf.smf.config import SmfSettings
from nwdaf.nf.smf.consumer.upf_n4 import N4PduSession, UpfError, UpfN4Client
from nwdaf.nf.smf.state import NwdafSubscriptionState, ReleaseRateLimiter
from nwdaf.platform.models import (
    AbnormalBehaviour,
    EventNotification,
    NnwdafEventsSubscriptionNotification,
    NwdafEvent,
    to_wire,
)
from nwdaf.platform.sbi import ProblemError

log = logging.getLogger("nwdaf.smf")

@dataclass(frozen=True, slots=True)
class Report:
    """One UE named in one abnormal-behaviour report, with what caused it (for the audit)."""

    supi: str
    behaviour: AbnormalBehaviour
    cause: dict[str, Any]
    received_at: datetime


def reports_of(subscription_id: str, notif_corr_id: str | None, notes: Sequence[EventNotification],
               received_at: datetime) -> list[Report]:
    """Every (UE, AbnormalBehaviour) pair in ``notes``; other events carry nothing to act on."""
    reports: list[Report] = []
    for note in notes:
        if note.event is not NwdafEvent.ABNORMAL_BEHAVIOUR or not note.abnorBehavrs:
            continue
        times = to_wire(note.model_copy(update={"abnorBehavrs": None}))
        for behaviour in note.abnorBehavrs:
            cause = {"subscriptionId": subscription_id, "notifCorrId": notif_corr_id, **times,
                     "abnorBehavr": to_wire(behaviour)}
            reports.extend(Report(supi, behaviour, cause, received_at) for supi in behaviour.supis or [])
    return reports


class PolicyProcessor:
    """Queues notified reports and decides per UE (one worker: decisions are serialised, so the rate cap and the
    audit order are exact)."""

    def __init__(self, settings: SmfSettings, upf: UpfN4Client, audit: AuditLog,
                 subscription: NwdafSubscriptionState, limiter: ReleaseRateLimiter) -> None:
        self.settings = settings
        self.upf = upf
        self.audit = audit
        self.subscription = subscription
        self.limiter = limiter
        self._allow = frozenset(settings.allowlist)
        self._acted_on = frozenset(e.value for e in settings.exception_ids)
        self._queue: asyncio.Queue[list[Report]] = asyncio.Queue(settings.queue_size)
        self._worker: asyncio.Task[None] | None = None

    async def notify(self, notifications: Sequence[NnwdafEventsSubscriptionNotification]) -> int:
        """Nnwdaf_EventsSubscription_Notify callback: check the subscriptions now, act in the background; returns
        the number of UE reports queued."""
        received_at = datetime.now(UTC)
        reports: list[Report] = []
        for notification in notifications:
            if not self.subscription.accepts(notification.subscriptionId):
                raise ProblemError(404, "Not Found", f"no subscription {notification.subscriptionId!r} here",
                                   "SUBSCRIPTION_NOT_FOUND")
            reports += reports_of(notification.subscriptionId, notification.notifCorrId,
                                  notification.eventNotifications or [], received_at)
        self.enqueue(reports)
        return len(reports)

    def enqueue(self, reports: list[Report]) -> None:
        """Queue reports for the worker; a full queue is a 503 (the NWDAF retries later)."""
        if not reports:
            return
        try:
            self._queue.put_nowait(reports)
        except asyncio.QueueFull:
            raise ProblemError(503, "Service Unavailable", "too many reports waiting to be acted on",
                               "NF_CONGESTION") from None

    def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._work(), name="smf-policy")

    async def stop(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker

    async def idle(self) -> None:
        """Wait until every queued report has been decided (tests, graceful stop)."""
        await self._queue.join()

    async def _work(self) -> None:
        while True:
            reports = await self._queue.get()
            try:
                for report in reports:
                    try:
                        await self.audit.record(await self.decide(report))
                    except Exception:
                        log.exception("deciding on a report failed", extra={"supi": report.supi})
            finally:
                self._queue.task_done()

    async def decide(self, report: Report) -> AuditEntry:
        """Run the guardrails for one UE and, if they all pass, release its active PDU sessions."""
        excep = report.behaviour.excep.excepId.value
        confidence = report.behaviour.confidence
        if excep not in self._acted_on:
            return self._entry(report, Decision.SKIPPED_EXCEPTION, f"{excep} is not acted on")
        if report.supi in self._allow:
            return self._entry(report, Decision.SKIPPED_ALLOWLIST, "SUPI is on the allowlist")
        if (confidence or 0) < self.settings.min_confidence:
            return self._entry(report, Decision.BELOW_CONFIDENCE,
                               f"confidence {confidence} < minimum {self.settings.min_confidence}")
        try:
            sessions = await self.upf.sessions_of(report.supi)
        except UpfError as exc:
            return self._entry(report, Decision.RELEASE_FAILED, f"session lookup failed: {exc}")
        active = [s for s in sessions if s.state == "ACTIVE"]
        if not active:
            decision = Decision.NO_ACTIVE_SESSION if sessions else Decision.UNKNOWN_UE
            return self._entry(report, decision, f"the UPF has {len(sessions)} session(s), none active")
        seids = [s.seid for s in active]
        if self.settings.dry_run:
            return self._entry(report, Decision.DRY_RUN, "dry-run: would release", seids)
        if not self.limiter.allow():
            return self._entry(report, Decision.SKIPPED_RATE_CAP,
                               f"{self.limiter.per_minute} releases in the last minute already", seids)
        return await self._release(report, active)

    async def _release(self, report: Report, sessions: Sequence[N4PduSession]) -> AuditEntry:
        released = []
        try:
            for session in sessions:
                if await self.upf.release(session.seid):
                    released.append(session.seid)
        except UpfError as exc:
            return self._entry(report, Decision.RELEASE_FAILED, f"release failed: {exc}", released)
        log.warning("released %d PDU session(s) of an abnormally behaving UE", len(released),
                    extra={"supi": report.supi, "pdu_session_id": [s.pduSessionId for s in sessions]})
        return self._entry(report, Decision.RELEASED, f"{report.behaviour.excep.excepId.value}", released)

    @staticmethod
    def _entry(report: Report, decision: Decision, reason: str, seids: Sequence[int] = ()) -> AuditEntry:
        return AuditEntry(decision=decision, supi=report.supi, excepId=report.behaviour.excep.excepId.value,
                          confidence=report.behaviour.confidence, reason=reason, seids=list(seids),
                          receivedAt=report.received_at, notification=report.cause)
