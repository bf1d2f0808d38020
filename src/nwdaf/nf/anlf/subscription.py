"""Accepting an ``NnwdafEventsSubscription``: validation, and what each subscribed event asks this NWDAF to do.

Checks, in order: JSON object; the 3GPP YAML (TS29520_Nnwdaf_EventsSubscription.yaml), when available; the wire
models, whose enumerations are closed (an unknown ``event`` or ``excepId`` is a 400 naming the attribute, not a
silent default); then the rules the schema cannot express. Events this NWDAF does not produce are reported in
``failEventReports`` with ``UNAVAILABLE_DATA`` (TS 29.520 clause 4.2.2.2.2: a subscription may be accepted for a
subset of its events); when no event can be served the request is rejected with 403 and the same cause. An
analytics filter this NWDAF cannot apply to a served event (see :data:`~nwdaf.nf.anlf.reports.HONOURED_FILTERS`) is
a 400 naming the attribute: the consumer learns it, instead of receiving analytics the filter would have excluded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, TypeVar
from urllib.parse import urlsplit

from nwdaf.nf.anlf.reports import SUPPORTED_EVENTS, Selector, exception_levels, unhonoured_filters
from nwdaf.platform.models import (
    EventSubscription,
    FailureEventInfo,
    MatchingDirection,
    NnwdafEventsSubscription,
    NotificationMethod,
    NsmfNotificationMethod,
    NwdafEvent,
    NwdafFailureCode,
)
from nwdaf.platform.models.openapi import SpecValidator
from nwdaf.platform.sbi import InvalidParam, ProblemError
from nwdaf.platform.sbi.body import json_object, parse_model

SUBSCRIPTION_SCHEMA: Final = "TS29520_Nnwdaf_EventsSubscription.yaml#/components/schemas/NnwdafEventsSubscription"
OUTPUT_ATTRIBUTES: Final = ("eventNotifications", "failEventReports")
"""Attributes only the NWDAF sets (in responses); dropped from what a consumer sends."""


@dataclass(frozen=True, slots=True)
class EventPlan:
    """How one accepted ``eventSubscriptions[index]`` is served."""

    index: int
    selector: Selector
    method: NotificationMethod
    period_s: int | None = None


@dataclass(slots=True)
class Subscription:
    """An Individual NWDAF Event Subscription resource and its delivery progress."""

    subscription_id: str
    body: dict[str, Any]
    """The accepted request as the consumer sent it (minus output attributes): what PUT replaces and GET-like
    responses echo, including attributes this NWDAF does not model."""
    request: NnwdafEventsSubscription
    plans: tuple[EventPlan, ...]
    failed: tuple[FailureEventInfo, ...]
    anchor: float
    """Epoch seconds; PERIODIC report k of a plan is due at anchor + k * period."""
    watch_from: int = 0
    """First :attr:`~nwdaf.nf.anlf.state.Finding.seq` reported to this subscription on detection: a finding still
    current but accepted earlier never was (the subscription did not exist yet, or selected other findings, and no
    immediate report carried it), so its next window is reported as new. Set by the processor."""
    reports_sent: int = 0
    terminated: bool = field(default=False)

    @property
    def notification_uri(self) -> str:
        assert self.request.notificationURI is not None  # enforced by parse_subscription
        return self.request.notificationURI

    @property
    def max_reports(self) -> int | None:
        evt = self.request.evtReq
        if evt is not None and evt.notifMethod is NsmfNotificationMethod.ONE_TIME:
            return 1
        return evt.maxReportNbr if evt is not None and evt.maxReportNbr else None

    @property
    def expires_at(self) -> float | None:
        evt = self.request.evtReq
        return evt.monDur.timestamp() if evt is not None and evt.monDur is not None else None

    @property
    def immediate_report(self) -> bool:
        return bool(self.request.evtReq is not None and self.request.evtReq.immRep)

    @property
    def group_time_s(self) -> float | None:
        """``evtReq.grpRepTime``: how long findings detected for this subscription are gathered into one
        notification (None: the NWDAF's own ``anlf.detection_group_s``)."""
        evt = self.request.evtReq
        return float(evt.grpRepTime) if evt is not None and evt.grpRepTime is not None else None

    @property
    def exhausted(self) -> bool:
        limit = self.max_reports
        return limit is not None and self.reports_sent >= limit


def _bad_request(detail: str, params: Sequence[InvalidParam], cause: str = "MANDATORY_IE_INCORRECT") -> ProblemError:
    return ProblemError(400, "Invalid request", detail, cause, list(params)[:50])


def parse_request(body: Any, validator: SpecValidator | None) -> tuple[dict[str, Any], NnwdafEventsSubscription]:
    """Validate ``body`` against the YAML and the models; returns the cleaned body and its model."""
    cleaned = {k: v for k, v in json_object(body, "NnwdafEventsSubscription").items() if k not in OUTPUT_ATTRIBUTES}
    request = parse_model(cleaned, NnwdafEventsSubscription, validator=validator, schema=SUBSCRIPTION_SCHEMA)
    _check_notification_uri(request.notificationURI)
    return cleaned, request


def _check_notification_uri(uri: str | None) -> None:
    if not uri:
        raise _bad_request("notificationURI is required: it is where this NWDAF sends the notifications",
                           [InvalidParam("/notificationURI", "missing")], "MANDATORY_IE_MISSING")
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _bad_request(f"notificationURI {uri!r} is not an absolute http(s) URI",
                           [InvalidParam("/notificationURI", "not an absolute http(s) URI")])


UNSUPPORTED_REPORTING: Final = ("sampRatio", "partitionCriteria", "notifFlagInstruct", "mutingSetting")
"""``evtReq`` (TS 29.523 ``ReportingInformation``) attributes this NWDAF cannot apply: refused (400), not ignored."""


def is_periodic(sub: EventSubscription, request: NnwdafEventsSubscription) -> bool:
    """Whether an event is reported PERIODIC: its own ``notificationMethod``, else ``evtReq.notifMethod`` (which
    TS 29.523 defaults to ON_EVENT_DETECTION)."""
    if sub.notificationMethod is not None:
        return sub.notificationMethod is NotificationMethod.PERIODIC
    evt = request.evtReq
    return evt is not None and evt.notifMethod is NsmfNotificationMethod.PERIODIC


def _method(sub: EventSubscription, index: int, request: NnwdafEventsSubscription, min_period_s: int
            ) -> tuple[NotificationMethod, int | None]:
    """How one event is reported, refusing (400) what contradicts itself; see "NBI reporting" in
    ``docs/architecture.md``. ON_EVENT_DETECTION (``evtReq``) and THRESHOLD (the event's) both mean: report a
    matching finding as soon as it is accepted; ONE_TIME is the same, capped at one report
    (:attr:`Subscription.max_reports`)."""
    where = f"/eventSubscriptions/{index}"
    evt_method = request.evtReq.notifMethod if request.evtReq is not None else None
    own = sub.notificationMethod
    if evt_method is not None and own is not None and (own is NotificationMethod.PERIODIC) != (
            evt_method is NsmfNotificationMethod.PERIODIC):
        reason = f"{own.value} contradicts evtReq.notifMethod {evt_method.value}"
        raise _bad_request(f"{where}/notificationMethod {reason}",
                           [InvalidParam(f"{where}/notificationMethod", reason)])
    if not is_periodic(sub, request):
        if sub.repetitionPeriod is not None:
            # TS 29.520 NotificationMethod: the period is that of PERIODIC notifications; reports on detection
            # have none, and a consumer sending one would wait for reports that never come.
            raise _bad_request(f"{where}/repetitionPeriod is only for notificationMethod PERIODIC",
                               [InvalidParam(f"{where}/repetitionPeriod", "only for PERIODIC reporting")])
        return NotificationMethod.THRESHOLD, None
    period = sub.repetitionPeriod or (request.evtReq.repPeriod if request.evtReq is not None else None)
    assert period is not None  # NnwdafEventsSubscription refuses a PERIODIC event without one
    if period < min_period_s:
        raise _bad_request(f"repetitionPeriod must be >= {min_period_s} s for PERIODIC reporting",
                           [InvalidParam(f"{where}/repetitionPeriod", f"{period!r} < {min_period_s}")])
    return NotificationMethod.PERIODIC, period


def check_reporting(body: dict[str, Any], request: NnwdafEventsSubscription) -> None:
    """Refuse (400) ``evtReq`` attributes that mean nothing for the request or that this NWDAF cannot apply:
    ``repPeriod`` when no event is reported PERIODIC (TS 29.523: it is supplied for PERIODIC), ``grpRepTime``
    when every event is (it groups reports on detection), the sampling and muting attributes, and a
    ``matchingDir`` other than ASCENDING (an exception is reported when its ``excepLevel`` is reached, never
    when it falls)."""
    evt, raw = request.evtReq, body.get("evtReq") or {}
    periodic = [is_periodic(sub, request) for sub in request.eventSubscriptions]
    params = [InvalidParam(f"/evtReq/{name}", "not supported by this NWDAF")
              for name in UNSUPPORTED_REPORTING if raw.get(name) is not None]
    if raw.get("notifFlag") not in (None, "ACTIVATE"):
        params.append(InvalidParam("/evtReq/notifFlag", "muting is not supported by this NWDAF"))
    if (evt is not None and evt.repPeriod is not None and evt.notifMethod is not NsmfNotificationMethod.PERIODIC
            and not any(periodic)):
        params.append(InvalidParam("/evtReq/repPeriod", "only for PERIODIC reporting, and no event is PERIODIC"))
    if evt is not None and evt.grpRepTime is not None and all(periodic):
        params.append(InvalidParam("/evtReq/grpRepTime", "groups reports on detection, and every event is PERIODIC"))
    params += [InvalidParam(f"/eventSubscriptions/{i}/matchingDir", "only ASCENDING is supported")
               for i, sub in enumerate(request.eventSubscriptions)
               if sub.event in SUPPORTED_EVENTS and sub.matchingDir not in (None, MatchingDirection.ASCENDING)]
    if params:
        raise _bad_request("; ".join(f"{p.param}: {p.reason}" for p in params), params, "OPTIONAL_IE_INCORRECT")


def _target_supis(sub: EventSubscription, index: int) -> tuple[frozenset[str] | None, bool]:
    """(SUPIs or None for any UE, servable). GPSIs and internal groups need the UDM to resolve, which this
    NWDAF does not consume, so a target given only that way cannot be served."""
    where = f"/eventSubscriptions/{index}/tgtUe"
    tgt = sub.tgtUe
    if tgt is None or not (tgt.anyUe or tgt.supis or tgt.gpsis or tgt.intGroupIds):
        # TS 29.520 clause 5.1.6.2.3: tgtUe is required for UE-related analytics such as these two events.
        raise _bad_request(f"{sub.event.value} analytics need tgtUe (anyUe or supis)",
                           [InvalidParam(where, "missing")], "MANDATORY_IE_MISSING")
    if tgt.anyUe:
        if sub.event is NwdafEvent.UE_COMMUNICATION:
            # TS 23.288 clause 6.7.3.1: UE communication analytics are for a UE or a group, not any UE.
            raise _bad_request("UE_COMMUNICATION analytics are per UE: give tgtUe.supis, not anyUe",
                               [InvalidParam(f"{where}/anyUe", "not applicable to UE_COMMUNICATION")])
        return None, True
    if tgt.supis:
        return frozenset(tgt.supis), True
    return None, False


def plan_events(request: NnwdafEventsSubscription, min_period_s: int
                ) -> tuple[tuple[EventPlan, ...], tuple[FailureEventInfo, ...]]:
    """Plans for the events this NWDAF can serve, failure reports for the others; raises 400/403."""
    plans: list[EventPlan] = []
    failed: list[FailureEventInfo] = []
    for index, sub in enumerate(request.eventSubscriptions):
        if sub.event not in SUPPORTED_EVENTS:
            failed.append(FailureEventInfo(event=sub.event, failureCode=NwdafFailureCode.UNAVAILABLE_DATA))
            continue
        supis, servable = _target_supis(sub, index)
        if not servable:
            failed.append(FailureEventInfo(event=sub.event, failureCode=NwdafFailureCode.UNAVAILABLE_DATA))
            continue
        method, period = _method(sub, index, request, min_period_s)
        selector = Selector(
            event=sub.event,
            supis=supis,
            exceptions=exception_levels(sub.excepRequs, sub.exptAnaType)
            if sub.event is NwdafEvent.ABNORMAL_BEHAVIOUR else None,
            dnns=frozenset(sub.dnns) if sub.dnns else None,
            snssais=frozenset(s.to_key() for s in sub.snssaia) if sub.snssaia else None,
        )
        plans.append(EventPlan(index, selector, method, period))
    if not plans:
        supported = ", ".join(sorted(e.value for e in SUPPORTED_EVENTS))
        raise ProblemError(
            403, "Forbidden", f"none of the subscribed events can be served (this NWDAF provides {supported}; "
            "UE targets must be anyUe or SUPIs)", NwdafFailureCode.UNAVAILABLE_DATA.value,
            [InvalidParam(f"/eventSubscriptions/{i}/event", "analytics unavailable")
             for i in range(len(request.eventSubscriptions))],
        )
    return tuple(plans), tuple(failed)


def check_filters(body: dict[str, Any], request: NnwdafEventsSubscription) -> None:
    """Refuse (400) every analytics filter of a served event that this NWDAF cannot apply, rather than report
    analytics the filter would have excluded; and ``anySlice`` together with ``snssaia`` (TS 29.520: one or the
    other). Events that cannot be served at all are left to :func:`plan_events` (``failEventReports``)."""
    params: list[InvalidParam] = []
    for index, (raw, sub) in enumerate(zip(body["eventSubscriptions"], request.eventSubscriptions, strict=True)):
        if sub.event not in SUPPORTED_EVENTS:
            continue
        where = f"/eventSubscriptions/{index}"
        params += [InvalidParam(f"{where}/{name}", f"this NWDAF cannot filter {sub.event.value} analytics on {name}")
                   for name in unhonoured_filters(sub.event, raw)]
        if sub.anySlice and sub.snssaia:
            params.append(InvalidParam(f"{where}/snssaia", "anySlice and snssaia are mutually exclusive"))
    if params:
        raise _bad_request("; ".join(f"{p.param}: {p.reason}" for p in params)[:1000], params,
                           "OPTIONAL_IE_INCORRECT")


def check_monitoring_duration(request: NnwdafEventsSubscription, now: datetime) -> None:
    evt = request.evtReq
    if evt is not None and evt.monDur is not None and evt.monDur <= now:
        raise _bad_request(f"evtReq.monDur {evt.monDur.isoformat()} is not in the future",
                           [InvalidParam("/evtReq/monDur", "in the past")])


def accept(subscription_id: str, body: Any, validator: SpecValidator | None, anchor: float,
           min_period_s: int = 1) -> Subscription:
    """Validate a create/update request and build the resource (nothing stored yet)."""
    cleaned, request = parse_request(body, validator)
    return admit(subscription_id, cleaned, request, anchor, min_period_s)


def admit(subscription_id: str, body: dict[str, Any], request: NnwdafEventsSubscription, anchor: float,
          min_period_s: int = 1) -> Subscription:
    """Build the resource of a parsed request (:func:`parse_request`), checking what the schema cannot express."""
    check_filters(body, request)
    check_reporting(body, request)
    check_monitoring_duration(request, datetime.fromtimestamp(anchor, UTC))
    plans, failed = plan_events(request, min_period_s)
    return Subscription(subscription_id, body, request, plans, failed, anchor)


K = TypeVar("K")
PlanKey = tuple[str, int]
"""(subscriptionId, index of the event in eventSubscriptions)."""


class ThresholdIndex:
    """THRESHOLD plans by event and target UE: a finding is matched against the plans for its UE and the any-UE
    plans of its event only, not against every subscription."""

    def __init__(self) -> None:
        self._any: dict[str, dict[PlanKey, EventPlan]] = {}
        self._by_supi: dict[tuple[str, str], dict[PlanKey, EventPlan]] = {}

    def add(self, subscription_id: str, plan: EventPlan) -> None:
        event, key = plan.selector.event.value, (subscription_id, plan.index)
        if plan.selector.supis is None:
            self._any.setdefault(event, {})[key] = plan
        else:
            for supi in plan.selector.supis:
                self._by_supi.setdefault((event, supi), {})[key] = plan

    def remove(self, subscription_id: str, plan: EventPlan) -> None:
        event, key = plan.selector.event.value, (subscription_id, plan.index)
        if plan.selector.supis is None:
            _discard(self._any, event, key)
        else:
            for supi in plan.selector.supis:
                _discard(self._by_supi, (event, supi), key)

    def candidates(self, event: str, supi: str) -> list[tuple[str, EventPlan]]:
        """The plans a finding of ``event`` for ``supi`` may trigger."""
        found = [*self._any.get(event, {}).items(), *self._by_supi.get((event, supi), {}).items()]
        return [(sid, plan) for (sid, _), plan in found]


def _discard(buckets: dict[K, dict[PlanKey, EventPlan]], bucket: K, key: PlanKey) -> None:
    plans = buckets.get(bucket)
    if plans is not None:
        plans.pop(key, None)
        if not plans:
            del buckets[bucket]
