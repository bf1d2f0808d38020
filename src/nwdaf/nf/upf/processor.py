"""Nupf_EventExposure procedures (TS 29.564 clause 5.2.2): Subscribe, Modify, Unsubscribe.

Plain async functions on the UPF context and the 3GPP models: they return results or raise
:class:`~nwdaf.platform.sbi.ProblemError`; only :mod:`nwdaf.nf.upf.api.event_exposure` knows HTTP.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from nwdaf.nf.upf.filters import FilterError, RowFilter, app_id_set, compile_traffic_filters
from nwdaf.nf.upf.jsonpatch import JsonPatchError, apply_patch
from nwdaf.nf.upf.reports import EventSpec
from nwdaf.nf.upf.state import ReportingSubscription, UpfContext
from nwdaf.nf.upf.usage import Level, Window
from nwdaf.platform.models.common import PatchItem, from_wire, to_wire
from nwdaf.platform.models.upf_ee import (
    CreatedEventSubscription,
    CreateEventSubscription,
    EventType,
    GranularityOfMeasurement,
    MeasurementType,
    UpfEvent,
    UpfEventSubscription,
    UpfEventTrigger,
)
from nwdaf.platform.sbi import InvalidParam, ProblemError
from nwdaf.platform.sbi.problem import invalid_params_from_errors

log = logging.getLogger("nwdaf.upf")

API_ROOT = "/nupf-ee/v1"
SUPPORTED_EVENTS = (EventType.USER_DATA_USAGE_MEASURES, EventType.USER_DATA_USAGE_TRENDS)


def _bad(pointer: str, reason: str, cause: str = "MANDATORY_IE_INCORRECT") -> ProblemError:
    return ProblemError(400, "Invalid request", f"{pointer}: {reason}", cause, [InvalidParam(pointer, reason)])


def _row_filter(event: UpfEvent, level: Level, at: str) -> RowFilter:
    try:
        apps = app_id_set(event.appIds, f"{at}/appIds") if event.appIds else None
        flows = compile_traffic_filters(event.trafficFilters, f"{at}/trafficFilters") if event.trafficFilters \
            else None
    except FilterError as exc:
        raise _bad(exc.pointer, exc.reason, "OPTIONAL_IE_INCORRECT") from None
    if apps is not None and level is Level.SESSION:
        raise _bad(f"{at}/appIds", "appIds needs granularityOfMeasurement PER_APPLICATION or PER_FLOW",
                   "OPTIONAL_IE_INCORRECT")
    if flows is not None and level is not Level.FLOW:
        raise _bad(f"{at}/trafficFilters", "trafficFilters needs granularityOfMeasurement PER_FLOW",
                   "OPTIONAL_IE_INCORRECT")
    return RowFilter(apps, flows)


def event_spec(event: UpfEvent, index: int, app_detection: bool) -> EventSpec:
    """Check one subscribed event and normalise it; raises a 400 ProblemError naming the attribute."""
    at = f"/subscription/eventList/{index}"
    if event.type not in SUPPORTED_EVENTS:
        raise _bad(f"{at}/type", f"event {event.type} is not supported by this UPF; supported: "
                   f"{[e.value for e in SUPPORTED_EVENTS]}")
    if not event.measurementTypes:
        # TS 29.564 clause 5.2.2.2.2: user data usage events say what to measure.
        raise _bad(f"{at}/measurementTypes", f"measurementTypes is required for {event.type}",
                   "MANDATORY_IE_MISSING")
    level = Level(event.granularityOfMeasurement or GranularityOfMeasurement.PER_SESSION)
    if MeasurementType.APPLICATION_RELATED_INFO in event.measurementTypes:
        if not app_detection:
            raise _bad(f"{at}/measurementTypes", "APPLICATION_RELATED_INFO needs application detection (nDPI), "
                       "which is not enabled on this UPF; use VOLUME_MEASUREMENT or THROUGHPUT_MEASUREMENT",
                       "OPTIONAL_IE_INCORRECT")
        if level is not Level.SESSION:
            raise _bad(f"{at}/granularityOfMeasurement", "APPLICATION_RELATED_INFO is reported per PDU session: "
                       "use PER_SESSION", "OPTIONAL_IE_INCORRECT")
    if event.immediateFlag:
        raise _bad(f"{at}/immediateFlag", "immediate reporting is not supported: the first report follows "
                   "the first reporting period", "OPTIONAL_IE_INCORRECT")
    return EventSpec(event.type, frozenset(event.measurementTypes), level, _row_filter(event, level, at))


def _check_target(sub: UpfEventSubscription) -> None:
    for name in ("gpsi", "pei"):
        if getattr(sub, name) is not None:
            raise _bad(f"/subscription/{name}", f"{name} is not known to the UPF; target the UE by ueIpAddress "
                       "or supi, or set anyUe", "OPTIONAL_IE_INCORRECT")
    if not sub.anyUe and sub.ueIpAddress is None and sub.supi is None:
        raise _bad("/subscription", "name the UE (ueIpAddress or supi) or set anyUe to true",
                   "MANDATORY_IE_MISSING")
    if sub.anyUe and (sub.ueIpAddress is not None or sub.supi is not None):
        raise _bad("/subscription/anyUe", "anyUe cannot be combined with ueIpAddress or supi")
    if not sub.eventNotifyUri.startswith(("http://", "https://")):
        raise _bad("/subscription/eventNotifyUri", "must be an http:// or https:// URI")


def _check_mode(ctx: UpfContext, sub: UpfEventSubscription) -> tuple[int | None, datetime | None]:
    mode = sub.eventReportingMode
    at = "/subscription/eventReportingMode"
    if mode.partitioningCriteria is not None or mode.sampRatio is not None:
        raise _bad(at, "partitioningCriteria and sampRatio are not supported: every packet is measured",
                   "OPTIONAL_IE_INCORRECT")
    if mode.expiry is not None and mode.expiry <= datetime.now(UTC):
        raise _bad(f"{at}/expiry", f"expiry {mode.expiry.isoformat()} is in the past")
    if mode.trigger is UpfEventTrigger.ONE_TIME:
        return None, mode.expiry
    assert mode.repPeriod is not None  # the model requires it for PERIODIC
    if mode.repPeriod < ctx.config.min_rep_period_s:
        raise _bad(f"{at}/repPeriod", f"repPeriod must be >= {ctx.config.min_rep_period_s} s")
    return mode.repPeriod, mode.expiry


def _levels(events: Sequence[EventSpec]) -> set[Level]:
    return {e.level for e in events}


def build_subscription(ctx: UpfContext, subscription_id: str, sub: UpfEventSubscription,
                       previous: ReportingSubscription | None = None) -> ReportingSubscription:
    """Validate a subscription and make its reporting state (keeping the open window across a Modify)."""
    _check_target(sub)
    period, expiry = _check_mode(ctx, sub)
    events = tuple(event_spec(e, i, ctx.app_info is not None) for i, e in enumerate(sub.eventList))
    muted = sub.eventReportingMode.notifFlag is not None and sub.eventReportingMode.notifFlag.value == "DEACTIVATE"
    same_scope = previous is not None and _levels(previous.events) == _levels(events) and (
        (previous.request.ueIpAddress, previous.request.supi, previous.request.anyUe, previous.request.dnn,
         previous.request.snssai) == (sub.ueIpAddress, sub.supi, sub.anyUe, sub.dnn, sub.snssai))
    window = previous.window if previous is not None and same_scope else Window.open(
        ctx.clock.now_ns(), _levels(events))
    # Reports are due after whole reporting ticks, so every subscription's period is counted on one clock.
    ticks = 1 if period is None else max(1, round(period / ctx.config.report_tick_s))
    state = ReportingSubscription(subscription_id, sub, events, period, ticks, sub.eventReportingMode.maxReports,
                                  expiry, muted, window)
    if previous is not None:
        state.reports, state.notifications = previous.reports, previous.notifications
    return state


async def create_subscription(ctx: UpfContext, body: CreateEventSubscription) -> CreatedEventSubscription:
    """Subscribe (TS 29.564 clause 5.2.2.2): accept, start reporting; the id is in the returned resource."""
    if len(ctx.subscriptions) >= ctx.config.max_subscriptions:
        raise ProblemError(403, "Forbidden", f"this UPF accepts at most {ctx.config.max_subscriptions} "
                           "subscriptions", "INSUFFICIENT_RESOURCES")
    subscription_id = uuid.uuid4().hex
    state = build_subscription(ctx, subscription_id, body.subscription)
    ctx.subscriptions[subscription_id] = state
    ctx.notifier.open(subscription_id, body.subscription.eventNotifyUri, state.correlation_id)
    log.info("subscription created (%s, period %s s)", ", ".join(e.type.value for e in state.events),
             state.period_s, extra={"subscription_id": subscription_id, "correlation_id": state.correlation_id})
    return CreatedEventSubscription(subscription=body.subscription, subscriptionId=subscription_id,
                                    supportedFeatures=body.supportedFeatures)


def _lookup(ctx: UpfContext, subscription_id: str) -> ReportingSubscription:
    state = ctx.subscriptions.get(subscription_id)
    if state is None:
        raise ProblemError(404, "Not Found", f"no subscription {subscription_id!r}", "SUBSCRIPTION_NOT_FOUND")
    return state


def _patched(current: UpfEventSubscription, patch: Sequence[PatchItem]) -> UpfEventSubscription:
    document: dict[str, Any] = to_wire(current)
    try:
        patched = apply_patch(document, patch)
    except JsonPatchError as exc:
        raise ProblemError(400, "Invalid request", str(exc), "INVALID_MSG_FORMAT",
                           [InvalidParam(f"/{exc.index}", exc.reason)]) from None
    if not isinstance(patched, dict):
        raise _bad("/", "the patched subscription is not a JSON object")
    try:
        return from_wire(UpfEventSubscription, patched)
    except ValidationError as exc:
        raise ProblemError(400, "Invalid request", "the patched subscription is invalid: " + "; ".join(
            f"{'/'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())[:900],
            "MANDATORY_IE_INCORRECT", invalid_params_from_errors(exc.errors())) from None


async def modify_subscription(
    ctx: UpfContext, subscription_id: str, patch: Sequence[PatchItem]
) -> UpfEventSubscription:
    """Modify (TS 29.564 clause 5.2.2.3): apply a JSON Patch to the subscription; all or nothing."""
    current = _lookup(ctx, subscription_id)
    if not patch:
        raise _bad("/", "a JSON Patch needs at least one operation")
    request = _patched(current.request, patch)
    state = build_subscription(ctx, subscription_id, request, previous=current)
    ctx.subscriptions[subscription_id] = state
    ctx.notifier.retarget(subscription_id, request.eventNotifyUri, request.notifyCorrelationId)
    log.info("subscription modified (period %s s)", state.period_s, extra={"subscription_id": subscription_id})
    return request


async def delete_subscription(ctx: UpfContext, subscription_id: str, drain_timeout_s: float = 0.0) -> None:
    """Unsubscribe (TS 29.564 clause 5.2.2.4): no report is sent for it afterwards."""
    _lookup(ctx, subscription_id)
    del ctx.subscriptions[subscription_id]
    await ctx.notifier.close(subscription_id, drain_timeout_s)
    log.info("subscription deleted", extra={"subscription_id": subscription_id})
