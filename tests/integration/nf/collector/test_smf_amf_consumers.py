"""The collector subscribes to real Nsmf_EventExposure / Namf_EventExposure producers and keeps the subscriptions.

Each producer is an in-process FastAPI app served by hypercorn on 127.0.0.1: it validates every request body
against the 3GPP YAML (a non-conformant subscription is refused with 400, so the collector could not subscribe),
keeps its subscriptions, and after each subscription sends a notification to the ``notifUri`` /
``eventNotifyUri`` it was given, i.e. to the collector's Data Receiver. ``forget()`` is what a producer restart
does to its subscriptions.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, BackgroundTasks, Request, Response
from fastapi.responses import JSONResponse
from tests.support.polling import wait_until

from nwdaf.app.config import Settings, load_settings
from nwdaf.app.runtime import Runtime, start_runtime
from nwdaf.nf.collector.config import SmfEeTarget
from nwdaf.nf.collector.consumer.ee_subscription import nf_instance_id
from nwdaf.nf.collector.consumer.namf_event_exposure import AmfEeSubscription
from nwdaf.nf.collector.consumer.nsmf_event_exposure import SmfEeSubscription, build_smf_subscription
from nwdaf.nf.collector.service import CollectorService
from nwdaf.platform.bus import Message, decode, topics
from nwdaf.platform.events import NfNotification
from nwdaf.platform.models.openapi import OpenApiUnavailable, SpecValidator
from nwdaf.platform.sbi import RunningServer, SbiClient, create_sbi_app, start_server

pytestmark = pytest.mark.integration

SUPI = "imsi-001010000000042"
NSMF = "TS29508_Nsmf_EventExposure.yaml#/components/schemas/"
NAMF = "TS29518_Namf_EventExposure.yaml#/components/schemas/"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class EeProducer:
    """An SMF (``kind="smf"``) or AMF (``kind="amf"``) event exposure producer."""

    kind: str
    spec: SpecValidator
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    created: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    refreshes: int = 0
    notify_status: list[int] = field(default_factory=list)
    server: RunningServer | None = None
    client: httpx.AsyncClient = field(default_factory=httpx.AsyncClient)

    @property
    def root(self) -> str:
        return "/nsmf-event-exposure/v1" if self.kind == "smf" else "/namf-evts/v1"

    def forget(self) -> None:
        self.subscriptions.clear()

    def _callback(self, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Where to notify and the notification (TS 29.508 NsmfEventExposureNotification / TS 29.518
        AmfEventNotification) for the subscription ``body``."""
        if self.kind == "smf":
            event = {"event": "PDU_SES_EST", "timeStamp": _now(), "supi": SUPI, "ipv4Addr": "10.45.0.42",
                     "pduSeId": 1, "dnn": "internet", "snssai": {"sst": 1, "sd": "000001"}}
            note = {"notifId": body["notifId"], "eventNotifs": [event]}
            self.spec.validate(note, NSMF + "NsmfEventExposureNotification")
            return body["notifUri"], note
        sub = body["subscription"]
        report = {"type": "REGISTRATION_STATE_REPORT", "state": {"active": True}, "timeStamp": _now(), "supi": SUPI,
                  "rmInfoList": [{"rmState": "REGISTERED", "accessType": "3GPP_ACCESS"}]}
        note = {"notifyCorrelationId": sub["notifyCorrelationId"], "reportList": [report]}
        self.spec.validate(note, NAMF + "AmfEventNotification")
        return sub["eventNotifyUri"], note

    async def _notify(self, body: dict[str, Any]) -> None:
        uri, note = self._callback(body)
        try:
            resp = await self.client.post(uri, json=note)
        except httpx.TransportError:
            self.notify_status.append(-1)  # the subscriber is not listening: a real producer would retry later
            return
        self.notify_status.append(resp.status_code)

    async def serve(self, port: int = 0) -> None:
        app = create_sbi_app(self.kind, [(self.root, self.router())])
        self.server = await start_server(app, "127.0.0.1", port, name=f"{self.kind}-ee-producer")

    def router(self) -> APIRouter:
        router = APIRouter()
        router.add_api_route("/subscriptions", self.create, methods=["POST"])
        router.add_api_route("/subscriptions/{sub_id}", self.read, methods=["GET"])
        router.add_api_route("/subscriptions/{sub_id}", self.modify, methods=["PATCH"])
        router.add_api_route("/subscriptions/{sub_id}", self.delete, methods=["DELETE"])
        return router

    async def create(self, request: Request, background: BackgroundTasks) -> Response:
        body = await request.json()
        ref = NSMF + "NsmfEventExposure" if self.kind == "smf" else NAMF + "AmfCreateEventSubscription"
        errors = self.spec.errors(body, ref)
        if errors:
            return JSONResponse({"status": 400, "invalidParams": [{"param": p, "reason": r} for p, r in errors]},
                                status_code=400, media_type="application/problem+json")
        sub_id = uuid.uuid4().hex
        location = f"{self.server.url if self.server else ''}{self.root}/subscriptions/{sub_id}"
        self.subscriptions[sub_id] = body
        self.created.append(body)
        background.add_task(self._notify, body)
        answer = body if self.kind == "smf" else {"subscription": body["subscription"], "subscriptionId": location}
        return JSONResponse(answer, status_code=201, headers={"Location": location})

    async def read(self, sub_id: str) -> Response:
        if sub_id not in self.subscriptions:
            return JSONResponse({"status": 404, "cause": "SUBSCRIPTION_NOT_FOUND"}, status_code=404)
        return JSONResponse(self.subscriptions[sub_id])

    async def modify(self, sub_id: str, request: Request) -> Response:
        assert request.headers["content-type"] == "application/json-patch+json"
        items = await request.json()
        for item in items:
            self.spec.validate(item, NAMF + "AmfUpdateEventOptionItem")
        if sub_id not in self.subscriptions:
            return JSONResponse({"status": 404, "cause": "SUBSCRIPTION_NOT_FOUND"}, status_code=404)
        self.refreshes += 1
        self.subscriptions[sub_id]["subscription"]["options"]["expiry"] = items[0]["value"]
        return JSONResponse({"subscription": self.subscriptions[sub_id]["subscription"]})

    async def delete(self, sub_id: str) -> Response:
        self.deleted.append(sub_id)
        if self.subscriptions.pop(sub_id, None) is None:
            return JSONResponse({"status": 404, "cause": "SUBSCRIPTION_NOT_FOUND"}, status_code=404)
        return Response(status_code=204)


@pytest.fixture(scope="module")
def spec() -> SpecValidator:
    try:
        return SpecValidator()
    except OpenApiUnavailable as exc:
        pytest.skip(f"3GPP OpenAPI YAML unavailable: {exc}")


@pytest.fixture
async def producers(spec: SpecValidator) -> AsyncIterator[dict[str, EeProducer]]:
    peers = {kind: EeProducer(kind, spec) for kind in ("smf", "amf")}
    for peer in peers.values():
        await peer.serve()
    yield peers
    for peer in peers.values():
        assert peer.server is not None
        if not peer.server.task.done():
            await peer.server.stop()
        await peer.client.aclose()


def _collector(rt: Runtime) -> CollectorService:
    return next(s for s in rt.services if isinstance(s, CollectorService))


def _settings(smf: EeProducer, amf: EeProducer) -> Settings:
    """The collector alone, subscribed to both producers, checking every 0.2 s."""
    assert smf.server is not None
    assert amf.server is not None
    return load_settings(nwdaf_sbi={"host": "127.0.0.1", "port": 0}, collector={
        "smf_ee": [{"api_root": smf.server.url, "check_interval_s": 0.2}],
        "amf_ee": [{"api_root": amf.server.url, "check_interval_s": 0.2, "expiry_s": 60}]})


async def test_subscribe_notify_resubscribe_and_unsubscribe(producers: dict[str, EeProducer]) -> None:
    smf, amf = producers["smf"], producers["amf"]
    settings = _settings(smf, amf)
    received: dict[str, list[Message]] = {topics.SMF_EE_NOTIFICATIONS: [], topics.AMF_EE_NOTIFICATIONS: []}

    async def handler(msg: Message) -> None:
        received[msg.topic].append(msg)

    async with AsyncExitStack() as stack:
        rt = await start_runtime(settings, ["collector"], stack)
        receiver_url = rt.servers["nwdaf"].url + "/nnwdaf-datareceiver/v1/notifications/"
        sub = await rt.context.bus.subscribe(list(received), "test", handler)
        stack.push_async_callback(sub.stop)
        await wait_until(lambda: all(len(v) == 1 for v in received.values()),
                         message="one notification per feed on the bus")

        assert smf.created[0]["notifUri"] == receiver_url + "smf-ee"
        assert amf.created[0]["subscription"]["eventNotifyUri"] == receiver_url + "amf-ee"
        for topic, peer in ((topics.SMF_EE_NOTIFICATIONS, smf), (topics.AMF_EE_NOTIFICATIONS, amf)):
            msg = received[topic][0]
            assert msg.key == SUPI.encode()
            assert decode(msg.value, NfNotification).payload.ue_key == SUPI
            await wait_until(lambda peer=peer: peer.notify_status == [204],
                             message=f"{peer.kind} notification acknowledged")
        await wait_until(lambda: amf.refreshes >= 2, message="the AMF subscription's expiry refreshed")

        smf_sub, amf_sub = _collector(rt).subscriptions
        assert isinstance(smf_sub, SmfEeSubscription)
        assert isinstance(amf_sub, AmfEeSubscription)
        assert (smf_sub.resubscriptions, amf_sub.resubscriptions) == (0, 0)
        smf.forget()
        amf.forget()
        await wait_until(lambda: len(smf.created) == 2 and len(amf.created) == 2,
                         message="both subscriptions re-created")
        await wait_until(lambda: all(len(v) == 2 for v in received.values()),
                         message="notifications resumed on the bus")
        assert (smf_sub.resubscriptions, amf_sub.resubscriptions) == (1, 1)
        assert len(smf.subscriptions) == len(amf.subscriptions) == 1
        current = {"smf": next(iter(smf.subscriptions)), "amf": next(iter(amf.subscriptions))}

    # Stopping the collector unsubscribes what each producer holds.
    assert (smf.deleted[-1], amf.deleted[-1]) == (current["smf"], current["amf"])
    assert (smf.subscriptions, amf.subscriptions) == ({}, {})


async def test_a_producer_that_does_not_answer_has_not_lost_the_subscription(producers: dict[str, EeProducer]) -> None:
    """Only a 404 is a loss: a producer that is down may come back with its subscriptions, and subscribing again
    then would double every notification. Each watchdog step is run by hand (``check``), so nothing is timed."""
    smf = producers["smf"]
    assert smf.server is not None
    root, port = smf.server.url, smf.server.port
    request = build_smf_subscription(SmfEeTarget(api_root=root), "http://127.0.0.1:9/not-listening", "nwdaf-smf-0",
                                     nf_instance_id("nwdaf-test"))
    client = SbiClient()
    sub = SmfEeSubscription(client, root, request, 1.0)
    try:
        await sub.create()
        resource = sub.resource_uri
        await smf.server.stop()
        await sub.check()  # the SMF is down: unknown, not lost
        assert (sub.resource_uri, sub.resubscriptions, len(smf.created)) == (resource, 0, 1)

        await smf.serve(port)  # back, with its subscriptions (an SMF that persists them)
        await sub.check()
        assert (sub.resource_uri, sub.resubscriptions, len(smf.created)) == (resource, 0, 1)

        smf.forget()  # back without them
        await sub.check()
        assert (sub.resubscriptions, len(smf.created), len(smf.subscriptions)) == (1, 2, 1)
        assert sub.resource_uri != resource
        await sub.delete()
        assert smf.subscriptions == {}
    finally:
        await client.aclose()
