"""Keeps the SMF subscribed to NWDAF abnormal-behaviour analytics (Nnwdaf_EventsSubscription, TS 29.520).

The request asks for ABNORMAL_BEHAVIOUR of any UE with the TS 29.520 names: ``excepRequs: [{excepId}]`` (not
the often seen ``exceptReques``/``exceptId``, which the schemas would silently ignore) and ``tgtUe: {anyUe: true}``
(required for UE-related analytics, TS 29.520 clause 5.1.6.2.3), reported on detection unless
``smf.notification_method`` is PERIODIC. The subscription is created at start (retrying while the NWDAF is
unreachable), refreshed with PUT every ``resubscribe_check_s``, and recreated when the NWDAF answers 404 (it lost or
terminated it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from nwdaf.nf.smf.config import SmfSettings
from nwdaf.nf.smf.consumer.nnwdaf_events_subscription import (
    NnwdafEventsSubscriptionClient,
    NwdafError,
    NwdafSubscription,
)
from nwdaf.nf.smf.processor import PolicyProcessor, reports_of
from nwdaf.nf.smf.state import NwdafSubscriptionState
from nwdaf.platform.models import (
    AnalyticsException,
    EventSubscription,
    NnwdafEventsSubscription,
    NotificationMethod,
    NsmfNotificationMethod,
    NwdafEvent,
    ReportingInformation,
    TargetUeInformation,
)

log = logging.getLogger("nwdaf.smf")


def subscription_request(settings: SmfSettings, notification_uri: str, notif_corr_id: str) -> NnwdafEventsSubscription:
    """The Nnwdaf_EventsSubscription request of the SMF: reports on detection by default (``evtReq.notifMethod``
    ON_EVENT_DETECTION, the event's ``notificationMethod`` THRESHOLD), or PERIODIC at ``repetition_period_s``;
    both levels of the request say the same, so no NWDAF has to choose between them."""
    periodic = settings.notification_method == "PERIODIC"
    period = settings.repetition_period_s if periodic else None
    event = EventSubscription(
        event=NwdafEvent.ABNORMAL_BEHAVIOUR,
        excepRequs=[AnalyticsException(excepId=e) for e in settings.exception_ids],
        notificationMethod=NotificationMethod.PERIODIC if periodic else NotificationMethod.THRESHOLD,
        repetitionPeriod=period,
        tgtUe=TargetUeInformation(anyUe=True),
    )
    return NnwdafEventsSubscription(
        eventSubscriptions=[event],
        notificationURI=notification_uri,
        notifCorrId=notif_corr_id,
        evtReq=ReportingInformation(
            immRep=True if settings.immediate_report else None,
            notifMethod=NsmfNotificationMethod.PERIODIC if periodic else NsmfNotificationMethod.ON_EVENT_DETECTION,
            repPeriod=period,
        ),
    )


class NwdafSubscriber:
    """Creates, refreshes and removes the SMF's subscription at the NWDAF."""

    def __init__(self, settings: SmfSettings, nwdaf: NnwdafEventsSubscriptionClient, state: NwdafSubscriptionState,
                 processor: PolicyProcessor, request: NnwdafEventsSubscription) -> None:
        self.settings = settings
        self.nwdaf = nwdaf
        self.state = state
        self.processor = processor
        self.request = request
        # A refresh is a liveness check: it must not ask for (and re-act on) another immediate report.
        evt = request.evtReq
        self.refresh_request = request if evt is None else request.model_copy(
            update={"evtReq": evt.model_copy(update={"immRep": None})})
        self.subscribed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._maintain(), name="smf-nwdaf-subscription")

    async def stop(self, unsubscribe: bool = True) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if unsubscribe and self.state.location is not None:
            try:
                await self.nwdaf.unsubscribe(self.state.location)
            except NwdafError as exc:
                log.warning("could not unsubscribe from the NWDAF: %s", exc)
            self.state.location = self.state.subscription_id = None

    async def _maintain(self) -> None:
        while True:
            try:
                await (self._refresh() if self.state.location else self.subscribe())
                wait = self.settings.resubscribe_check_s
            except NwdafError as exc:
                self.state.last_error = str(exc)
                log.warning("NWDAF subscription: %s; retrying in %.1f s", exc, self.settings.subscribe_retry_s)
                wait = self.settings.subscribe_retry_s
            await asyncio.sleep(wait)

    async def subscribe(self) -> NwdafSubscription:
        self.state.pending = True
        try:
            created = await self.nwdaf.subscribe(self.request)
        finally:
            self.state.pending = False
        self._adopt(created)
        log.info("subscribed to NWDAF abnormal-behaviour analytics at %s", created.location,
                 extra={"subscription_id": created.subscription_id})
        return created

    async def _refresh(self) -> None:
        assert self.state.location is not None
        updated = await self.nwdaf.update(self.state.location, self.refresh_request)
        if updated is None:
            log.warning("the NWDAF no longer has our subscription: subscribing again",
                        extra={"subscription_id": self.state.subscription_id})
            self.state.location = None
            await self.subscribe()
        else:
            self._adopt(updated)

    def _adopt(self, sub: NwdafSubscription) -> None:
        self.state.replace(sub.location, sub.subscription_id)
        self.state.last_error = None
        self.subscribed.set()
        if sub.body.eventNotifications:
            # Immediate report (evtReq.immRep): the current analytics came back in the response.
            self.processor.enqueue(reports_of(sub.subscription_id, sub.body.notifCorrId,
                                              sub.body.eventNotifications, datetime.now(UTC)))
