"""Nnwdaf_AnalyticsInfo_Request (TS 29.520 clause 4.3.2.2): the current analytics for one ``EventId``.

Query parameters arrive as text; ``ana-req``, ``event-filter`` and ``tgt-ue`` are JSON-encoded objects (TS 29.520
clause 5.2.3.2.3.1). Each is parsed, checked against the YAML (when available) and the models, and a failure is a
400 whose ``invalidParams`` names the parameter (``event-filter/excepIds/0``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final, TypeVar

import orjson

from nwdaf.nf.anlf.reports import SUPPORTED_EVENTS, Selector, analytics_data, exception_levels, unhonoured_filters
from nwdaf.nf.anlf.state import Finding, FindingsState
from nwdaf.platform.models import (
    AnalyticsData,
    AnalyticsException,
    EventFilter,
    EventId,
    EventReportingRequirement,
    NwdafEvent,
    NwdafFailureCode,
    TargetUeInformation,
    WireModel,
)
from nwdaf.platform.models.openapi import SpecValidator
from nwdaf.platform.sbi import InvalidParam, ProblemError
from nwdaf.platform.sbi.body import parse_model

_ES = "TS29520_Nnwdaf_EventsSubscription.yaml#/components/schemas/"
_AI = "TS29520_Nnwdaf_AnalyticsInfo.yaml#/components/schemas/"
PARAMS: Final[dict[str, tuple[type[WireModel], str]]] = {
    "ana-req": (EventReportingRequirement, _ES + "EventReportingRequirement"),
    "event-filter": (EventFilter, _AI + "EventFilter"),
    "tgt-ue": (TargetUeInformation, _ES + "TargetUeInformation"),
}
M = TypeVar("M", bound=WireModel)


@dataclass(frozen=True, slots=True)
class AnalyticsQuery:
    """A parsed ``GET /analytics`` request."""

    event: NwdafEvent
    ana_req: EventReportingRequirement | None = None
    event_filter: EventFilter | None = None
    tgt_ue: TargetUeInformation | None = None


def _bad(param: str, reason: str, cause: str = "INVALID_QUERY_PARAM") -> ProblemError:
    return ProblemError(400, "Invalid request", f"query parameter {param}: {reason}", cause,
                        [InvalidParam(param, reason)])


def _event(raw: str | None) -> NwdafEvent:
    if raw is None or raw == "":
        raise _bad("event-id", "missing (an EventId is required)", "MANDATORY_QUERY_PARAM_MISSING")
    try:
        event_id = EventId(raw)
    except ValueError:
        raise _bad("event-id", f"{raw!r} is not an EventId", "MANDATORY_QUERY_PARAM_INCORRECT") from None
    if event_id.value not in {e.value for e in SUPPORTED_EVENTS}:
        supported = ", ".join(sorted(e.value for e in SUPPORTED_EVENTS))
        raise ProblemError(403, "Forbidden", f"analytics {raw} are not provided by this NWDAF ({supported} are)",
                           NwdafFailureCode.UNAVAILABLE_DATA.value, [InvalidParam("event-id", "unavailable")])
    return NwdafEvent(event_id.value)


def _json_param(name: str, raw: str | None, model: type[M], ref: str, validator: SpecValidator | None) -> M | None:
    if raw is None:
        return None
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _bad(name, f"not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise _bad(name, "must be a JSON object")
    return parse_model(doc, model, what=f"query parameter {name}", validator=validator, schema=ref, at=name,
                       cause="INVALID_QUERY_PARAM")


def parse_query(query: Mapping[str, str], validator: SpecValidator | None) -> AnalyticsQuery:
    """Parse and validate the query parameters of ``GET /analytics`` (400/403 ProblemError on failure)."""
    event = _event(query.get("event-id"))
    parsed = {name: _json_param(name, query.get(name), model, ref, validator) for name, (model, ref) in PARAMS.items()}
    ana_req = parsed["ana-req"]
    event_filter = parsed["event-filter"]
    tgt_ue = parsed["tgt-ue"]
    assert ana_req is None or isinstance(ana_req, EventReportingRequirement)
    assert event_filter is None or isinstance(event_filter, EventFilter)
    assert tgt_ue is None or isinstance(tgt_ue, TargetUeInformation)
    _check_filters(event, query.get("event-filter"))
    return AnalyticsQuery(event, ana_req, event_filter, tgt_ue)


def _check_filters(event: NwdafEvent, raw: str | None) -> None:
    """Refuse (400) the ``event-filter`` attributes this NWDAF cannot apply to ``event``, instead of answering
    with analytics they would have excluded (``raw`` has already been parsed and validated as an object)."""
    doc = orjson.loads(raw) if raw is not None else {}
    params = [InvalidParam(f"event-filter/{name}", f"this NWDAF cannot filter {event.value} analytics on {name}")
              for name in unhonoured_filters(event, doc)]
    if params:
        raise ProblemError(400, "Invalid request", f"query parameter event-filter: {params[0].reason}",
                           "OPTIONAL_QUERY_PARAM_INCORRECT", params)


def selector_of(query: AnalyticsQuery) -> Selector:
    tgt, flt = query.tgt_ue, query.event_filter
    supis: frozenset[str] | None = None
    if tgt is not None and not tgt.anyUe:
        if not tgt.supis and (tgt.gpsis or tgt.intGroupIds):
            raise ProblemError(403, "Forbidden", "GPSIs and internal groups cannot be resolved to SUPIs here "
                               "(no UDM); give tgt-ue as anyUe or supis", NwdafFailureCode.UNAVAILABLE_DATA.value,
                               [InvalidParam("tgt-ue", "only supis or anyUe are supported")])
        supis = frozenset(tgt.supis) if tgt.supis else None
    exceptions = None
    if flt is not None and query.event is NwdafEvent.ABNORMAL_BEHAVIOUR:
        requested = [AnalyticsException(excepId=e) for e in flt.excepIds] if flt.excepIds else None
        exceptions = exception_levels(requested, flt.exptAnaType)
    return Selector(
        event=query.event,
        supis=supis,
        exceptions=exceptions,
        dnns=frozenset(flt.dnns) if flt is not None and flt.dnns else None,
        snssais=frozenset(s.to_key() for s in flt.snssais) if flt is not None and flt.snssais else None,
    )


def _in_window(finding: Finding, req: EventReportingRequirement | None) -> bool:
    if req is None:
        return True
    result = finding.result
    return not ((req.startTs is not None and result.window_end < req.startTs)
                or (req.endTs is not None and result.window_start > req.endTs))


def _limit(findings: list[Finding], req: EventReportingRequirement | None) -> list[Finding]:
    if req is None:
        return findings
    limits = [n for n in (req.maxObjectNbr, req.maxSupiNbr) if n]
    if not limits:
        return findings
    newest = sorted(findings, key=lambda f: f.result.generated_at, reverse=True)[: min(limits)]
    return sorted(newest, key=lambda f: f.result.generated_at)


def get_analytics(findings: FindingsState, query: AnalyticsQuery, now: datetime) -> AnalyticsData | None:
    """The current analytics matching ``query``; None when there are none (HTTP 204)."""
    selector = selector_of(query)
    found = findings.current(selector.event.value, selector.supis,
                             lambda f: selector.matches(f) and _in_window(f, query.ana_req))
    return analytics_data(selector.event, _limit(found, query.ana_req), now)
