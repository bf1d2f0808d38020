"""Every payload of the NWDAF northbound interface and of its SMF consumer, checked against the 3GPP YAML:
subscription requests and responses, notifications (THRESHOLD, PERIODIC, immediate, UE_COMMUNICATION),
AnalyticsData and ProblemDetails. Attribute names are also checked against the schemas' property names, since the
schemas accept unknown attributes and a misspelt one would otherwise pass (as seed 003's listings show)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from nwdaf.anlf.api import analytics_info, events_subscription
from nwdaf.anlf.config import AnlfSettings
from nwdaf.anlf.metrics import AnlfMetrics
from nwdaf.anlf.processor import EventsSubscriptionProcessor
from nwdaf.anlf.state import FindingsState
from nwdaf.anlf.store import SubscriptionStore
from nwdaf.events import AbnormalBehaviourResult, AnalyticsResult, UeCommunicationResult
from nwdaf.models import to_wire
from nwdaf.models.openapi import SpecValidator
from nwdaf.sbi import ProblemError, SbiClient, create_sbi_app
from nwdaf.smf.config import SmfSettings
from nwdaf.smf.processor import parse_notifications
from nwdaf.smf.subscriber import subscription_request

pytestmark = pytest.mark.contract

ES = "TS29520_Nnwdaf_EventsSubscription.yaml#/components/schemas/"
SUBSCRIPTION = ES + "NnwdafEventsSubscription"
NOTIFICATION = ES + "NnwdafEventsSubscriptionNotification"
ANALYTICS_DATA = "TS29520_Nnwdaf_AnalyticsInfo.yaml#/components/schemas/AnalyticsData"
PROBLEM = "TS29571_CommonData.yaml#/components/schemas/ProblemDetails"
SUBS = "/nnwdaf-eventssubscription/v1/subscriptions"
BOT, OTHER = "imsi-001010000000001", "imsi-001010000000002"

# Seed 003, Appendix C, as published (the attribute names are not TS 29.520's).
LISTING_2 = {"event": "ABNORMAL_BEHAVIOUR",
             "abnorBehavrs": [{"supis": ["10.42.0.2-2742"], "except": {"exceptId": "SUSPICION_OF_DDOS_ATTACK"}}]}


def _result(supi: str, event: str = "ABNORMAL_BEHAVIOUR") -> AnalyticsResult:
    end = datetime.now(UTC)
    return AnalyticsResult(
        event=event, supi=supi, dnn="internet", snssai={"sst": 1, "sd": "000001"},
        window_start=end - timedelta(seconds=5), window_end=end, generated_at=end,
        abnormal=AbnormalBehaviourResult(excep_id="SUSPICION_OF_DDOS_ATTACK", score=0.9, confidence=88, ratio=40,
                                         excep_level=3, addt_meas={"ddosAttack": {"ipv4Addrs": ["192.0.2.1"]}})
        if event == "ABNORMAL_BEHAVIOUR" else None,
        ue_comm=UeCommunicationResult(comm_dur_s=5, ul_volume_bytes=10, dl_volume_bytes=20, peers=1,
                                      app_ids=["web"]) if event == "UE_COMMUNICATION" else None,
    )


def _valid(spec: SpecValidator, instance: Any, ref: str) -> None:
    assert spec.errors(instance, ref) == [], json.dumps(instance)[:2000]


def _names_known(spec: SpecValidator, instance: dict[str, Any], ref: str) -> None:
    unknown = set(instance) - spec.property_names(ref)
    assert not unknown, f"attributes not in {ref}: {unknown}"


def _check_notification(spec: SpecValidator, notification: dict[str, Any]) -> None:
    _valid(spec, notification, NOTIFICATION)
    _names_known(spec, notification, NOTIFICATION)
    for note in notification["eventNotifications"]:
        _names_known(spec, note, ES + "EventNotification")
        for behaviour in note.get("abnorBehavrs", []):
            _names_known(spec, behaviour, ES + "AbnormalBehaviour")
            _names_known(spec, behaviour["excep"], ES + "Exception")
        for comm in note.get("ueComms", []):
            _names_known(spec, comm, ES + "UeCommunication")


class Consumer:
    def __init__(self) -> None:
        self.bodies: list[Any] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        return httpx.Response(204)


@pytest.fixture
async def nwdaf(spec: SpecValidator) -> AsyncIterator[tuple[httpx.AsyncClient, EventsSubscriptionProcessor, Consumer]]:
    consumer = Consumer()
    client = SbiClient(transport=httpx.MockTransport(consumer.handler))
    processor = EventsSubscriptionProcessor(AnlfSettings(), FindingsState(timedelta(minutes=5), 100),
                                            SubscriptionStore(None), client, spec, AnlfMetrics())
    await processor.start()
    app = create_sbi_app("nwdaf", [
        (events_subscription.API_ROOT, events_subscription.create_router(processor)),
        (analytics_info.API_ROOT, analytics_info.create_router(processor.findings, spec)),
    ])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://nwdaf.example") as http:
        yield http, processor, consumer
    await processor.stop()
    await client.aclose()


async def _wait_for(consumer: Consumer, count: int) -> None:
    for _ in range(2000):
        if len(consumer.bodies) >= count:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"expected {count} notifications, got {len(consumer.bodies)}")


def test_smf_subscription_requests(spec: SpecValidator) -> None:
    for settings in (SmfSettings(), SmfSettings(notification_method="PERIODIC", repetition_period_s=1)):
        body = to_wire(subscription_request(settings, "http://smf.example/cb", "smf-1"))
        _valid(spec, body, SUBSCRIPTION)
        _names_known(spec, body, SUBSCRIPTION)
        _names_known(spec, body["eventSubscriptions"][0], ES + "EventSubscription")


async def test_create_response_update_and_notifications(nwdaf: Any, spec: SpecValidator) -> None:
    http, processor, consumer = nwdaf
    processor.on_result(_result(BOT))
    request = to_wire(subscription_request(SmfSettings(), "http://smf.example/cb", "smf-1"))
    request["eventSubscriptions"].append({"event": "NF_LOAD"})
    created = await http.post(SUBS, json=request)
    assert created.status_code == 201
    body = created.json()
    assert body["eventNotifications"]
    assert body["failEventReports"]
    _valid(spec, body, SUBSCRIPTION)
    _check_notification(spec, {"subscriptionId": "x", "eventNotifications": body["eventNotifications"]})

    processor.on_result(_result(OTHER))
    await _wait_for(consumer, 1)
    (threshold,) = consumer.bodies
    assert isinstance(threshold, list)
    assert len(threshold) == 1
    _check_notification(spec, threshold[0])
    assert threshold[0]["eventNotifications"][0]["abnorBehavrs"][0]["addtMeasInfo"]["ddosAttack"]

    updated = await http.put(created.headers["location"].removeprefix("http://nwdaf.example"), json=request)
    assert updated.status_code == 200
    _valid(spec, updated.json(), SUBSCRIPTION)


async def test_periodic_and_ue_communication_notifications(nwdaf: Any, spec: SpecValidator) -> None:
    http, processor, consumer = nwdaf
    processor.on_result(_result(BOT, "UE_COMMUNICATION"))
    for body in (
        {"eventSubscriptions": [{"event": "UE_COMMUNICATION", "tgtUe": {"supis": [BOT]},
                                 "notificationMethod": "PERIODIC", "repetitionPeriod": 1}],
         "notificationURI": "http://c.example/n", "evtReq": {"maxReportNbr": 1}},
        {"eventSubscriptions": [{"event": "ABNORMAL_BEHAVIOUR", "exptAnaType": "MOBILITY", "tgtUe": {"anyUe": True},
                                 "notificationMethod": "PERIODIC", "repetitionPeriod": 1}],
         "notificationURI": "http://c.example/n", "evtReq": {"maxReportNbr": 1}},
    ):
        assert (await http.post(SUBS, json=body)).status_code == 201
    await _wait_for(consumer, 2)
    notes = [n for body in consumer.bodies for n in body]
    for notification in notes:
        _check_notification(spec, notification)
    events = {n["eventNotifications"][0]["event"]: n["eventNotifications"][0] for n in notes}
    assert events["UE_COMMUNICATION"]["ueComms"][0]["trafChar"]["appId"] == "web"
    assert "abnorBehavrs" not in events["ABNORMAL_BEHAVIOUR"]  # DDoS is not a mobility exception


async def test_analytics_data(nwdaf: Any, spec: SpecValidator) -> None:
    http, processor, _ = nwdaf
    processor.on_result(_result(BOT))
    processor.on_result(_result(BOT, "UE_COMMUNICATION"))
    for event in ("ABNORMAL_BEHAVIOUR", "UE_COMMUNICATION"):
        resp = await http.get("/nnwdaf-analyticsinfo/v1/analytics",
                              params={"event-id": event, "tgt-ue": json.dumps({"supis": [BOT]})})
        assert resp.status_code == 200
        _valid(spec, resp.json(), ANALYTICS_DATA)
        _names_known(spec, resp.json(), ANALYTICS_DATA)


async def test_problem_details(nwdaf: Any, spec: SpecValidator) -> None:
    http, _, _ = nwdaf
    responses = [
        await http.post(SUBS, json={"eventSubscriptions": [{"event": "NOPE"}], "notificationURI": "http://c/n"}),
        await http.post(SUBS, json={"eventSubscriptions": [{"event": "NF_LOAD"}], "notificationURI": "http://c/n"}),
        await http.delete(f"{SUBS}/unknown"),
        await http.get("/nnwdaf-analyticsinfo/v1/analytics", params={"event-id": "X"}),
    ]
    assert [r.status_code for r in responses] == [400, 403, 404, 400]
    for resp in responses:
        _valid(spec, resp.json(), PROBLEM)


def test_seed_listing_2_is_rejected_and_its_correction_accepted(spec: SpecValidator) -> None:
    with pytest.raises(ProblemError) as exc:
        parse_notifications([{"subscriptionId": "s", "eventNotifications": [LISTING_2]}], spec)
    assert any("excep" in p.param or "excep" in (p.reason or "") for p in exc.value.invalid_params)
    corrected = {"subscriptionId": "s", "eventNotifications": [{
        "event": "ABNORMAL_BEHAVIOUR",
        "abnorBehavrs": [{"supis": ["imsi-001010000002742"], "excep": {"excepId": "SUSPICION_OF_DDOS_ATTACK"}}]}]}
    _check_notification(spec, corrected)
    (parsed,) = parse_notifications([corrected], spec)
    assert parsed.subscriptionId == "s"
