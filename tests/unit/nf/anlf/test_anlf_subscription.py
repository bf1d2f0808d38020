"""Accepting NnwdafEventsSubscription requests: validation errors name the attribute; unsupported events."""

from __future__ import annotations

from typing import Any

import pytest

from nwdaf.nf.anlf.subscription import ThresholdIndex, accept
from nwdaf.platform.models import NotificationMethod, NwdafEvent
from nwdaf.platform.models.openapi import SpecValidator
from nwdaf.platform.sbi import ProblemError

pytestmark = pytest.mark.unit

NOW = 1_800_000_000.0


def _params(exc: pytest.ExceptionInfo[ProblemError]) -> list[str]:
    return [p.param for p in exc.value.invalid_params]


def test_listing_1_corrected_is_accepted(subscription_body: Any, validator: SpecValidator | None) -> None:
    sub = accept("s1", subscription_body(), validator, NOW)
    (plan,) = sub.plans
    assert plan.method is NotificationMethod.THRESHOLD
    assert plan.selector.event is NwdafEvent.ABNORMAL_BEHAVIOUR
    assert plan.selector.supis is None
    assert plan.selector.exceptions == {"SUSPICION_OF_DDOS_ATTACK": None}
    assert sub.notification_uri == "http://smf.example/cb"
    assert sub.failed == ()


def test_periodic_takes_its_period(subscription_body: Any, validator: SpecValidator | None) -> None:
    (plan,) = accept("s1", subscription_body("PERIODIC"), validator, NOW).plans
    assert (plan.method, plan.period_s) == (NotificationMethod.PERIODIC, 1)


def test_evt_req_periodic_applies_when_the_event_names_no_method(validator: SpecValidator | None) -> None:
    body = {"eventSubscriptions": [{"event": "ABNORMAL_BEHAVIOUR", "exptAnaType": "COMMUN",
                                    "tgtUe": {"supis": ["imsi-001010000000001"]}}],
            "notificationURI": "http://c.example/n", "evtReq": {"notifMethod": "PERIODIC", "repPeriod": 7}}
    sub = accept("s1", body, validator, NOW)
    (plan,) = sub.plans
    assert (plan.method, plan.period_s) == (NotificationMethod.PERIODIC, 7)
    assert plan.selector.supis == frozenset({"imsi-001010000000001"})
    assert plan.selector.exceptions is not None
    assert "SUSPICION_OF_DDOS_ATTACK" in plan.selector.exceptions
    assert "UNEXPECTED_UE_LOCATION" not in plan.selector.exceptions


def test_misspelt_abnormal_behaviour_request_is_rejected(validator: SpecValidator | None) -> None:
    broken = {"notificationURI": "http://smf-nsmf/notification",
              "eventSubscriptions": [{"event": "ABNORMAL_BEHAVIOUR",
                                      "exceptReques": [{"exceptId": "SUSPICION_OF_DDOS_ATTACK"}],
                                      "notificationMethod": "PERIODIC", "repetitionPeriod": 1}]}
    with pytest.raises(ProblemError) as exc:
        accept("s1", broken, validator, NOW)
    assert exc.value.status == 400
    # The misspelt attributes are ignored as unknown, so what is missing is what the TS requires.
    assert "/eventSubscriptions/0" in " ".join(_params(exc))


@pytest.mark.parametrize(("change", "param"), [
    ({"event": "BOTNET"}, "/eventSubscriptions/0/event"),
    ({"excepRequs": [{"excepId": "SUSPICIOUS"}]}, "/eventSubscriptions/0/excepRequs/0/excepId"),
    ({"notificationMethod": "SOMETIMES"}, "/eventSubscriptions/0/notificationMethod"),
])
def test_unknown_enum_values_are_400_naming_the_attribute(subscription_body: Any, validator: SpecValidator | None,
                                                          change: dict[str, Any], param: str) -> None:
    with pytest.raises(ProblemError) as exc:
        accept("s1", subscription_body(event=change), validator, NOW)
    assert exc.value.status == 400
    assert param in _params(exc)


def test_schema_violation_is_400(subscription_body: Any, validator: SpecValidator | None) -> None:
    body = subscription_body()
    body["eventSubscriptions"][0]["tgtUe"] = {"anyUe": "yes"}
    with pytest.raises(ProblemError) as exc:
        accept("s1", body, validator, NOW)
    assert exc.value.status == 400
    assert "/eventSubscriptions/0/tgtUe/anyUe" in _params(exc)


def test_not_an_object_is_400(validator: SpecValidator | None) -> None:
    with pytest.raises(ProblemError) as exc:
        accept("s1", [1, 2], validator, NOW)
    assert (exc.value.status, exc.value.cause) == (400, "INVALID_MSG_FORMAT")


@pytest.mark.parametrize("uri", [None, "smf/callback", "ftp://smf.example/cb"])
def test_notification_uri_must_be_absolute_http(subscription_body: Any, validator: SpecValidator | None,
                                                uri: str | None) -> None:
    body = subscription_body()
    if uri is None:
        del body["notificationURI"]
    else:
        body["notificationURI"] = uri
    with pytest.raises(ProblemError) as exc:
        accept("s1", body, validator, NOW)
    assert _params(exc) == ["/notificationURI"]


def test_supported_and_unsupported_events_mix(subscription_body: Any, validator: SpecValidator | None) -> None:
    body = subscription_body()
    body["eventSubscriptions"].append({"event": "NF_LOAD"})
    sub = accept("s1", body, validator, NOW)
    assert len(sub.plans) == 1
    assert [(f.event, f.failureCode.value) for f in sub.failed] == [(NwdafEvent.NF_LOAD, "UNAVAILABLE_DATA")]


def test_only_unsupported_events_is_403(validator: SpecValidator | None) -> None:
    body = {"eventSubscriptions": [{"event": "NF_LOAD"}, {"event": "SLICE_LOAD_LEVEL"}],
            "notificationURI": "http://c.example/n"}
    with pytest.raises(ProblemError) as exc:
        accept("s1", body, validator, NOW)
    assert (exc.value.status, exc.value.cause) == (403, "UNAVAILABLE_DATA")
    assert "ABNORMAL_BEHAVIOUR" in (exc.value.detail or "")


def test_gpsi_only_target_is_unavailable(subscription_body: Any, validator: SpecValidator | None) -> None:
    with pytest.raises(ProblemError) as exc:
        accept("s1", subscription_body(event={"tgtUe": {"gpsis": ["msisdn-491711234567"]}}), validator, NOW)
    assert exc.value.status == 403


def test_missing_target_is_400(subscription_body: Any, validator: SpecValidator | None) -> None:
    body = subscription_body()
    del body["eventSubscriptions"][0]["tgtUe"]
    with pytest.raises(ProblemError) as exc:
        accept("s1", body, validator, NOW)
    assert (exc.value.status, exc.value.cause, _params(exc)) == (400, "MANDATORY_IE_MISSING",
                                                                  ["/eventSubscriptions/0/tgtUe"])


def test_ue_communication_for_any_ue_is_400(validator: SpecValidator | None) -> None:
    body = {"eventSubscriptions": [{"event": "UE_COMMUNICATION", "tgtUe": {"anyUe": True}}],
            "notificationURI": "http://c.example/n"}
    with pytest.raises(ProblemError) as exc:
        accept("s1", body, validator, NOW)
    assert _params(exc) == ["/eventSubscriptions/0/tgtUe/anyUe"]


def test_monitoring_duration_in_the_past_is_400(subscription_body: Any, validator: SpecValidator | None) -> None:
    with pytest.raises(ProblemError) as exc:
        accept("s1", subscription_body(evtReq={"monDur": "2020-01-01T00:00:00Z"}), validator, NOW)
    assert _params(exc) == ["/evtReq/monDur"]


def test_period_below_minimum_is_400(subscription_body: Any, validator: SpecValidator | None) -> None:
    with pytest.raises(ProblemError) as exc:
        accept("s1", subscription_body("PERIODIC", event={"repetitionPeriod": 2}), validator, NOW, min_period_s=5)
    assert _params(exc) == ["/eventSubscriptions/0/repetitionPeriod"]


def test_output_attributes_sent_by_a_consumer_are_dropped(subscription_body: Any,
                                                           validator: SpecValidator | None) -> None:
    body = subscription_body(failEventReports=[{"event": "NF_LOAD", "failureCode": "OTHER"}])
    assert "failEventReports" not in accept("s1", body, validator, NOW).body


def test_reporting_limits(subscription_body: Any, validator: SpecValidator | None) -> None:
    sub = accept("s1", subscription_body(evtReq={"maxReportNbr": 3, "monDur": "2099-01-01T00:00:00Z",
                                                  "immRep": True}), validator, NOW)
    assert (sub.max_reports, sub.immediate_report) == (3, True)
    assert sub.expires_at == 4070908800.0
    one_time = accept("s2", subscription_body(evtReq={"notifMethod": "ONE_TIME"}), validator, NOW)
    assert one_time.max_reports == 1


def test_threshold_index_finds_plans_by_event_and_ue(subscription_body: Any, validator: SpecValidator | None) -> None:
    any_ue = accept("any", subscription_body(), validator, NOW).plans[0]
    one_ue = accept("one", subscription_body(event={"tgtUe": {"supis": ["imsi-1", "imsi-2"]}}), validator, NOW).plans[0]
    index = ThresholdIndex()
    index.add("any", any_ue)
    index.add("one", one_ue)
    assert sorted(sid for sid, _ in index.candidates("ABNORMAL_BEHAVIOUR", "imsi-2")) == ["any", "one"]
    assert [sid for sid, _ in index.candidates("ABNORMAL_BEHAVIOUR", "imsi-3")] == ["any"]
    assert index.candidates("UE_COMMUNICATION", "imsi-2") == []
    index.remove("one", one_ue)
    index.remove("any", any_ue)
    index.remove("any", any_ue)
    assert index.candidates("ABNORMAL_BEHAVIOUR", "imsi-2") == []


def _without_method(body: dict[str, Any]) -> dict[str, Any]:
    del body["eventSubscriptions"][0]["notificationMethod"]
    return body


@pytest.mark.parametrize(("method", "event", "evt_req", "expected"), [
    ("THRESHOLD", {}, {"notifMethod": "ON_EVENT_DETECTION"}, (NotificationMethod.THRESHOLD, None)),
    (None, {}, {"notifMethod": "ON_EVENT_DETECTION"}, (NotificationMethod.THRESHOLD, None)),
    (None, {}, {"immRep": True}, (NotificationMethod.THRESHOLD, None)),  # TS 29.523 default: on detection
    (None, {}, {"notifMethod": "ONE_TIME"}, (NotificationMethod.THRESHOLD, None)),
    ("PERIODIC", {"repetitionPeriod": 2}, {"repPeriod": 9}, (NotificationMethod.PERIODIC, 2)),  # the event's wins
    ("PERIODIC", {"repetitionPeriod": None}, {"notifMethod": "PERIODIC", "repPeriod": 4},
     (NotificationMethod.PERIODIC, 4)),
    ("THRESHOLD", {"matchingDir": "ASCENDING"}, {"grpRepTime": 2}, (NotificationMethod.THRESHOLD, None)),
])
def test_reporting_methods_of_both_levels(subscription_body: Any, validator: SpecValidator | None,
                                          method: str | None, event: dict[str, Any], evt_req: dict[str, Any],
                                          expected: tuple[NotificationMethod, int | None]) -> None:
    body = subscription_body(method or "THRESHOLD", evtReq=evt_req)
    if method is None:
        _without_method(body)
    body["eventSubscriptions"][0].update({k: v for k, v in event.items() if v is not None})
    for k in (k for k, v in event.items() if v is None):
        del body["eventSubscriptions"][0][k]
    sub = accept("s1", body, validator, NOW)
    (plan,) = sub.plans
    assert (plan.method, plan.period_s) == expected
    assert sub.group_time_s == evt_req.get("grpRepTime")


@pytest.mark.parametrize(("method", "event", "evt_req", "param", "cause"), [
    ("PERIODIC", {}, {"notifMethod": "ON_EVENT_DETECTION"}, "/eventSubscriptions/0/notificationMethod",
     "MANDATORY_IE_INCORRECT"),
    ("PERIODIC", {}, {"notifMethod": "ONE_TIME"}, "/eventSubscriptions/0/notificationMethod",
     "MANDATORY_IE_INCORRECT"),
    ("THRESHOLD", {}, {"notifMethod": "PERIODIC", "repPeriod": 5}, "/eventSubscriptions/0/notificationMethod",
     "MANDATORY_IE_INCORRECT"),
    ("THRESHOLD", {"repetitionPeriod": 5}, {}, "/eventSubscriptions/0/repetitionPeriod", "MANDATORY_IE_INCORRECT"),
    (None, {}, {"notifMethod": "ON_EVENT_DETECTION", "repPeriod": 5}, "/evtReq/repPeriod", "OPTIONAL_IE_INCORRECT"),
    ("THRESHOLD", {}, {"repPeriod": 5}, "/evtReq/repPeriod", "OPTIONAL_IE_INCORRECT"),
    ("PERIODIC", {}, {"grpRepTime": 5}, "/evtReq/grpRepTime", "OPTIONAL_IE_INCORRECT"),
    ("THRESHOLD", {}, {"sampRatio": 50}, "/evtReq/sampRatio", "OPTIONAL_IE_INCORRECT"),
    ("THRESHOLD", {}, {"notifFlag": "DEACTIVATE"}, "/evtReq/notifFlag", "OPTIONAL_IE_INCORRECT"),
    ("THRESHOLD", {"matchingDir": "DESCENDING"}, {}, "/eventSubscriptions/0/matchingDir", "OPTIONAL_IE_INCORRECT"),
])
def test_contradictory_or_meaningless_reporting_is_400(subscription_body: Any, validator: SpecValidator | None,
                                                       method: str | None, event: dict[str, Any],
                                                       evt_req: dict[str, Any], param: str, cause: str) -> None:
    body = subscription_body(method or "THRESHOLD", evtReq=evt_req)
    if method is None:
        _without_method(body)
    body["eventSubscriptions"][0].update({k: v for k, v in event.items() if v is not None})
    for k in (k for k, v in event.items() if v is None):
        del body["eventSubscriptions"][0][k]
    with pytest.raises(ProblemError) as exc:
        accept("s1", body, validator, NOW)
    assert (exc.value.status, exc.value.cause) == (400, cause)
    assert _params(exc) == [param]
