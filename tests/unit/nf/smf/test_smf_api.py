"""The SMF callback and audit over HTTP (ASGI transport), and the UPF N4-like client against a fake UPF."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from nwdaf.nf.smf.api.callbacks import API_ROOT, create_router
from nwdaf.nf.smf.consumer.upf_n4 import UpfError, UpfN4Client
from nwdaf.platform.models.openapi import SpecValidator
from nwdaf.platform.sbi import PROBLEM_JSON, SbiClient, create_sbi_app

pytestmark = pytest.mark.unit

BOT, FRIEND = "imsi-001010000000001", "imsi-001010000000009"


@pytest.fixture
async def smf(policy: Any, validator: SpecValidator | None) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    processor = policy(allowlist=[FRIEND])
    app = create_sbi_app("smf", [(API_ROOT, create_router(processor, processor.audit, validator))])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://smf.example") as client:
        yield client, processor


async def test_notification_then_audit(smf: tuple[httpx.AsyncClient, Any], upf: Any, make_notification: Any,
                                       make_behaviour: Any) -> None:
    client, processor = smf
    upf.add(5, BOT)
    upf.add(6, FRIEND)
    resp = await client.post(f"{API_ROOT}/notifications",
                             json=make_notification(make_behaviour(BOT), make_behaviour(FRIEND)))
    assert resp.status_code == 204, resp.text
    await processor.idle()
    audit = (await client.get(f"{API_ROOT}/audit")).json()["entries"]
    assert [(e["supi"], e["decision"]) for e in audit] == [(BOT, "released"), (FRIEND, "skipped-allowlist")]
    assert audit[0]["notification"]["abnorBehavr"]["excep"]["excepId"] == "SUSPICION_OF_DDOS_ATTACK"
    assert {"ts", "receivedAt", "seids", "reason", "confidence"} <= audit[0].keys()
    only = (await client.get(f"{API_ROOT}/audit", params={"decision": "skipped-allowlist"})).json()["entries"]
    assert [e["supi"] for e in only] == [FRIEND]
    by_supi = (await client.get(f"{API_ROOT}/audit", params={"supi": BOT, "limit": 1})).json()["entries"]
    assert [e["decision"] for e in by_supi] == ["released"]
    assert upf.deleted == [5]


async def test_bad_notification_is_problem_details(smf: tuple[httpx.AsyncClient, Any]) -> None:
    client, _ = smf
    resp = await client.post(f"{API_ROOT}/notifications", json=[{"eventNotifications": []}])
    assert resp.status_code == 400
    assert resp.headers["content-type"] == PROBLEM_JSON
    assert resp.json()["invalidParams"]
    bad_filter = await client.get(f"{API_ROOT}/audit", params={"decision": "maybe"})
    assert bad_filter.status_code == 400


async def test_upf_client(upf: Any, upf_client: SbiClient) -> None:
    n4 = UpfN4Client(upf_client, "http://upf.example/")
    upf.add(9, BOT)
    (session,) = await n4.sessions_of(BOT)
    assert (session.seid, session.state, session.dnn) == (9, "ACTIVE", "internet")
    assert await n4.sessions_of("imsi-none") == []
    assert await n4.release(9) is True
    assert await n4.release(9) is True  # idempotent
    assert await n4.release(99) is False
    upf.fail_lookups = True
    with pytest.raises(UpfError, match="500"):
        await n4.sessions_of(BOT)


async def test_upf_client_rejects_unusable_answers() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json=[{"seid": "x"}])
        return httpx.Response(409)

    client = SbiClient(transport=httpx.MockTransport(handler))
    n4 = UpfN4Client(client, "http://upf.example")
    with pytest.raises(UpfError, match="unusable"):
        await n4.sessions_of(BOT)
    with pytest.raises(UpfError, match="409"):
        await n4.release(1)
    await client.aclose()
