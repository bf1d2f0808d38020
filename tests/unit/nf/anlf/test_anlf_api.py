"""The NWDAF northbound routers over HTTP (ASGI transport): Nnwdaf_EventsSubscription and Nnwdaf_AnalyticsInfo."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from nwdaf.nf.anlf.api import analytics_info, events_subscription
from nwdaf.nf.anlf.processor import EventsSubscriptionProcessor
from nwdaf.platform.sbi import PROBLEM_JSON, create_sbi_app

pytestmark = pytest.mark.unit

BOT, OTHER = "imsi-001010000000001", "imsi-001010000000002"
SUBS = "/nnwdaf-eventssubscription/v1/subscriptions"
ANALYTICS = "/nnwdaf-analyticsinfo/v1/analytics"


@pytest.fixture
async def nwdaf(processor: EventsSubscriptionProcessor) -> AsyncIterator[httpx.AsyncClient]:
    app = create_sbi_app("nwdaf", [
        (events_subscription.API_ROOT, events_subscription.create_router(processor)),
        (analytics_info.API_ROOT, analytics_info.create_router(processor.findings, processor.validator)),
    ])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://nwdaf.example") as client:
        yield client


def _problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = resp.json()
    assert body["status"] == status
    return body


async def test_create_update_delete(nwdaf: httpx.AsyncClient, subscription_body: Any) -> None:
    resp = await nwdaf.post(SUBS, json=subscription_body())
    assert resp.status_code == 201, resp.text
    location = resp.headers["location"]
    assert location.startswith(f"http://nwdaf.example{SUBS}/")
    assert resp.json()["eventSubscriptions"][0]["event"] == "ABNORMAL_BEHAVIOUR"
    path = location.removeprefix("http://nwdaf.example")

    put = await nwdaf.put(path, json=subscription_body(event={"tgtUe": {"supis": [BOT]}}))
    assert put.status_code == 200, put.text
    assert put.json()["eventSubscriptions"][0]["tgtUe"] == {"supis": [BOT]}

    assert (await nwdaf.delete(path)).status_code == 204
    gone = _problem(await nwdaf.delete(path), 404)
    assert gone["cause"] == "SUBSCRIPTION_NOT_FOUND"
    _problem(await nwdaf.put(path, json=subscription_body()), 404)


async def test_unknown_enum_is_400_with_invalid_params(nwdaf: httpx.AsyncClient, subscription_body: Any) -> None:
    resp = await nwdaf.post(SUBS, json=subscription_body(event={"event": "BOTNET_DETECTION"}))
    body = _problem(resp, 400)
    assert {"param": "/eventSubscriptions/0/event"} in [{"param": p["param"]} for p in body["invalidParams"]]


async def test_malformed_json_and_wrong_media_type(nwdaf: httpx.AsyncClient) -> None:
    bad = await nwdaf.post(SUBS, content=b"{", headers={"content-type": "application/json"})
    assert _problem(bad, 400)["cause"] == "INVALID_MSG_FORMAT"
    wrong = await nwdaf.post(SUBS, content=b"x", headers={"content-type": "text/plain"})
    _problem(wrong, 415)


async def test_unsupported_event_is_403_never_501(nwdaf: httpx.AsyncClient) -> None:
    resp = await nwdaf.post(SUBS, json={"eventSubscriptions": [{"event": "QOS_SUSTAINABILITY"}],
                                        "notificationURI": "http://c.example/n"})
    assert _problem(resp, 403)["cause"] == "UNAVAILABLE_DATA"


async def test_immediate_report_in_201(nwdaf: httpx.AsyncClient, processor: EventsSubscriptionProcessor,
                                       subscription_body: Any, make_result: Any) -> None:
    processor.on_result(make_result(BOT))
    resp = await nwdaf.post(SUBS, json=subscription_body(evtReq={"immRep": True}))
    assert resp.status_code == 201
    assert resp.json()["eventNotifications"][0]["abnorBehavrs"][0]["supis"] == [BOT]


async def test_analytics_info_returns_current_analytics(nwdaf: httpx.AsyncClient,
                                                        processor: EventsSubscriptionProcessor,
                                                        make_result: Any) -> None:
    processor.on_result(make_result(BOT))
    processor.on_result(make_result(OTHER, excep="WRONG_DESTINATION_ADDRESS"))
    resp = await nwdaf.get(ANALYTICS, params={"event-id": "ABNORMAL_BEHAVIOUR"})
    assert resp.status_code == 200, resp.text
    assert {b["supis"][0] for b in resp.json()["abnorBehavrs"]} == {BOT, OTHER}

    filtered = await nwdaf.get(ANALYTICS, params={
        "event-id": "ABNORMAL_BEHAVIOUR",
        "event-filter": json.dumps({"excepIds": ["WRONG_DESTINATION_ADDRESS"]}),
        "tgt-ue": json.dumps({"anyUe": True}),
        "ana-req": json.dumps({"maxObjectNbr": 5}),
    })
    assert [b["supis"] for b in filtered.json()["abnorBehavrs"]] == [[OTHER]]

    by_supi = await nwdaf.get(ANALYTICS, params={"event-id": "ABNORMAL_BEHAVIOUR",
                                                 "tgt-ue": json.dumps({"supis": [BOT]})})
    assert [b["supis"] for b in by_supi.json()["abnorBehavrs"]] == [[BOT]]


async def test_analytics_info_204_when_nothing(nwdaf: httpx.AsyncClient, processor: EventsSubscriptionProcessor,
                                               make_result: Any) -> None:
    assert (await nwdaf.get(ANALYTICS, params={"event-id": "ABNORMAL_BEHAVIOUR"})).status_code == 204
    processor.on_result(make_result(BOT, event="UE_COMMUNICATION"))
    comm = await nwdaf.get(ANALYTICS, params={"event-id": "UE_COMMUNICATION",
                                              "tgt-ue": json.dumps({"supis": [BOT]})})
    assert comm.status_code == 200
    (ue_comm,) = comm.json()["ueComms"]
    assert ue_comm["commDur"] == 5
    assert ue_comm["trafChar"]["ulVol"] == 1200
    window = json.dumps({"startTs": "2001-01-01T00:00:00Z", "endTs": "2001-01-02T00:00:00Z"})
    old = await nwdaf.get(ANALYTICS, params={"event-id": "UE_COMMUNICATION", "ana-req": window})
    assert old.status_code == 204


@pytest.mark.parametrize(("params", "status", "param"), [
    ({}, 400, "event-id"),
    ({"event-id": "SLICE_LOAD_LEVEL"}, 400, "event-id"),  # a NwdafEvent, not an EventId
    ({"event-id": "NF_LOAD"}, 403, "event-id"),
    ({"event-id": "ABNORMAL_BEHAVIOUR", "event-filter": "{not json"}, 400, "event-filter"),
    ({"event-id": "ABNORMAL_BEHAVIOUR", "event-filter": "[1]"}, 400, "event-filter"),
    ({"event-id": "ABNORMAL_BEHAVIOUR", "event-filter": '{"excepIds": ["NOPE"]}'}, 400, "event-filter/excepIds/0"),
    ({"event-id": "ABNORMAL_BEHAVIOUR", "tgt-ue": '{"anyUe": 3}'}, 400, "tgt-ue/anyUe"),
    ({"event-id": "ABNORMAL_BEHAVIOUR", "ana-req": '{"maxObjectNbr": -1}'}, 400, "ana-req/maxObjectNbr"),
    ({"event-id": "ABNORMAL_BEHAVIOUR", "tgt-ue": '{"gpsis": ["msisdn-4917112345"]}'}, 403, "tgt-ue"),
])
async def test_analytics_info_bad_queries(nwdaf: httpx.AsyncClient, params: dict[str, str], status: int,
                                          param: str) -> None:
    body = _problem(await nwdaf.get(ANALYTICS, params=params), status)
    assert param in [p["param"] for p in body["invalidParams"]]


async def test_metrics_appear_on_the_nf_metrics_endpoint_while_serving(processor: EventsSubscriptionProcessor,
                                                                       subscription_body: Any) -> None:
    app = create_sbi_app("nwdaf", [(events_subscription.API_ROOT, events_subscription.create_router(processor))])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://nwdaf.example") as client:
        assert "nwdaf_anlf_subscriptions" not in (await client.get("/metrics")).text
        async with app.router.lifespan_context(app):  # what hypercorn runs at start-up
            await client.post(SUBS, json=subscription_body())
            text = (await client.get("/metrics")).text
            assert "nwdaf_anlf_subscriptions 1.0" in text
            assert "nwdaf_anlf_periodic_report_lateness_seconds_bucket" in text
        assert "nwdaf_anlf_subscriptions" not in (await client.get("/metrics")).text
