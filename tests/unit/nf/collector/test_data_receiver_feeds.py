"""Data Receiver feeds ``smf-ee`` (TS 29.508) and ``amf-ee`` (TS 29.518): validated against the 3GPP YAML, published
keyed by the UE's SUPI; a violation is a 400 ProblemDetails naming every bad attribute, and nothing is published."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tests.support.polling import wait_until

from nwdaf.nf.collector.api.data_receiver import API_ROOT, create_router
from nwdaf.nf.collector.processor import DataReceiver, ue_key_of
from nwdaf.platform.bus import InMemoryBus, Message, decode, topics
from nwdaf.platform.events import NfNotification
from nwdaf.platform.models.openapi import OpenApiUnavailable, SpecValidator
from nwdaf.platform.sbi import create_sbi_app

pytestmark = pytest.mark.unit

SUPI = "imsi-001010000000007"
SMF_NOTIFICATION: dict[str, Any] = {
    "notifId": "nwdaf-smf-0",
    "eventNotifs": [{
        "event": "PDU_SES_EST", "timeStamp": "2026-11-24T10:00:00Z", "supi": SUPI, "ipv4Addr": "10.45.0.7",
        "pduSeId": 1, "dnn": "internet", "snssai": {"sst": 1, "sd": "000001"}, "pduSessType": "IPV4",
    }],
}
AMF_NOTIFICATION: dict[str, Any] = {
    "notifyCorrelationId": "nwdaf-amf-0",
    "reportList": [{
        "type": "REGISTRATION_STATE_REPORT", "state": {"active": True}, "timeStamp": "2026-11-24T10:00:01Z",
        "supi": SUPI, "rmInfoList": [{"rmState": "REGISTERED", "accessType": "3GPP_ACCESS"}],
    }],
}
FEEDS = {"smf-ee": (SMF_NOTIFICATION, topics.SMF_EE_NOTIFICATIONS),
         "amf-ee": (AMF_NOTIFICATION, topics.AMF_EE_NOTIFICATIONS)}


@pytest.fixture(scope="module")
def validator() -> SpecValidator:
    try:
        return SpecValidator()
    except OpenApiUnavailable as exc:
        pytest.skip(f"3GPP OpenAPI YAML unavailable: {exc}")


@pytest.fixture
async def receiver(validator: SpecValidator) -> AsyncIterator[tuple[httpx.AsyncClient, InMemoryBus]]:
    bus = InMemoryBus()
    await bus.start()
    app = create_sbi_app("nwdaf", [(API_ROOT, create_router(DataReceiver(bus, validator)))])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://nwdaf") as client:
        yield client, bus
    await bus.close()


async def _published(bus: InMemoryBus, topic: str) -> list[Message]:
    got: list[Message] = []

    async def handler(msg: Message) -> None:
        got.append(msg)

    sub = await bus.subscribe([topic], "test", handler)
    await wait_until(lambda: got, message=f"a message on {topic}")
    await sub.stop()
    return got


@pytest.mark.parametrize("feed", sorted(FEEDS))
async def test_valid_notification_is_published_keyed_by_supi(
    receiver: tuple[httpx.AsyncClient, InMemoryBus], feed: str
) -> None:
    client, bus = receiver
    body, topic = FEEDS[feed]
    resp = await client.post(f"{API_ROOT}/notifications/{feed}", json=body)
    assert resp.status_code == 204, resp.text
    got = await _published(bus, topic)
    assert [m.key for m in got] == [SUPI.encode()]
    env = decode(got[0].value, NfNotification)
    assert (env.payload.source, env.payload.ue_key, env.payload.body) == (feed, SUPI, body)
    stats = (await client.get(f"{API_ROOT}/stats")).json()
    assert stats == {"accepted": {feed: 1}, "rejected": {}}


INVALID = {
    "smf-ee": ({"notifId": "nwdaf-smf-0", "eventNotifs": [{"event": "PDU_SES_EST", "supi": 42}]},
               {"/eventNotifs/0/timeStamp", "/eventNotifs/0/supi"}),
    "amf-ee": ({"notifyCorrelationId": "nwdaf-amf-0",
                "reportList": [{"type": "LOCATION_REPORT", "timeStamp": "yesterday", "supi": SUPI}]},
               {"/reportList/0/state", "/reportList/0/timeStamp"}),
}


@pytest.mark.parametrize("feed", sorted(INVALID))
async def test_schema_violation_is_problem_details_and_nothing_is_published(
    receiver: tuple[httpx.AsyncClient, InMemoryBus], feed: str
) -> None:
    client, bus = receiver
    body, expected_params = INVALID[feed]
    resp = await client.post(f"{API_ROOT}/notifications/{feed}", json=body)
    assert resp.status_code == 400
    assert resp.headers["content-type"] == "application/problem+json"
    problem = resp.json()
    assert problem["status"] == 400
    assert problem["cause"] == "MANDATORY_IE_INCORRECT"
    assert {p["param"] for p in problem["invalidParams"]} == expected_params
    assert bus.stats.published == 0
    stats = (await client.get(f"{API_ROOT}/stats")).json()
    assert stats == {"accepted": {}, "rejected": {feed: 1}}


def test_ue_key_falls_back_to_the_ue_address_of_an_smf_event() -> None:
    body = {"notifId": "n", "eventNotifs": [{"event": "UE_IP_CH", "timeStamp": "2026-11-24T10:00:00Z",
                                             "ueIpAddr": {"ipv4Addr": "10.45.0.9"}}]}
    assert ue_key_of(body) == "10.45.0.9"
    assert ue_key_of({"notifId": "n", "eventNotifs": [{"event": "PDU_SES_EST", "ipv4Addr": "10.45.0.8"}]}) \
        == "10.45.0.8"
