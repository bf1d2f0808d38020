"""The closed loop on loopback servers: an engine's finding for a bot on the in-process bus -> the NWDAF notifies
the SMF -> the SMF releases the bot's PDU session at the (fake) UPF -> the audit says released. An allowlisted
SUPI with the same finding keeps its session. The SMF subscribes for reports on detection, so the finding reaches
it without any PERIODIC tick."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.polling import wait_until

from nwdaf.app.config import Settings
from nwdaf.nf.anlf.config import AnlfSettings
from nwdaf.nf.anlf.service import AnlfService, build_anlf
from nwdaf.nf.smf.config import SmfSettings
from nwdaf.nf.smf.service import SmfService, build_smf
from nwdaf.platform.bus import InMemoryBus, topics
from nwdaf.platform.nf import ServiceContext, load_validator
from nwdaf.platform.sbi import SbiClient, create_sbi_app, start_server

pytestmark = pytest.mark.integration

BOT, FRIEND = "imsi-001010000000001", "imsi-001010000000009"
AUDIT = "/nsmf-nwdaf-callback/v1/audit"
SUBS = "/nnwdaf-eventssubscription/v1/subscriptions"
Stack = tuple[InMemoryBus, SmfService, dict[str, str], AnlfService]


@pytest.fixture
async def loop_stack(tmp_path: Path, fake_upf: Any
                     ) -> AsyncIterator[tuple[InMemoryBus, SmfService, dict[str, str], AnlfService]]:
    async with AsyncExitStack() as stack:
        bus = InMemoryBus()
        client = SbiClient()
        stack.push_async_callback(client.aclose)
        ctx = ServiceContext(Settings(data_dir=tmp_path), bus, client, load_validator())
        upf = await start_server(fake_upf.app, "127.0.0.1", 0, name="upf")
        stack.push_async_callback(upf.stop)
        ctx.base_urls["upf"] = upf.url
        anlf = build_anlf(ctx, AnlfSettings(store_file=":memory:"))
        smf = build_smf(ctx, SmfSettings(allowlist=[FRIEND], min_confidence=50))
        for nf, svc in (("nwdaf", anlf), ("smf", smf)):
            server = await start_server(create_sbi_app(nf, svc.routers()), "127.0.0.1", 0, name=nf)
            stack.push_async_callback(server.stop)
            ctx.base_urls[nf] = server.url
        for svc in (anlf, smf):
            await svc.start()
            stack.push_async_callback(svc.stop)
        yield bus, smf, ctx.base_urls, anlf


async def test_bot_is_released_friend_is_not(loop_stack: Stack,
                                              fake_upf: Any, make_bot_result: Any) -> None:
    bus, smf, urls, _ = loop_stack
    smf_url = urls["smf"]
    fake_upf.add(1, BOT)
    fake_upf.add(2, FRIEND)
    assert smf.subscriber is not None
    await wait_until(smf.subscriber.subscribed.is_set, timeout_s=60, message="the SMF to subscribe at the NWDAF")

    for supi in (BOT, FRIEND):
        await bus.publish(topics.ANALYTICS_RESULTS, make_bot_result(supi), key=supi.encode())

    audited: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=smf_url) as http:

        async def two_decisions() -> list[dict[str, Any]]:
            audited[:] = (await http.get(AUDIT)).json()["entries"]
            return list(audited) if len(audited) >= 2 else []

        entries = await wait_until(two_decisions, timeout_s=30,
                                   message=lambda: f"two decisions in the SMF's audit, got {audited}")
    decisions = {e["supi"]: e["decision"] for e in entries}
    assert decisions == {BOT: "released", FRIEND: "skipped-allowlist"}
    assert fake_upf.deleted == [1]
    assert fake_upf.sessions[2]["state"] == "ACTIVE"
    bot_entry = next(e for e in entries if e["supi"] == BOT)
    assert bot_entry["seids"] == [1]
    assert bot_entry["notification"]["subscriptionId"] == smf.processor.subscription.subscription_id
    assert bot_entry["notification"]["abnorBehavr"]["excep"]["excepId"] == "SUSPICION_OF_DDOS_ATTACK"


async def test_the_finding_reaches_the_smf_without_a_periodic_tick(
        loop_stack: Stack, fake_upf: Any, make_bot_result: Any, recorder: Any) -> None:
    """Next to the SMF, a consumer subscribed PERIODIC every hour: the bot is released while that consumer's first
    tick is still an hour away, and the NWDAF's scheduler has fired nothing."""
    bus, smf, urls, anlf = loop_stack
    rec, rec_server = recorder
    fake_upf.add(1, BOT)
    assert smf.subscriber is not None
    await wait_until(smf.subscriber.subscribed.is_set, timeout_s=60, message="the SMF to subscribe at the NWDAF")
    smf_sub = anlf.processor.subscriptions[smf.processor.subscription.subscription_id]
    assert smf_sub.body["evtReq"]["notifMethod"] == "ON_EVENT_DETECTION"
    assert smf_sub.body["eventSubscriptions"][0]["notificationMethod"] == "THRESHOLD"
    hourly = {"eventSubscriptions": [{"event": "ABNORMAL_BEHAVIOUR", "tgtUe": {"anyUe": True},
                                      "excepRequs": [{"excepId": "SUSPICION_OF_DDOS_ATTACK"}]}],
              "evtReq": {"notifMethod": "PERIODIC", "repPeriod": 3600},
              "notificationURI": f"{rec_server.url}/callback"}
    async with httpx.AsyncClient(base_url=urls["nwdaf"]) as nbi:
        assert (await nbi.post(SUBS, json=hourly)).status_code == 201

    await bus.publish(topics.ANALYTICS_RESULTS, make_bot_result(BOT), key=BOT.encode())
    await wait_until(lambda: fake_upf.deleted == [1], timeout_s=30, message="the bot's session to be released")
    assert anlf.processor.scheduler.fired == 0
    assert len(anlf.processor.scheduler) == 1  # the hourly subscription, still waiting for its first tick
    assert rec.received == []
    (entry,) = smf.audit.entries()
    assert (entry.supi, entry.decision.value) == (BOT, "released")
