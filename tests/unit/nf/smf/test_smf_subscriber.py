"""The SMF's NWDAF subscription: ABNORMAL_BEHAVIOUR of any UE as TS 29.520 spells it, refresh, re-subscribe after a 404,
immediate reports acted on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI, Request, Response
from tests.support.polling import wait_until

from nwdaf.nf.smf.audit import Decision
from nwdaf.nf.smf.config import SmfSettings
from nwdaf.nf.smf.consumer.nnwdaf_events_subscription import NnwdafEventsSubscriptionClient, NwdafError
from nwdaf.nf.smf.subscriber import NwdafSubscriber, subscription_request
from nwdaf.platform.models import to_wire
from nwdaf.platform.models.openapi import SpecValidator
from nwdaf.platform.sbi import SbiClient

pytestmark = pytest.mark.unit

BOT = "imsi-001010000000001"
ROOT = "/nnwdaf-eventssubscription/v1/subscriptions"
SCHEMA = "TS29520_Nnwdaf_EventsSubscription.yaml#/components/schemas/NnwdafEventsSubscription"


class FakeNwdaf:
    """Records requests; forgets subscriptions on demand; can include an immediate report."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.known: set[str] = set()
        self.immediate: list[dict[str, Any]] | None = None
        self.refuse = False
        self.app = FastAPI()
        self.app.post(ROOT)(self.create)
        self.app.put(ROOT + "/{sid}")(self.update)
        self.app.delete(ROOT + "/{sid}")(self.delete)

    async def create(self, request: Request) -> Response:
        body = orjson.loads(await request.body())
        self.requests.append(("POST", "", body))
        if self.refuse:
            return Response(status_code=403)
        sid = f"s{len(self.known) + len(self.requests)}"
        self.known.add(sid)
        if self.immediate and body.get("evtReq", {}).get("immRep"):
            body = {**body, "eventNotifications": self.immediate}
        return Response(orjson.dumps(body), status_code=201, media_type="application/json",
                        headers={"Location": f"http://nwdaf.example{ROOT}/{sid}"})

    async def update(self, sid: str, request: Request) -> Response:
        body = orjson.loads(await request.body())
        self.requests.append(("PUT", sid, body))
        if sid not in self.known:
            return Response(status_code=404)
        return Response(orjson.dumps(body), media_type="application/json")

    async def delete(self, sid: str) -> Response:
        self.requests.append(("DELETE", sid, {}))
        return Response(status_code=204 if self.known.discard(sid) is None else 404)


@pytest.fixture
def nwdaf() -> FakeNwdaf:
    return FakeNwdaf()


@pytest.fixture
async def nwdaf_client(nwdaf: FakeNwdaf) -> AsyncIterator[NnwdafEventsSubscriptionClient]:
    client = SbiClient(transport=httpx.ASGITransport(app=nwdaf.app))
    yield NnwdafEventsSubscriptionClient(client, "http://nwdaf.example")
    await client.aclose()


def test_request_uses_the_ts_29520_names(validator: SpecValidator | None) -> None:
    request = to_wire(subscription_request(SmfSettings(), "http://smf.example/cb", "smf-1"))
    assert request == {
        "eventSubscriptions": [{"event": "ABNORMAL_BEHAVIOUR",
                                "notificationMethod": "THRESHOLD",
                                "tgtUe": {"anyUe": True},
                                "excepRequs": [{"excepId": "SUSPICION_OF_DDOS_ATTACK"}]}],
        "evtReq": {"immRep": True, "notifMethod": "ON_EVENT_DETECTION"},
        "notificationURI": "http://smf.example/cb",
        "notifCorrId": "smf-1",
    }
    periodic = to_wire(subscription_request(
        SmfSettings(notification_method="PERIODIC", repetition_period_s=3, immediate_report=False,
                    exception_ids=["SUSPICION_OF_DDOS_ATTACK", "WRONG_DESTINATION_ADDRESS"]), "http://s/cb", "x"))
    assert periodic["eventSubscriptions"][0]["notificationMethod"] == "PERIODIC"
    assert periodic["eventSubscriptions"][0]["repetitionPeriod"] == 3
    assert len(periodic["eventSubscriptions"][0]["excepRequs"]) == 2
    assert periodic["evtReq"] == {"notifMethod": "PERIODIC", "repPeriod": 3}
    if validator is not None:
        assert validator.errors(request, SCHEMA) == []
        assert validator.errors(periodic, SCHEMA) == []


def test_threshold_in_the_config_of_earlier_releases_means_on_event_detection() -> None:
    assert SmfSettings(notification_method="THRESHOLD").notification_method == "ON_EVENT_DETECTION"
    assert SmfSettings().notification_method == "ON_EVENT_DETECTION"
    with pytest.raises(ValueError, match="notification_method"):
        SmfSettings(notification_method="ONE_TIME")


async def test_subscribes_refreshes_and_resubscribes_after_404(policy: Any, upf: Any, nwdaf: FakeNwdaf,
                                                               nwdaf_client: NnwdafEventsSubscriptionClient,
                                                               make_behaviour: Any) -> None:
    upf.add(7, BOT)
    nwdaf.immediate = [{"event": "ABNORMAL_BEHAVIOUR", "abnorBehavrs": [make_behaviour(BOT)]}]
    processor = policy()
    settings = SmfSettings(resubscribe_check_s=0.02)
    request = subscription_request(settings, "http://smf.example/cb", "smf-1")
    subscriber = NwdafSubscriber(settings, nwdaf_client, processor.subscription, processor, request)
    subscriber.start()
    await wait_until(lambda: any(m == "PUT" for m, _, _ in nwdaf.requests), message="a refresh")
    first = processor.subscription.subscription_id
    assert first in nwdaf.known
    await processor.idle()
    assert [(e.supi, e.decision) for e in processor.audit.entries()] == [(BOT, Decision.RELEASED)]
    put = next(body for m, _, body in nwdaf.requests if m == "PUT")
    assert "immRep" not in put.get("evtReq", {})  # a refresh does not ask for another immediate report

    nwdaf.known.clear()  # the NWDAF loses the subscription
    await wait_until(lambda: processor.subscription.subscription_id not in (None, first), message="a new subscription")
    assert processor.subscription.accepts(first)  # late notifications of the old one are still taken
    await subscriber.stop()
    assert nwdaf.requests[-1][0] == "DELETE"
    assert processor.subscription.location is None


async def test_keeps_retrying_while_refused(policy: Any, nwdaf: FakeNwdaf,
                                            nwdaf_client: NnwdafEventsSubscriptionClient) -> None:
    nwdaf.refuse = True
    processor = policy()
    settings = SmfSettings(subscribe_retry_s=0.01)
    subscriber = NwdafSubscriber(settings, nwdaf_client, processor.subscription, processor,
                                 subscription_request(settings, "http://smf.example/cb", "smf-1"))
    subscriber.start()
    await wait_until(lambda: len(nwdaf.requests) >= 3, message="three attempts")
    assert "403" in (processor.subscription.last_error or "")
    nwdaf.refuse = False
    await asyncio.wait_for(subscriber.subscribed.wait(), timeout=10)
    assert processor.subscription.last_error is None
    await subscriber.stop()


async def test_client_errors(nwdaf: FakeNwdaf, nwdaf_client: NnwdafEventsSubscriptionClient) -> None:
    request = subscription_request(SmfSettings(), "http://smf.example/cb", "smf-1")
    created = await nwdaf_client.subscribe(request)
    assert created.subscription_id in nwdaf.known
    assert await nwdaf_client.update(f"http://nwdaf.example{ROOT}/unknown", request) is None
    nwdaf.refuse = True
    with pytest.raises(NwdafError) as exc:
        await nwdaf_client.subscribe(request)
    assert exc.value.status == 403
