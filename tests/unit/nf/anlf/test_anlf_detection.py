"""Reports on detection (``evtReq.notifMethod`` ON_EVENT_DETECTION, the event's ``notificationMethod`` THRESHOLD):
a matching finding is notified as soon as it is accepted, without a PERIODIC tick; nothing is sent while nothing
matches; the findings detected together go in one notification; a subscription learns of a finding once.

"Nothing was sent" is asserted by order: notifications of one subscription are delivered in order, so had an
earlier finding been notified, its notification would arrive before the one the test waits for.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.support.polling import wait_until

from nwdaf.nf.anlf.processor import EventsSubscriptionProcessor
from nwdaf.nf.anlf.subscription import parse_request

pytestmark = pytest.mark.unit

BOT, OTHER, THIRD = "imsi-001010000000001", "imsi-001010000000002", "imsi-001010000000003"
DDOS = "SUSPICION_OF_DDOS_ATTACK"


def _on_detection(subscription_body: Any, **extra: Any) -> dict[str, Any]:
    """The request with ``evtReq.notifMethod`` ON_EVENT_DETECTION and no per-event method."""
    evt = {"notifMethod": "ON_EVENT_DETECTION", **extra.pop("evtReq", {})}
    body: dict[str, Any] = subscription_body(evtReq=evt, **extra)
    del body["eventSubscriptions"][0]["notificationMethod"]
    return body


async def _subscribe(processor: EventsSubscriptionProcessor, body: dict[str, Any]) -> str:
    sub, _ = await processor.subscribe(*parse_request(body, processor.validator))
    return sub.subscription_id


def _supis(notification: dict[str, Any]) -> list[str]:
    return [s for note in notification["eventNotifications"] for b in note.get("abnorBehavrs", [])
            for s in b["supis"]]


async def test_on_event_detection_is_notified_without_waiting_for_a_tick(
        processor: EventsSubscriptionProcessor, consumer: Any, subscription_body: Any, make_result: Any) -> None:
    detection = await _subscribe(processor, _on_detection(subscription_body))
    periodic = await _subscribe(processor, subscription_body("PERIODIC", event={"repetitionPeriod": 3600}))
    processor.on_result(make_result(BOT))
    await wait_until(lambda: consumer.for_subscription(detection), message="the report on detection")
    (note,) = consumer.for_subscription(detection)
    assert _supis(note) == [BOT]
    assert note["notifCorrId"] == "corr-1"
    # The PERIODIC subscriber, an hour from its first tick, has had nothing: the report did not wait for a tick.
    assert consumer.for_subscription(periodic) == []
    assert processor.scheduler.fired == 0


async def test_threshold_without_evt_req_and_default_method_report_on_detection(
        processor: EventsSubscriptionProcessor, consumer: Any, subscription_body: Any, make_result: Any) -> None:
    threshold = await _subscribe(processor, subscription_body("THRESHOLD"))
    implicit = subscription_body()
    del implicit["eventSubscriptions"][0]["notificationMethod"]  # TS 29.523: notifMethod defaults to detection
    default = await _subscribe(processor, implicit)
    processor.on_result(make_result(BOT))
    await wait_until(lambda: consumer.for_subscription(threshold) and consumer.for_subscription(default),
                     message="both reports")
    assert [_supis(n) for n in consumer.for_subscription(threshold)] == [[BOT]]
    assert [_supis(n) for n in consumer.for_subscription(default)] == [[BOT]]


async def test_nothing_is_sent_while_nothing_matches_the_filters(
        processor: EventsSubscriptionProcessor, consumer: Any, subscription_body: Any, make_result: Any) -> None:
    event = {"excepRequs": [{"excepId": DDOS, "excepLevel": 5}], "dnns": ["internet"],
             "snssaia": [{"sst": 1, "sd": "000001"}], "tgtUe": {"supis": [BOT, OTHER]}}
    sid = await _subscribe(processor, _on_detection(subscription_body, event=event))
    processor.on_result(make_result(BOT, level=2))  # below the excepLevel threshold
    processor.on_result(make_result(BOT, excep="WRONG_DESTINATION_ADDRESS", level=9))  # exception not asked for
    processor.on_result(make_result(OTHER, level=9, dnn="ims"))  # another DNN
    processor.on_result(make_result(THIRD, level=9))  # not a target UE
    await asyncio.sleep(0)  # each of these would have been flushed here
    processor.on_result(make_result(OTHER, level=6, ended_s_ago=-1))  # matches every filter
    await wait_until(lambda: consumer.for_subscription(sid), message="the matching finding's report")
    (note,) = consumer.for_subscription(sid)
    assert _supis(note) == [OTHER]
    assert note["eventNotifications"][0]["abnorBehavrs"][0]["excep"] == {"excepId": DDOS, "excepLevel": 6}
    assert processor.metrics.registry.get_sample_value("nwdaf_anlf_notifications_total",
                                                       {"outcome": "delivered"}) == 1


async def test_level_crossing_is_reported_then_repeats_are_not(
        processor: EventsSubscriptionProcessor, consumer: Any, subscription_body: Any, make_result: Any) -> None:
    event = {"excepRequs": [{"excepId": DDOS, "excepLevel": 5}]}
    sid = await _subscribe(processor, _on_detection(subscription_body, event=event))
    processor.on_result(make_result(BOT, level=3, ended_s_ago=3))
    processor.on_result(make_result(BOT, level=7, ended_s_ago=2))  # crosses 5: reported
    await wait_until(lambda: consumer.for_subscription(sid), message="the crossing")
    processor.on_result(make_result(BOT, level=8, ended_s_ago=1))  # still above: already reported
    await asyncio.sleep(0)
    processor.on_result(make_result(OTHER, level=9))  # a new UE: reported
    await wait_until(lambda: len(consumer.for_subscription(sid)) == 2, message="the second UE's report")
    assert [_supis(n) for n in consumer.for_subscription(sid)] == [[BOT], [OTHER]]


async def test_findings_detected_within_grp_rep_time_share_one_notification(
        processor: EventsSubscriptionProcessor, consumer: Any, subscription_body: Any, make_result: Any) -> None:
    event = {"excepRequs": [{"excepId": DDOS, "excepLevel": 3}]}
    grouped = await _subscribe(processor, _on_detection(subscription_body, event=event, evtReq={"grpRepTime": 1}))
    single = await _subscribe(processor, _on_detection(subscription_body, event=event))
    for supi, level, ended_s_ago in ((BOT, 5, 3), (OTHER, 5, 0), (BOT, 1, 2), (BOT, 6, 1), (THIRD, 5, 0)):
        processor.on_result(make_result(supi, level=level, ended_s_ago=ended_s_ago))
        await asyncio.sleep(0)  # as if each came from another bus partition
    await wait_until(lambda: consumer.for_subscription(grouped), message="the grouped report")
    (note,) = consumer.for_subscription(grouped)
    behaviours = {b["supis"][0]: b["excep"].get("excepLevel") for b in note["eventNotifications"][0]["abnorBehavrs"]}
    # One entry per UE: BOT's second crossing (level 6) replaced its first while both waited.
    assert behaviours == {BOT: 6, OTHER: 5, THIRD: 5}
    # Without grpRepTime (anlf.detection_group_s is 0 here), each yield of the bus handler sends what it has.
    assert [_supis(n) for n in consumer.for_subscription(single)] == [[BOT], [OTHER], [BOT], [THIRD]]


async def test_a_late_subscriber_learns_of_an_ongoing_finding_at_its_next_window(
        processor: EventsSubscriptionProcessor, consumer: Any, subscription_body: Any, make_result: Any) -> None:
    processor.on_result(make_result(BOT, ended_s_ago=2))
    late = await _subscribe(processor, _on_detection(subscription_body))
    told = await _subscribe(processor, _on_detection(subscription_body, evtReq={"immRep": True}))
    processor.on_result(make_result(BOT, ended_s_ago=1))  # the same attack, one window later
    await asyncio.sleep(0)
    processor.on_result(make_result(OTHER))
    await wait_until(lambda: len(consumer.for_subscription(late)) == 2 and consumer.for_subscription(told),
                     message="the reports")
    assert [_supis(n) for n in consumer.for_subscription(late)] == [[BOT], [OTHER]]
    # The immediate report in the response carried BOT's finding: its next window is not news.
    assert [_supis(n) for n in consumer.for_subscription(told)] == [[OTHER]]


async def test_an_unchanged_refresh_does_not_report_again(
        processor: EventsSubscriptionProcessor, consumer: Any, subscription_body: Any, make_result: Any) -> None:
    body = _on_detection(subscription_body)
    sid = await _subscribe(processor, body)
    processor.on_result(make_result(BOT, ended_s_ago=2))
    await wait_until(lambda: consumer.for_subscription(sid), message="the first report")
    await processor.update(sid, *parse_request(body, processor.validator))  # the SMF's periodic PUT
    processor.on_result(make_result(BOT, ended_s_ago=1))
    await asyncio.sleep(0)
    processor.on_result(make_result(OTHER))
    await wait_until(lambda: len(consumer.for_subscription(sid)) == 2, message="the second UE's report")
    assert [_supis(n) for n in consumer.for_subscription(sid)] == [[BOT], [OTHER]]


async def test_max_report_nbr_counts_reports_on_detection(
        processor: EventsSubscriptionProcessor, consumer: Any, subscription_body: Any, make_result: Any) -> None:
    sid = await _subscribe(processor, _on_detection(subscription_body, evtReq={"maxReportNbr": 2}))
    for supi in (BOT, OTHER, THIRD):
        processor.on_result(make_result(supi))
        await asyncio.sleep(0)
    await wait_until(lambda: sid not in processor.subscriptions, message="maxReportNbr to end the subscription")
    await wait_until(lambda: len(consumer.for_subscription(sid)) == 2, message="two reports")
    assert [_supis(n) for n in consumer.for_subscription(sid)] == [[BOT], [OTHER]]


async def test_stopping_sends_what_was_detected(processor: EventsSubscriptionProcessor, consumer: Any,
                                                subscription_body: Any, make_result: Any) -> None:
    sid = await _subscribe(processor, _on_detection(subscription_body, evtReq={"grpRepTime": 60}))
    processor.on_result(make_result(BOT))
    await processor.stop()
    assert [_supis(n) for n in consumer.for_subscription(sid)] == [[BOT]]
