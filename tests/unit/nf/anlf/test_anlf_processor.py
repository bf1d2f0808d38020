"""Nnwdaf_EventsSubscription procedures as function calls: subscribe/update/unsubscribe, THRESHOLD and
PERIODIC reporting, immediate reports, report limits."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.support.polling import wait_until

from nwdaf.nf.anlf.processor import EventsSubscriptionProcessor
from nwdaf.nf.anlf.subscription import parse_request
from nwdaf.platform.models import NnwdafEventsSubscription
from nwdaf.platform.sbi import ProblemError

pytestmark = pytest.mark.unit

BOT, OTHER = "imsi-001010000000001", "imsi-001010000000002"


def parsed(processor: EventsSubscriptionProcessor, body: Any) -> tuple[dict[str, Any], NnwdafEventsSubscription]:
    """A request body as the router hands it to the procedures: parsed and validated."""
    return parse_request(body, processor.validator)


def _supis(notification: dict[str, Any]) -> list[str]:
    return [s for note in notification["eventNotifications"] for b in note.get("abnorBehavrs", [])
            for s in b["supis"]]


async def test_threshold_notifies_a_new_finding_once(processor: EventsSubscriptionProcessor, consumer: Any,
                                                     subscription_body: Any, make_result: Any) -> None:
    sub, body = await processor.subscribe(*parsed(processor, subscription_body()))
    assert "eventNotifications" not in body
    processor.on_result(make_result(BOT))
    processor.on_result(make_result(OTHER, excep="WRONG_DESTINATION_ADDRESS"))  # not requested
    await wait_until(lambda: consumer.received, message="the notification")
    processor.on_result(make_result(BOT))  # same finding again, still valid: nothing new
    await asyncio.sleep(0.05)
    (note,) = consumer.for_subscription(sub.subscription_id)
    assert note["notifCorrId"] == "corr-1"
    (event,) = note["eventNotifications"]
    assert event["event"] == "ABNORMAL_BEHAVIOUR"
    (behaviour,) = event["abnorBehavrs"]
    assert behaviour["supis"] == [BOT]
    assert behaviour["excep"] == {"excepId": "SUSPICION_OF_DDOS_ATTACK"}
    assert behaviour["confidence"] == 90
    assert behaviour["addtMeasInfo"] == {"ddosAttack": {"ipv4Addrs": ["198.51.100.7"]}}
    assert {"start", "expiry", "timeStampGen"} <= event.keys()
    assert consumer.received[0][0] == "http://smf.example/cb"


async def test_findings_of_one_burst_share_one_notification(processor: EventsSubscriptionProcessor, consumer: Any,
                                                            subscription_body: Any, make_result: Any) -> None:
    sub, _ = await processor.subscribe(*parsed(processor, subscription_body()))
    for n in range(5):
        processor.on_result(make_result(f"imsi-00101000000010{n}"))
    await wait_until(lambda: consumer.received, message="the notification")
    (note,) = consumer.for_subscription(sub.subscription_id)
    assert len(_supis(note)) == 5


async def test_threshold_level_must_be_reached_then_crossing_is_reported(
        processor: EventsSubscriptionProcessor, consumer: Any, subscription_body: Any, make_result: Any) -> None:
    body = subscription_body(event={"excepRequs": [{"excepId": "SUSPICION_OF_DDOS_ATTACK", "excepLevel": 5}]})
    sub, _ = await processor.subscribe(*parsed(processor, body))
    processor.on_result(make_result(BOT, level=2, ended_s_ago=2))
    await asyncio.sleep(0.05)
    assert consumer.received == []
    processor.on_result(make_result(BOT, level=7, ended_s_ago=1))
    await wait_until(lambda: consumer.received, message="the crossing")
    processor.on_result(make_result(BOT, level=9))
    await asyncio.sleep(0.05)
    (note,) = consumer.for_subscription(sub.subscription_id)
    assert note["eventNotifications"][0]["abnorBehavrs"][0]["excep"] == {"excepId": "SUSPICION_OF_DDOS_ATTACK",
                                                                         "excepLevel": 7}


async def test_target_supis_restrict_reports(processor: EventsSubscriptionProcessor, consumer: Any,
                                             subscription_body: Any, make_result: Any) -> None:
    await processor.subscribe(*parsed(processor, subscription_body(event={"tgtUe": {"supis": [OTHER]}})))
    processor.on_result(make_result(BOT))
    processor.on_result(make_result(OTHER))
    await wait_until(lambda: consumer.received, message="the notification")
    assert _supis(consumer.received[0][1][0]) == [OTHER]


async def test_immediate_report_in_the_response_counts_as_a_report(
        processor: EventsSubscriptionProcessor, consumer: Any, subscription_body: Any, make_result: Any) -> None:
    processor.on_result(make_result(BOT))
    request = parsed(processor, subscription_body(evtReq={"immRep": True, "maxReportNbr": 2}))
    sub, body = await processor.subscribe(*request)
    (event,) = body["eventNotifications"]
    assert [b["supis"] for b in event["abnorBehavrs"]] == [[BOT]]
    assert sub.reports_sent == 1
    processor.on_result(make_result(OTHER))
    await wait_until(lambda: consumer.received, message="the second report")
    assert sub.subscription_id not in processor.subscriptions  # maxReportNbr reached
    processor.on_result(make_result("imsi-001010000000003"))
    await asyncio.sleep(0.05)
    assert len(consumer.received) == 1
    with pytest.raises(ProblemError) as exc:
        await processor.unsubscribe(sub.subscription_id)
    assert exc.value.status == 404


async def test_immediate_report_with_one_report_allowed_ends_at_once(
        processor: EventsSubscriptionProcessor, subscription_body: Any, make_result: Any) -> None:
    processor.on_result(make_result(BOT))
    request = parsed(processor, subscription_body(evtReq={"immRep": True, "notifMethod": "ONE_TIME"}))
    sub, body = await processor.subscribe(*request)
    assert body["eventNotifications"]
    assert sub.subscription_id not in processor.subscriptions


async def test_periodic_reports_every_period_and_stops_at_max(
        processor: EventsSubscriptionProcessor, consumer: Any, subscription_body: Any, make_result: Any) -> None:
    processor.on_result(make_result(BOT))
    sub, _ = await processor.subscribe(*parsed(processor, subscription_body("PERIODIC", evtReq={"maxReportNbr": 2})))
    await wait_until(lambda: len(consumer.for_subscription(sub.subscription_id)) == 2, message="two periodic reports")
    await wait_until(lambda: sub.subscription_id not in processor.subscriptions, message="the subscription to end")
    reports = consumer.for_subscription(sub.subscription_id)
    assert [_supis(r) for r in reports] == [[BOT], [BOT]]
    assert processor.metrics.registry.get_sample_value("nwdaf_anlf_periodic_report_lateness_seconds_count") == 2


async def test_periodic_report_without_findings_still_reports_the_event(
        processor: EventsSubscriptionProcessor, consumer: Any, subscription_body: Any) -> None:
    sub, _ = await processor.subscribe(*parsed(processor, subscription_body("PERIODIC", evtReq={"maxReportNbr": 1})))
    await wait_until(lambda: consumer.for_subscription(sub.subscription_id), message="the periodic report")
    (event,) = consumer.for_subscription(sub.subscription_id)[0]["eventNotifications"]
    assert event["event"] == "ABNORMAL_BEHAVIOUR"
    assert "abnorBehavrs" not in event
    assert "timeStampGen" in event


async def test_update_replaces_and_unknown_ids_are_404(processor: EventsSubscriptionProcessor, consumer: Any,
                                                       subscription_body: Any, make_result: Any) -> None:
    sub, _ = await processor.subscribe(*parsed(processor, subscription_body()))
    request = parsed(processor, subscription_body(event={"tgtUe": {"supis": [OTHER]}}))
    body = await processor.update(sub.subscription_id, *request)
    assert body["eventSubscriptions"][0]["tgtUe"] == {"supis": [OTHER]}
    processor.on_result(make_result(BOT))
    processor.on_result(make_result(OTHER))
    await wait_until(lambda: consumer.received, message="the notification")
    assert _supis(consumer.received[0][1][0]) == [OTHER]
    for call in (processor.update("nope", *parsed(processor, subscription_body())), processor.unsubscribe("nope")):
        with pytest.raises(ProblemError) as exc:
            await call
        assert (exc.value.status, exc.value.cause) == (404, "SUBSCRIPTION_NOT_FOUND")


async def test_unsubscribe_stops_notifications(processor: EventsSubscriptionProcessor, consumer: Any,
                                               subscription_body: Any, make_result: Any) -> None:
    sub, _ = await processor.subscribe(*parsed(processor, subscription_body()))
    await processor.unsubscribe(sub.subscription_id)
    processor.on_result(make_result(BOT))
    await asyncio.sleep(0.05)
    assert consumer.received == []


async def test_dead_consumer_subscription_is_terminated(processor: EventsSubscriptionProcessor, consumer: Any,
                                                        subscription_body: Any, make_result: Any) -> None:
    consumer.status["dead.example"] = 500
    dead, _ = await processor.subscribe(*parsed(processor, subscription_body(notificationURI="http://dead.example/cb")))
    live, _ = await processor.subscribe(*parsed(processor, subscription_body()))
    for n in range(3):
        processor.on_result(make_result(f"imsi-00101000000020{n}"))
        await asyncio.sleep(0.02)
    await wait_until(lambda: dead.subscription_id not in processor.subscriptions, message="termination")
    assert live.subscription_id in processor.subscriptions
    assert len(consumer.for_subscription(live.subscription_id)) == 3
    assert processor.metrics.registry.get_sample_value(
        "nwdaf_anlf_subscriptions_terminated_total", {"reason": "consumer-unreachable"}) == 1


async def test_results_older_than_the_data_clock_by_the_ttl_are_expired(
        processor: EventsSubscriptionProcessor, consumer: Any, subscription_body: Any, make_result: Any) -> None:
    """Freshness is judged on the data's clock (the newest window end seen), not the wall clock."""
    await processor.subscribe(*parsed(processor, subscription_body()))
    processor.on_result(make_result("imsi-001010000000009", excep="TOO_FREQUENT_SERVICE_ACCESS"))  # not subscribed
    assert processor.on_result(make_result(BOT, ended_s_ago=processor.settings.finding_ttl_s + 5)) is None
    await asyncio.sleep(0.05)
    assert consumer.received == []
    assert processor.metrics.registry.get_sample_value(
        "nwdaf_anlf_analytics_results_total", {"outcome": "expired"}) == 1


async def test_a_recording_years_old_is_not_expired(processor: EventsSubscriptionProcessor, consumer: Any,
                                                    subscription_body: Any, make_result: Any) -> None:
    """A recording replayed at its original times (2011) still closes the loop: nothing newer was seen."""
    await processor.subscribe(*parsed(processor, subscription_body()))
    years = 15 * 365 * 86400.0
    assert processor.on_result(make_result(BOT, ended_s_ago=years)) is not None
    await wait_until(lambda: len(consumer.received) == 1, message="the old finding's notification")
    assert processor.findings.current("ABNORMAL_BEHAVIOUR")
    assert processor.metrics.registry.get_sample_value(
        "nwdaf_anlf_analytics_results_total", {"outcome": "expired"}) is None


async def test_monitoring_duration_ends_the_subscription(processor: EventsSubscriptionProcessor,
                                                         subscription_body: Any) -> None:
    end = (datetime.now(UTC) + timedelta(seconds=0.2)).isoformat().replace("+00:00", "Z")
    sub, _ = await processor.subscribe(*parsed(processor, subscription_body(evtReq={"monDur": end})))
    await wait_until(lambda: sub.subscription_id not in processor.subscriptions, message="monDur to pass")
    assert processor.metrics.registry.get_sample_value(
        "nwdaf_anlf_subscriptions_terminated_total", {"reason": "monitoring-duration-ended"}) == 1


@pytest.mark.parametrize("change", [
    {"event": "BOTNET"},
    {"abnormal": None},
    {"ue_comm": None, "event": "UE_COMMUNICATION", "abnormal": None},
])
async def test_unusable_engine_results_are_counted_not_stored(processor: EventsSubscriptionProcessor,
                                                              make_result: Any, change: dict[str, Any]) -> None:
    assert processor.on_result(make_result(BOT).model_copy(update=change)) is None
    assert len(processor.findings) == 0
    assert processor.metrics.registry.get_sample_value("nwdaf_anlf_analytics_results_total",
                                                       {"outcome": "invalid"}) == 1


async def test_unknown_exception_id_from_an_engine_is_rejected(processor: EventsSubscriptionProcessor,
                                                               make_result: Any) -> None:
    assert processor.on_result(make_result(BOT, excep="LOOKS_ODD")) is None
    assert len(processor.findings) == 0
