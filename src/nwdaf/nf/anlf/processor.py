"""Nnwdaf_EventsSubscription procedures (TS 29.520 clause 4.2.2): subscribe, update, unsubscribe, notify.

Plain async methods on domain objects; they raise :class:`~nwdaf.platform.sbi.ProblemError` and never see HTTP. Findings
arrive from the bus (:meth:`EventsSubscriptionProcessor.on_result`). Events reported on detection (the event's
``notificationMethod`` THRESHOLD, or ``evtReq.notifMethod`` ON_EVENT_DETECTION / ONE_TIME) are notified as soon as a
matching new finding is accepted: the findings detected within ``evtReq.grpRepTime`` (default
``anlf.detection_group_s``) go in one notification, and nothing is sent while nothing matches. PERIODIC events are
reported by the :class:`~nwdaf.nf.anlf.scheduler.PeriodicScheduler`, with or without findings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from nwdaf.nf.anlf.config import AnlfSettings
from nwdaf.nf.anlf.metrics import AnlfMetrics
from nwdaf.nf.anlf.notifier import AnalyticsNotifier, Delivery
from nwdaf.nf.anlf.reports import event_notification
from nwdaf.nf.anlf.scheduler import PeriodicScheduler
from nwdaf.nf.anlf.state import Finding, FindingKey, FindingsState, Update, Watermark
from nwdaf.nf.anlf.store import StoredSubscription, progress
from nwdaf.nf.anlf.subscription import EventPlan, Subscription, ThresholdIndex, accept, admit
from nwdaf.platform.events import AnalyticsResult
from nwdaf.platform.models import (
    EventNotification,
    ExceptionId,
    NnwdafEventsSubscription,
    NnwdafEventsSubscriptionNotification,
    NotificationMethod,
    NwdafEvent,
    to_wire,
)
from nwdaf.platform.models.openapi import SpecValidator
from nwdaf.platform.sbi import ProblemError, SbiClient
from nwdaf.platform.store import SubscriptionStore

log = logging.getLogger("nwdaf.anlf")

_EXPIRE_FINDINGS_EVERY = 10
"""Housekeeping rounds between two sweeps of expired findings (a sweep walks every finding)."""


def _not_found(subscription_id: str) -> ProblemError:
    return ProblemError(404, "Not Found", f"no Individual NWDAF Event Subscription {subscription_id!r}",
                        "SUBSCRIPTION_NOT_FOUND")


class EventsSubscriptionProcessor:
    """Owns the subscriptions: validation, persistence, scheduling, THRESHOLD matching and notification."""

    def __init__(self, settings: AnlfSettings, findings: FindingsState, store: SubscriptionStore[StoredSubscription],
                 client: SbiClient, validator: SpecValidator | None, metrics: AnlfMetrics,
                 clock: Callable[[], float] = time.time, watermark: Watermark | None = None) -> None:
        self.settings = settings
        self.findings = findings
        self.store = store
        self.validator = validator
        self.metrics = metrics
        self._clock = clock
        self.watermark = watermark or Watermark(clock)
        """Finding freshness is judged on the data's clock (the same one ``findings`` uses), never the wall's."""
        self.notifier = AnalyticsNotifier(client, settings, metrics, self._on_consumer_dead, clock)
        self.scheduler = PeriodicScheduler(self._fire_periodic, clock, metrics.skipped_ticks.inc)
        self.subscriptions: dict[str, Subscription] = {}
        self._threshold = ThresholdIndex()
        self._batches: dict[float, dict[str, dict[tuple[int, FindingKey], tuple[EventPlan, Finding]]]] = {}
        """Detections waiting to be notified, by grouping time, then subscription, then (event index, finding)."""
        self._batch_timers: dict[float, asyncio.TimerHandle | asyncio.Handle] = {}
        self._dirty: set[str] = set()
        self._housekeeper: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    # --- lifecycle ------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the store, resume every stored subscription and start scheduling."""
        await self.store.open()
        await self._restore()
        self.scheduler.start()
        self._housekeeper = asyncio.get_running_loop().create_task(self._housekeeping(), name="anlf-housekeeping")

    async def stop(self) -> None:
        await self.scheduler.stop()
        for group_s in list(self._batch_timers):
            self._batch_timers.pop(group_s).cancel()
            self._flush_batch(group_s)  # what was detected is still notified
        if self._housekeeper is not None:
            # Not cancelled: a round cut short mid-write would lose report counters.
            self._stopping.set()
            await self._housekeeper
            self._housekeeper = None
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self.notifier.close()
        await self._flush_progress()
        await self.store.close()

    async def _restore(self) -> None:
        now = self._clock()
        for stored in await self.store.load_all():
            try:
                sub = accept(stored.subscription_id, stored.body, self.validator, stored.anchor,
                             self.settings.min_repetition_period_s)
            except ProblemError as exc:
                log.warning("dropping stored subscription that is no longer valid: %s", exc,
                            extra={"subscription_id": stored.subscription_id})
                await self.store.delete(stored.subscription_id)
                continue
            sub.reports_sent = stored.reports_sent
            if sub.exhausted or (sub.expires_at is not None and sub.expires_at <= now):
                await self.store.delete(stored.subscription_id)
                continue
            self._activate(sub)
        log.info("resumed %d subscriptions from %s", len(self.subscriptions), self.store.path or "memory")

    # --- procedures -----------------------------------------------------------------------------------------

    async def subscribe(self, body: dict[str, Any], request: NnwdafEventsSubscription
                        ) -> tuple[Subscription, dict[str, Any]]:
        """Nnwdaf_EventsSubscription_Subscribe (create): returns the resource and the 201 body.

        ``request`` is the parsed subscription, ``body`` the same request as the consumer sent it
        (:func:`~nwdaf.nf.anlf.subscription.parse_request`): it is stored and echoed with the attributes this
        NWDAF does not model (TS 29.500 clause 6.6: APIs are extensible)."""
        sub = admit(uuid.uuid4().hex, body, request, self._clock(), self.settings.min_repetition_period_s)
        sub.watch_from = self.findings.accepted + 1
        return sub, await self._install(sub)

    async def update(self, subscription_id: str, body: dict[str, Any], request: NnwdafEventsSubscription
                     ) -> dict[str, Any]:
        """Nnwdaf_EventsSubscription_Subscribe (modify, PUT): replaces the resource; its schedule restarts."""
        old = self.subscriptions.get(subscription_id)
        if old is None:
            raise _not_found(subscription_id)
        sub = admit(subscription_id, body, request, self._clock(), self.settings.min_repetition_period_s)
        same = [p.selector for p in sub.plans] == [p.selector for p in old.plans]
        # Same findings selected: what was reported stays reported; else the newly selected ones are new to it.
        sub.watch_from = old.watch_from if same else self.findings.accepted + 1
        self._deactivate(subscription_id)
        return await self._install(sub)

    async def unsubscribe(self, subscription_id: str) -> None:
        """Nnwdaf_EventsSubscription_Unsubscribe (DELETE)."""
        if subscription_id not in self.subscriptions:
            raise _not_found(subscription_id)
        await self._remove(subscription_id, "unsubscribed")

    async def _install(self, sub: Subscription) -> dict[str, Any]:
        immediate = self._immediate_report(sub) if sub.immediate_report else []
        if sub.immediate_report:
            sub.watch_from = 0  # every current finding it selects was in the immediate report
        if immediate:
            sub.reports_sent += 1  # TS 29.523 ReportingInformation: the immediate report counts as a report
        await self.store.put(StoredSubscription(sub.subscription_id, sub.body, sub.anchor, sub.reports_sent))
        self._activate(sub)
        response = dict(sub.body)
        if immediate:
            response["eventNotifications"] = [to_wire(n) for n in immediate]
        if sub.failed:
            response["failEventReports"] = [to_wire(f) for f in sub.failed]
        if sub.exhausted:
            await self._remove(sub.subscription_id, "max-reports", forget_queue=False)
        log.info("subscription %s: %d event(s), %d unavailable", sub.subscription_id, len(sub.plans),
                 len(sub.failed), extra={"subscription_id": sub.subscription_id})
        return response

    def _immediate_report(self, sub: Subscription) -> list[EventNotification]:
        now = self._now()
        notes = []
        for plan in sub.plans:
            found = self._current(plan)
            if found:
                notes.append(event_notification(plan.selector.event, found, now))
        return notes

    def _current(self, plan: EventPlan) -> list[Finding]:
        sel = plan.selector
        return self.findings.current(sel.event.value, sel.supis, sel.matches)

    # --- registry -------------------------------------------------------------------------------------------

    def _activate(self, sub: Subscription) -> None:
        sid = sub.subscription_id
        self.subscriptions[sid] = sub
        for plan in sub.plans:
            if plan.method is NotificationMethod.PERIODIC and plan.period_s is not None:
                self.scheduler.add(f"{sid}#{plan.index}", sub.anchor, plan.period_s)
            else:
                self._threshold.add(sid, plan)
        self.metrics.subscriptions.set(len(self.subscriptions))

    def _deactivate(self, subscription_id: str) -> Subscription | None:
        sub = self.subscriptions.pop(subscription_id, None)
        if sub is None:
            return None
        sub.terminated = True
        for plan in sub.plans:
            self.scheduler.remove(f"{subscription_id}#{plan.index}")
            self._threshold.remove(subscription_id, plan)
        self._dirty.discard(subscription_id)
        self.metrics.subscriptions.set(len(self.subscriptions))
        return sub

    async def _remove(self, subscription_id: str, reason: str, forget_queue: bool = True) -> None:
        if self._deactivate(subscription_id) is None:
            return
        if forget_queue:
            self.notifier.forget(subscription_id)
        if reason != "unsubscribed":
            self.metrics.terminated.labels(reason).inc()
        await self.store.delete(subscription_id)
        log.info("subscription ended: %s", reason, extra={"subscription_id": subscription_id})

    async def _on_consumer_dead(self, subscription_id: str, reason: str) -> None:
        log.warning("terminating subscription, consumer unreachable: %s", reason,
                    extra={"subscription_id": subscription_id})
        await self._remove(subscription_id, "consumer-unreachable")

    # --- findings and THRESHOLD reporting ------------------------------------------------------------------

    def on_result(self, result: AnalyticsResult) -> Update | None:
        """Take one engine result: update the findings and notify THRESHOLD subscriptions it matters to."""
        problem = _unusable(result)
        if problem is not None:
            self.metrics.results.labels("invalid").inc()
            log.warning("ignoring an engine result: %s", problem, extra={"supi": result.supi})
            return None
        window_end = result.window_end.timestamp()
        self.watermark.observe(window_end)
        if window_end + self.settings.finding_ttl_s <= self.watermark.now():
            self.metrics.results.labels("expired").inc()
            return None
        update = self.findings.add(result)
        self.metrics.results.labels("accepted").inc()
        if update.current.result is not result:
            return update  # an older window than the current finding: nothing new to report
        for sid, plan in self._threshold.candidates(result.event, result.supi):
            sub = self.subscriptions.get(sid)
            if sub is not None and _threshold_reached(plan, update, sub.watch_from):
                self._hold(sub, plan, update.current)
        return update

    def _hold(self, sub: Subscription, plan: EventPlan, finding: Finding) -> None:
        """Queue a detection for the subscription's next notification. Subscriptions with the same grouping time
        (``evtReq.grpRepTime``, else ``anlf.detection_group_s``) share one timer, started by the first detection
        waiting: all that wait are sent when it fires, at most that long after their detection (0 = once the bus
        handler yields, which gathers the findings of one bus batch)."""
        group_s = sub.group_time_s
        if group_s is None:
            group_s = self.settings.detection_group_s
        batch = self._batches.get(group_s)
        if batch is None:
            batch = self._batches[group_s] = {}
            loop = asyncio.get_running_loop()
            self._batch_timers[group_s] = (loop.call_later(group_s, self._flush_batch, group_s) if group_s > 0
                                           else loop.call_soon(self._flush_batch, group_s))
        # A newer window of the same finding replaces the one waiting: one entry per UE and exception.
        batch.setdefault(sub.subscription_id, {})[(plan.index, finding.key)] = (plan, finding)

    def _flush_batch(self, group_s: float) -> None:
        self._batch_timers.pop(group_s, None)
        batch = self._batches.pop(group_s, {})
        now = self._now()
        for sid, items in batch.items():
            sub = self.subscriptions.get(sid)
            if sub is None:
                continue
            by_plan: dict[int, tuple[EventPlan, list[Finding]]] = {}
            for plan, finding in items.values():
                by_plan.setdefault(plan.index, (plan, []))[1].append(finding)
            try:
                notes = [event_notification(p.selector.event, fs, now) for _, (p, fs) in sorted(by_plan.items())]
                self._send(sub, notes, due=None)
            except Exception:
                log.exception("report on detection failed", extra={"subscription_id": sid})

    # --- PERIODIC reporting --------------------------------------------------------------------------------

    def _fire_periodic(self, key: str, k: int, due: float) -> None:
        sid, _, index = key.rpartition("#")
        sub = self.subscriptions.get(sid)
        plan = next((p for p in sub.plans if p.index == int(index)), None) if sub else None
        if sub is None or plan is None:
            self.scheduler.remove(key)
            return
        self._send(sub, [event_notification(plan.selector.event, self._current(plan), self._now())], due)

    def _send(self, sub: Subscription, notes: Sequence[EventNotification], due: float | None) -> None:
        if sub.terminated or sub.exhausted:
            return
        expires_at = sub.expires_at
        if expires_at is not None and self._clock() >= expires_at:
            self._end_soon(sub.subscription_id, "monitoring-duration-ended")
            return
        notification = NnwdafEventsSubscriptionNotification(
            subscriptionId=sub.subscription_id, notifCorrId=sub.request.notifCorrId, eventNotifications=list(notes)
        )
        self.notifier.submit(Delivery(sub.subscription_id, sub.notification_uri, [to_wire(notification)], due))
        sub.reports_sent += 1
        self._dirty.add(sub.subscription_id)
        if sub.exhausted:
            self._end_soon(sub.subscription_id, "max-reports")

    def _end_soon(self, subscription_id: str, reason: str) -> None:
        """End a subscription from synchronous code; what is already queued for it is still delivered."""
        if self._deactivate(subscription_id) is not None:
            task = asyncio.get_running_loop().create_task(self._forget_stored(subscription_id, reason))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _forget_stored(self, subscription_id: str, reason: str) -> None:
        self.metrics.terminated.labels(reason).inc()
        await self.store.delete(subscription_id)
        log.info("subscription ended: %s", reason, extra={"subscription_id": subscription_id})

    # --- housekeeping --------------------------------------------------------------------------------------

    async def _housekeeping(self) -> None:
        rounds = 0
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.settings.progress_flush_s)
            rounds += 1
            now = self._clock()
            for sid, sub in list(self.subscriptions.items()):
                if sub.expires_at is not None and sub.expires_at <= now:
                    await self._remove(sid, "monitoring-duration-ended")
            try:
                await self._flush_progress()
            except Exception:
                log.exception("could not write report counters; will retry")
            if rounds % _EXPIRE_FINDINGS_EVERY == 0:
                self.findings.expire()

    async def _flush_progress(self) -> None:
        dirty, self._dirty = self._dirty, set()
        counts = {sid: self.subscriptions[sid].reports_sent for sid in dirty if sid in self.subscriptions}
        try:
            await self.store.update_many(progress(counts))
        except BaseException:
            self._dirty |= dirty
            raise


def _unusable(result: AnalyticsResult) -> str | None:
    """Why an engine result cannot become TS 29.520 analytics (None if it can)."""
    if result.event not in NwdafEvent.__members__:
        return f"event {result.event!r} is not a NwdafEvent"
    if result.event == NwdafEvent.ABNORMAL_BEHAVIOUR:
        if result.abnormal is None:
            return "ABNORMAL_BEHAVIOUR result without its abnormal-behaviour part"
        if result.abnormal.excep_id not in ExceptionId.__members__:
            return f"excep_id {result.abnormal.excep_id!r} is not an ExceptionId"
    if result.event == NwdafEvent.UE_COMMUNICATION and result.ue_comm is None:
        return "UE_COMMUNICATION result without its UE-communication part"
    return None


def _threshold_reached(plan: EventPlan, update: Update, watch_from: int) -> bool:
    """Whether a new finding is reported on detection: it matches and either is new for its UE, or the UE's
    previous finding did not match (its level was below the requested ``excepLevel``: the threshold was just
    crossed, ascending), or that previous finding was accepted before ``watch_from`` (never reported to this
    subscription); or it is a new UE communication window. A finding that repeats one already reported is not."""
    current, previous = update.current, update.previous
    if not plan.selector.matches(current):
        return False
    if previous is None or not plan.selector.matches(previous):
        return True
    if previous.seq < watch_from:
        return True
    return current.result.ue_comm is not None and current.result.window_end > previous.result.window_end
