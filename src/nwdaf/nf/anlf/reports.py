"""From findings to 3GPP analytics: which findings a request selects, and their TS 29.520 wire form.

Pure functions over :class:`~nwdaf.nf.anlf.state.Finding`; shared by Nnwdaf_EventsSubscription (notifications,
immediate reports) and Nnwdaf_AnalyticsInfo (``AnalyticsData``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from pydantic import ValidationError

from nwdaf.nf.anlf.state import Finding
from nwdaf.platform.events import AnalyticsResult
from nwdaf.platform.models import (
    AbnormalBehaviour,
    AdditionalMeasurement,
    AnalyticsData,
    AnalyticsException,
    EventNotification,
    ExceptionId,
    ExpectedAnalyticsType,
    NwdafEvent,
    Snssai,
    TrafficCharacterization,
    UeCommunication,
    snssai_key,
)

log = logging.getLogger("nwdaf.anlf")

SUPPORTED_EVENTS = frozenset({NwdafEvent.ABNORMAL_BEHAVIOUR, NwdafEvent.UE_COMMUNICATION})

# TS 23.288 clause 6.7.5.1 (Table 6.7.5.1-1): which exceptions are mobility or communication related.
MOBILITY_EXCEPTIONS = frozenset({
    ExceptionId.UNEXPECTED_UE_LOCATION, ExceptionId.UNEXPECTED_RADIO_LINK_FAILURES, ExceptionId.PING_PONG_ACROSS_CELLS,
})
COMMUNICATION_EXCEPTIONS = frozenset(ExceptionId) - MOBILITY_EXCEPTIONS
EXPECTED_TYPE_EXCEPTIONS: Mapping[ExpectedAnalyticsType, frozenset[ExceptionId]] = {
    ExpectedAnalyticsType.MOBILITY: MOBILITY_EXCEPTIONS,
    ExpectedAnalyticsType.COMMUN: COMMUNICATION_EXCEPTIONS,
    ExpectedAnalyticsType.MOBILITY_AND_COMMUN: frozenset(ExceptionId),
}


# Analytics filter attributes (TS 29.520 ``EventFilter``, and their ``EventSubscription`` spellings ``snssaia`` and
# ``excepRequs``) a request may carry. Those an event honours here (HONOURED_FILTERS) restrict its findings; any
# other one present is refused (400), never ignored: a consumer must not get analytics it did not ask for.
ANALYTICS_FILTERS: Final = frozenset({
    "anySlice", "snssais", "snssaia", "roamingInfo", "appIds", "dnns", "dnais", "ladnDnns", "location",
    "networkArea", "temporalGranSize", "spatialGranSizeTa", "spatialGranSizeCell", "fineGranAreas", "visitedAreas",
    "maxTopAppUlNbr", "maxTopAppDlNbr", "nfInstanceIds", "nfSetIds", "nfTypes", "nsiIdInfos", "qosRequ",
    "nwPerfReqs", "nwPerfRequs", "nwPerfTypes", "addNwPerfReqs", "userDataConReqs", "bwRequs", "excepIds",
    "excepRequs", "exptAnaType", "exptUeBehav", "ratFreqs", "disperReqs", "redTransReqs", "wlanReqs",
    "listOfAnaSubsets", "upfInfo", "appServerAddrs", "dnPerfReqs", "ueMobilityReqs", "pduSesInfos",
    "pduSesTrafReqs", "locAccReqs", "locGranularity", "locOrientation", "dataVlTrnsTmRqs", "accuReq",
    "movBehavReqs", "relProxReqs",
})
_SLICE_AND_DNN = frozenset({"anySlice", "snssais", "snssaia", "dnns"})
HONOURED_FILTERS: Mapping[NwdafEvent, frozenset[str]] = {
    # TS 23.288 clause 6.7.5.1: S-NSSAI and DNN, and the exceptions asked for (with their excepLevel threshold).
    NwdafEvent.ABNORMAL_BEHAVIOUR: _SLICE_AND_DNN | {"excepIds", "excepRequs", "exptAnaType"},
    # TS 23.288 clause 6.7.3.1: S-NSSAI and DNN. (Application ID too, but the processor's per-UE features carry
    # no application, so no finding could ever match an ``appIds`` filter: it is refused.)
    NwdafEvent.UE_COMMUNICATION: _SLICE_AND_DNN,
}


def unhonoured_filters(event: NwdafEvent, attributes: Mapping[str, Any]) -> list[str]:
    """The analytics filter attributes of a request object (JSON, ``null`` meaning absent) that this NWDAF cannot
    apply to ``event``."""
    honoured = HONOURED_FILTERS.get(event, frozenset())
    return [name for name, value in attributes.items()
            if value is not None and name in ANALYTICS_FILTERS and name not in honoured]


@dataclass(frozen=True, slots=True)
class Selector:
    """Which findings of one event a consumer asked for: target UEs, exceptions (each with an optional
    threshold ``excepLevel``), DNNs and slices. ``None`` means "no restriction".

    A finding that does not carry what a filter asks about (no DNN, no S-NSSAI, no excepLevel) does not match it.
    """

    event: NwdafEvent
    supis: frozenset[str] | None = None
    exceptions: Mapping[str, int | None] | None = None
    dnns: frozenset[str] | None = None
    snssais: frozenset[str] | None = None
    """S-NSSAIs in :func:`~nwdaf.platform.models.snssai_key` form (``"1"`` or ``"1-00000a"``)."""

    def matches(self, finding: Finding) -> bool:
        result = finding.result
        if result.event != self.event.value:
            return False
        if self.supis is not None and result.supi not in self.supis:
            return False
        if self.exceptions is not None and not self._exception_matches(result):
            return False
        if self.dnns is not None and result.dnn not in self.dnns:
            return False
        return self.snssais is None or snssai_key(result.snssai) in self.snssais

    def _exception_matches(self, result: AnalyticsResult) -> bool:
        exceptions = self.exceptions or {}
        if result.abnormal is None or result.abnormal.excep_id not in exceptions:
            return False
        level = exceptions[result.abnormal.excep_id]
        return level is None or (result.abnormal.excep_level or 0) >= level


def exception_levels(
    excep_requs: Sequence[AnalyticsException] | None, expected: ExpectedAnalyticsType | None
) -> dict[str, int | None] | None:
    """Requested exceptions and their thresholds from ``excepRequs`` or ``exptAnaType`` (None = all)."""
    if excep_requs is not None:
        return {e.excepId.value: e.excepLevel for e in excep_requs}
    if expected is not None:
        return {e.value: None for e in EXPECTED_TYPE_EXCEPTIONS[expected]}
    return None


def _optional(model: type[Snssai] | type[AdditionalMeasurement], value: Any, what: str, supi: str) -> Any:
    """Parse an optional part of an engine's result; a malformed part is left out (and logged), not fatal."""
    if value is None:
        return None
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        log.warning("leaving out malformed %s of a finding: %s", what, exc.errors()[:3], extra={"supi": supi})
        return None


def abnormal_behaviour(finding: Finding) -> AbnormalBehaviour:
    """TS 29.520 ``AbnormalBehaviour`` for one UE's finding (one entry per UE: confidence and ratio differ)."""
    result = finding.result
    abnormal = result.abnormal
    if abnormal is None:
        raise ValueError(f"finding for {result.supi} has no abnormal-behaviour part")
    return AbnormalBehaviour(
        supis=[result.supi],
        excep=AnalyticsException(excepId=ExceptionId(abnormal.excep_id), excepLevel=abnormal.excep_level),
        dnn=result.dnn,
        snssai=_optional(Snssai, result.snssai, "snssai", result.supi),
        # SamplingRatio is 1..100: a ratio below 1 % is not expressible, so it is omitted.
        ratio=min(abnormal.ratio, 100) if abnormal.ratio is not None and abnormal.ratio >= 1 else None,
        confidence=max(0, abnormal.confidence),
        addtMeasInfo=_optional(AdditionalMeasurement, abnormal.addt_meas, "addtMeasInfo", result.supi),
    )


def ue_communication(finding: Finding) -> UeCommunication:
    """TS 29.520 ``UeCommunication`` for one UE's communication window."""
    result = finding.result
    comm = result.ue_comm
    if comm is None:
        raise ValueError(f"finding for {result.supi} has no UE-communication part")
    return UeCommunication(
        commDur=comm.comm_dur_s,
        ts=result.window_start,
        trafChar=TrafficCharacterization(
            dnn=result.dnn,
            snssai=_optional(Snssai, result.snssai, "snssai", result.supi),
            appId=comm.app_ids[0] if len(comm.app_ids) == 1 else None,
            ulVol=comm.ul_volume_bytes,
            dlVol=comm.dl_volume_bytes,
        ),
    )


def _convertible(findings: Sequence[Finding], event: NwdafEvent) -> list[Finding]:
    part = "abnormal" if event is NwdafEvent.ABNORMAL_BEHAVIOUR else "ue_comm"
    return [f for f in findings if getattr(f.result, part) is not None]


def _time_fields(findings: Sequence[Finding], now: datetime) -> dict[str, datetime]:
    if not findings:
        return {"timeStampGen": now}
    return {
        "start": min(f.result.window_start for f in findings),
        # The analytics stay valid until the first of them expires.
        "expiry": min(f.expiry for f in findings),
        "timeStampGen": max(f.result.generated_at for f in findings),
    }


def event_notification(event: NwdafEvent, findings: Sequence[Finding], now: datetime) -> EventNotification:
    """One ``EventNotification``; without findings it still reports the event (nothing observed)."""
    usable = _convertible(findings, event)
    items: dict[str, Any] = {}
    if usable and event is NwdafEvent.ABNORMAL_BEHAVIOUR:
        items["abnorBehavrs"] = [abnormal_behaviour(f) for f in usable]
    elif usable and event is NwdafEvent.UE_COMMUNICATION:
        items["ueComms"] = [ue_communication(f) for f in usable]
    return EventNotification(event=event, **_time_fields(usable, now), **items)


def analytics_data(event: NwdafEvent, findings: Sequence[Finding], now: datetime) -> AnalyticsData | None:
    """``AnalyticsData`` for Nnwdaf_AnalyticsInfo, or None when there is nothing to report (HTTP 204)."""
    usable = _convertible(findings, event)
    if not usable:
        return None
    note = event_notification(event, usable, now)
    return AnalyticsData(start=note.start, expiry=note.expiry, timeStampGen=note.timeStampGen,
                         abnorBehavrs=note.abnorBehavrs, ueComms=note.ueComms)
