"""The UPF's procedures: Nupf_EventExposure (TS 29.564 clause 5.2.2: Subscribe, Modify, Unsubscribe) and the PDU
sessions of the N4-like API the SMF drives (ours, not 3GPP; it stands in for PFCP, TS 29.244).

Plain functions on the UPF context and parsed models: they return results or raise
:class:`~nwdaf.platform.sbi.ProblemError`; only the routers of :mod:`nwdaf.nf.upf.api` know HTTP.

PDU session establishment installs the session in the data plane's session table; release marks it RELEASED, after
which the data plane drops and counts the UE's packets, and the enforcer (nftables in the testbed) stops the UE for
real. Release is idempotent, so an SMF may retry it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from nwdaf.lib.dataplane.sessions import PduSession
from nwdaf.lib.dataplane.sessions import Snssai as DpSnssai
from nwdaf.nf.upf.filters import FilterError, RowFilter, app_id_set, compile_traffic_filters
from nwdaf.nf.upf.jsonpatch import JsonPatchError, apply_patch
from nwdaf.nf.upf.reports import EventSpec
from nwdaf.nf.upf.state import ReportingSubscription, UpfContext
from nwdaf.nf.upf.usage import Level, Window
from nwdaf.platform.models.common import (
    DateTime,
    Dnn,
    Ipv4Addr,
    Ipv6Prefix,
    PatchItem,
    Snssai,
    Supi,
    WireModel,
    to_wire,
)
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
from nwdaf.platform.n4 import ConfiguredPduSession, PduSessionEstablishment
from nwdaf.platform.sbi import InvalidParam, ProblemError
from nwdaf.platform.sbi.body import parse_model

log = logging.getLogger("nwdaf.upf")
n4_log = logging.getLogger("nwdaf.upf.n4")

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
    return parse_model(patched, UpfEventSubscription, what="the patched subscription")


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


# --- PDU sessions (N4-like) ---------------------------------------------------------------------------------


class PduSessionInfo(WireModel):
    """A PDU session as the UPF holds it, with the packets dropped since its release."""

    seid: int
    supi: Supi
    pduSessionId: int
    ueIpv4Addr: Ipv4Addr | None = None
    ueIpv6Prefix: Ipv6Prefix | None = None
    snssai: Snssai
    dnn: Dnn
    state: Literal["ACTIVE", "RELEASED"]
    droppedPackets: int
    droppedBytes: int
    forwardedPackets: int
    forwardedBytes: int
    establishedAt: DateTime | None = None
    releasedAt: DateTime | None = None


def _when(ns: int | None) -> datetime | None:
    return datetime.fromtimestamp(ns / 1e9, tz=UTC) if ns else None


def session_info(ctx: UpfContext, s: PduSession) -> PduSessionInfo:
    totals = ctx.accounting.by_session.total
    ul_b, dl_b, ul_p, dl_p = (int(v) for v in totals[s.index]) if s.index < len(totals) else (0, 0, 0, 0)
    return PduSessionInfo(
        seid=s.seid, supi=s.supi, pduSessionId=s.pdu_session_id, ueIpv4Addr=s.ue_ipv4,
        ueIpv6Prefix=s.ue_ipv6_prefix, snssai=Snssai(sst=s.snssai.sst, sd=s.snssai.sd), dnn=s.dnn,
        state="ACTIVE" if s.active else "RELEASED", droppedPackets=s.dropped_packets, droppedBytes=s.dropped_bytes,
        forwardedPackets=ul_p + dl_p, forwardedBytes=ul_b + dl_b, establishedAt=_when(s.established_ns),
        releasedAt=_when(s.released_ns),
    )


async def establish(ctx: UpfContext, req: PduSessionEstablishment) -> PduSessionInfo:
    """Install a PDU session; a UE address, SUPI + PDU session ID already active is a 409 conflict."""
    try:
        s = ctx.sessions.establish(
            req.supi, req.pduSessionId, ue_ipv4=req.ueIpv4Addr, ue_ipv6_prefix=req.ueIpv6Prefix,
            snssai=DpSnssai(req.snssai.sst, req.snssai.sd), dnn=req.dnn, now_ns=ctx.clock.stamp_ns(),
        )
    except ValueError as exc:
        raise ProblemError(409, "Conflict", str(exc), "RESOURCE_ALREADY_EXIST",
                           [InvalidParam("/", str(exc))]) from None
    for address in (s.ue_ipv4, s.ue_ipv6_prefix):
        if address is not None:
            await ctx.enforcer.unblock(address)  # the address may have belonged to a released session
    n4_log.info("PDU session established: seid %d, UE %s", s.seid, s.ue_ipv4 or s.ue_ipv6_prefix,
             extra={"supi": s.supi, "pdu_session_id": s.pdu_session_id})
    return session_info(ctx, s)


def establish_configured(ctx: UpfContext, sessions: Sequence[ConfiguredPduSession]) -> list[PduSession]:
    """Install the ``upf.sessions`` of the configuration (at start-up; those already active are kept).

    Raises ``ValueError`` naming the entry (``upf.sessions[i]``) when the data plane refuses one.
    """
    installed = []
    now_ns = ctx.clock.stamp_ns()
    for i, req in enumerate(sessions):
        if any(s.active for s in ctx.sessions.find(supi=req.supi, pdu_session_id=req.pduSessionId)):
            continue  # a restarted service keeps its sessions
        try:
            s = ctx.sessions.establish(
                req.supi, req.pduSessionId, seid=req.seid, ue_ipv4=req.ueIpv4Addr, ue_ipv6_prefix=req.ueIpv6Prefix,
                snssai=DpSnssai(req.snssai.sst, req.snssai.sd), dnn=req.dnn, now_ns=now_ns)
        except ValueError as exc:
            raise ValueError(f"upf.sessions[{i}] ({req.supi}): {exc}") from None
        n4_log.info("PDU session established from the configuration: seid %d, UE %s", s.seid,
                 s.ue_ipv4 or s.ue_ipv6_prefix, extra={"supi": s.supi, "pdu_session_id": s.pdu_session_id})
        installed.append(s)
    return installed


def list_sessions(ctx: UpfContext, supi: str | None = None) -> list[PduSessionInfo]:
    return [session_info(ctx, s) for s in ctx.sessions.sessions if supi is None or s.supi == supi]


def _by_seid(ctx: UpfContext, seid: int) -> PduSession:
    # A SEID is reused by nobody, but a released session keeps it: the latest one wins.
    found = [s for s in ctx.sessions.sessions if s.seid == seid]
    if not found:
        raise ProblemError(404, "Not Found", f"no PDU session with SEID {seid}", "CONTEXT_NOT_FOUND")
    return found[-1]


def get_session(ctx: UpfContext, seid: int) -> PduSessionInfo:
    return session_info(ctx, _by_seid(ctx, seid))


async def release(ctx: UpfContext, seid: int) -> PduSessionInfo:
    """Release a session (idempotent): the data plane drops its packets from now on, the enforcer blocks the UE."""
    s = _by_seid(ctx, seid)
    if s.active:
        ctx.sessions.release(seid=seid, now_ns=ctx.clock.stamp_ns())
        n4_log.info("PDU session released: seid %d, UE %s", s.seid, s.ue_ipv4 or s.ue_ipv6_prefix,
                 extra={"supi": s.supi, "pdu_session_id": s.pdu_session_id})
    for address in (s.ue_ipv4, s.ue_ipv6_prefix):
        if address is None or any(o.active and address in (o.ue_ipv4, o.ue_ipv6_prefix)
                                  for o in ctx.sessions.sessions):
            continue
        try:
            await ctx.enforcer.block(address)
        except Exception as exc:
            # The data plane already drops the UE; a retried DELETE retries the rule.
            raise ProblemError(500, "Internal Server Error", f"session released but {ctx.enforcer.name} could "
                               f"not block {address}: {exc}", "SYSTEM_FAILURE") from exc
    return session_info(ctx, s)
