"""Every payload of the NWDAF northbound interface and of its SMF consumer, checked against the 3GPP YAML:
subscription requests and responses, notifications (THRESHOLD, PERIODIC, immediate, UE_COMMUNICATION),
AnalyticsData and ProblemDetails. Attribute names are also checked against the schemas' property names, since the
schemas accept unknown attributes and a misspelt one would otherwise pass (``exceptReques`` for ``excepRequs``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import polars as pl
import pytest
from tests.support.polling import wait_until

from nwdaf.nf.anlf.api import analytics_info, events_subscription
from nwdaf.nf.anlf.config import AnlfSettings
from nwdaf.nf.anlf.metrics import AnlfMetrics
from nwdaf.nf.anlf.processor import EventsSubscriptionProcessor
from nwdaf.nf.anlf.state import FindingsState
from nwdaf.nf.anlf.store import LAYOUT
from nwdaf.nf.engines import AbnormalBehaviourEngine
from nwdaf.nf.smf.api.callbacks import parse_notifications
from nwdaf.nf.smf.config import SmfSettings
from nwdaf.nf.smf.subscriber import subscription_request
from nwdaf.platform.events import AbnormalBehaviourResult, AnalyticsResult, UeCommunicationResult, UeFeatureBatch
from nwdaf.platform.models import to_wire
from nwdaf.platform.models.openapi import SpecValidator
from nwdaf.platform.sbi import ProblemError, SbiClient, create_sbi_app
from nwdaf.platform.store import SubscriptionStore

pytestmark = pytest.mark.contract

ES = "TS29520_Nnwdaf_EventsSubscription.yaml#/components/schemas/"
SUBSCRIPTION = ES + "NnwdafEventsSubscription"
NOTIFICATION = ES + "NnwdafEventsSubscriptionNotification"
ANALYTICS_DATA = "TS29520_Nnwdaf_AnalyticsInfo.yaml#/components/schemas/AnalyticsData"
PROBLEM = "TS29571_CommonData.yaml#/components/schemas/ProblemDetails"
SUBS = "/nnwdaf-eventssubscription/v1/subscriptions"
BOT, OTHER = "imsi-001010000000001", "imsi-001010000000002"

# A notification with misspelt attribute names (TS 29.520 says ``excep``/``excepId``): it must not pass.
MISSPELT_NOTIFICATION = {"event": "ABNORMAL_BEHAVIOUR",
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
            _check_measurement(spec, behaviour.get("addtMeasInfo", {}))
        for comm in note.get("ueComms", []):
            _names_known(spec, comm, ES + "UeCommunication")


def _check_measurement(spec: SpecValidator, measurement: dict[str, Any]) -> None:
    _names_known(spec, measurement, ES + "AdditionalMeasurement")
    for name in ("ddosAttack", "wrgDest"):
        if name in measurement:
            _names_known(spec, measurement[name], ES + "AddressList")
    for tep in measurement.get("unexpFlowTeps", []):
        _names_known(spec, tep, ES + "IpEthFlowDescription")
    for circumstance in measurement.get("circums", []):
        _names_known(spec, circumstance, ES + "CircumstanceDescription")


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
                                            SubscriptionStore(None, LAYOUT), client, spec, AnlfMetrics())
    await processor.start()
    app = create_sbi_app("nwdaf", [
        (events_subscription.API_ROOT, events_subscription.create_router(processor)),
        (analytics_info.API_ROOT, analytics_info.create_router(processor.findings, spec)),
    ])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://nwdaf.example") as http:
        yield http, processor, consumer
    await processor.stop()
    await client.aclose()


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
    await wait_until(lambda: len(consumer.bodies) >= 1, message=lambda: f"1 notification, got {consumer.bodies}")
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
    await wait_until(lambda: len(consumer.bodies) >= 2, message=lambda: f"2 notifications, got {consumer.bodies}")
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
        parse_notifications([{"subscriptionId": "s", "eventNotifications": [MISSPELT_NOTIFICATION]}], spec)
    assert any("excep" in p.param or "excep" in (p.reason or "") for p in exc.value.invalid_params)
    corrected = {"subscriptionId": "s", "eventNotifications": [{
        "event": "ABNORMAL_BEHAVIOUR",
        "abnorBehavrs": [{"supis": ["imsi-001010000002742"], "excep": {"excepId": "SUSPICION_OF_DDOS_ATTACK"}}]}]}
    _check_notification(spec, corrected)
    (parsed,) = parse_notifications([corrected], spec)
    assert parsed.subscriptionId == "s"


class BotModel:
    """A provisioned model that calls one UE a bot."""

    version = "7"
    threshold = 0.5

    def score(self, features: pl.DataFrame) -> np.ndarray[Any, Any]:
        return np.where(features["host"] == "10.45.0.5", 0.93, 0.01)


ENGINE_UES = {
    # supi: (host, features) — one UE per kind of finding the engine produces, and a benign one
    "imsi-001010000000011": ("10.45.0.2", {"distinct_dst_ports": 60.0, "distinct_dst": 20.0, "tcp_short_frac": 0.95}),
    "imsi-001010000000012": ("10.45.0.3", {"pkts_out": 50_000.0, "pkts_in": 10.0, "bytes_out": 7.5e7}),
    "imsi-001010000000013": ("10.45.0.4", {"flow_rate": 40.0, "distinct_dst": 1.0}),
    "imsi-001010000000014": ("10.45.0.5", {}),
    "imsi-001010000000015": ("10.45.0.6", {}),
}
ENGINE_BASE = {"bytes_out": 5e4, "bytes_in": 5e5, "pkts_out": 100.0, "pkts_in": 400.0, "distinct_dst": 2.0,
               "distinct_dst_ports": 2.0, "tcp_short_frac": 0.0, "flow_rate": 0.5,
               "top_destinations": ["198.51.100.7", "2001:db8::7"]}
ALL_EXCEPTIONS = ["SUSPICION_OF_DDOS_ATTACK", "WRONG_DESTINATION_ADDRESS", "UNEXPECTED_LARGE_RATE_FLOW",
                  "TOO_FREQUENT_SERVICE_ACCESS"]


def _engine_results() -> list[AnalyticsResult]:
    rows = [{**ENGINE_BASE, **feats, "supi": supi, "host": host} for supi, (host, feats) in ENGINE_UES.items()]
    end = datetime.now(UTC).timestamp()
    batch = UeFeatureBatch(window_start=end - 10, window_end=end, columns={k: [r[k] for r in rows] for k in rows[0]})
    return AbnormalBehaviourEngine(scorer=BotModel()).evaluate(batch)


def _behaviours(consumer: Consumer) -> list[dict[str, Any]]:
    return [b for body in consumer.bodies for n in body for e in n["eventNotifications"]
            for b in e.get("abnorBehavrs", [])]


async def test_every_kind_of_engine_finding_is_a_valid_notification(nwdaf: Any, spec: SpecValidator) -> None:
    http, processor, consumer = nwdaf
    body = {"eventSubscriptions": [{"event": "ABNORMAL_BEHAVIOUR", "tgtUe": {"anyUe": True},
                                    "excepRequs": [{"excepId": e} for e in ALL_EXCEPTIONS],
                                    "notificationMethod": "THRESHOLD"}],
            "notificationURI": "http://c.example/n"}
    assert (await http.post(SUBS, json=body)).status_code == 201
    results = _engine_results()
    for result in results:
        processor.on_result(result)
    await wait_until(lambda: len(_behaviours(consumer)) >= len(results),
                     message=lambda: f"{len(results)} abnormal behaviours, got {consumer.bodies}")
    behaviours = _behaviours(consumer)
    for notification in (n for body in consumer.bodies for n in body):
        _check_notification(spec, notification)
    kinds = {(b["supis"][0], b["excep"]["excepId"]): b for b in behaviours}
    assert set(kinds) == {
        ("imsi-001010000000011", "WRONG_DESTINATION_ADDRESS"), ("imsi-001010000000012", "SUSPICION_OF_DDOS_ATTACK"),
        ("imsi-001010000000012", "UNEXPECTED_LARGE_RATE_FLOW"), ("imsi-001010000000013", "TOO_FREQUENT_SERVICE_ACCESS"),
        ("imsi-001010000000014", "SUSPICION_OF_DDOS_ATTACK")}
    for behaviour in behaviours:
        _valid(spec, behaviour, ES + "AbnormalBehaviour")
        # SamplingRatio: of the 5 UEs analysed, 2 show a DDoS (the flood rule, the model), 1 each of the others
        assert behaviour["ratio"] == (40 if behaviour["excep"]["excepId"] == "SUSPICION_OF_DDOS_ATTACK" else 20)
        assert behaviour["addtMeasInfo"]
    assert kinds[("imsi-001010000000012", "UNEXPECTED_LARGE_RATE_FLOW")]["addtMeasInfo"]["unexpFlowTeps"] == [
        {"ipTrafficFilter": "permit out ip from 198.51.100.7 to 10.45.0.3"}]
    assert kinds[("imsi-001010000000014", "SUSPICION_OF_DDOS_ATTACK")]["addtMeasInfo"]["ddosAttack"] == {
        "ipv4Addrs": ["198.51.100.7"], "ipv6Addrs": ["2001:db8::7"]}
    (circumstance,) = kinds[("imsi-001010000000013", "TOO_FREQUENT_SERVICE_ACCESS")]["addtMeasInfo"]["circums"]
    assert circumstance["freq"] == 40.0


async def test_reports_on_detection_of_one_window_in_one_valid_notification(nwdaf: Any, spec: SpecValidator) -> None:
    """The SMF's default request (evtReq ON_EVENT_DETECTION, THRESHOLD) with ``grpRepTime``: the engine's findings
    of one window, read across yields as from several partitions, come in one notification the YAML accepts."""
    http, processor, consumer = nwdaf
    request = to_wire(subscription_request(SmfSettings(immediate_report=False), "http://smf.example/cb", "smf-1"))
    request["eventSubscriptions"][0]["excepRequs"] = [{"excepId": e} for e in ALL_EXCEPTIONS]
    request["evtReq"]["grpRepTime"] = 1
    created = await http.post(SUBS, json=request)
    assert created.status_code == 201
    assert created.json()["evtReq"] == {"notifMethod": "ON_EVENT_DETECTION", "grpRepTime": 1}
    _valid(spec, created.json(), SUBSCRIPTION)
    results = _engine_results()
    for result in results:
        processor.on_result(result)
        await asyncio.sleep(0)
    await wait_until(lambda: consumer.bodies, message="the report on detection")
    (body,) = consumer.bodies
    (notification,) = body
    _check_notification(spec, notification)
    (event,) = notification["eventNotifications"]
    assert len(event["abnorBehavrs"]) == len(results)


async def test_contradictory_reporting_is_a_valid_problem(nwdaf: Any, spec: SpecValidator) -> None:
    http, _, _ = nwdaf
    request = to_wire(subscription_request(SmfSettings(notification_method="PERIODIC"), "http://c/n", "smf-1"))
    request["evtReq"] = {"notifMethod": "ON_EVENT_DETECTION"}
    resp = await http.post(SUBS, json=request)
    assert resp.status_code == 400
    _valid(spec, resp.json(), PROBLEM)
    assert [p["param"] for p in resp.json()["invalidParams"]] == ["/eventSubscriptions/0/notificationMethod"]
