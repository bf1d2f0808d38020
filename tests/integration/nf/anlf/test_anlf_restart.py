"""Subscriptions survive a restart: a new NWDAF instance on the same data dir resumes notifying a real HTTP
callback server, and report counters carry over (maxReportNbr is honoured across the restart)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.polling import wait_until

from nwdaf.app.config import Settings
from nwdaf.nf.anlf.config import AnlfSettings
from nwdaf.nf.anlf.service import AnlfService, build_anlf
from nwdaf.platform.bus import InMemoryBus, topics
from nwdaf.platform.nf import ServiceContext, load_validator
from nwdaf.platform.sbi import SbiClient, create_sbi_app, start_server

pytestmark = pytest.mark.integration

SUBS = "/nnwdaf-eventssubscription/v1/subscriptions"
BOT = "imsi-001010000000001"


@asynccontextmanager
async def nwdaf(data_dir: Path, bus: InMemoryBus) -> AsyncIterator[tuple[AnlfService, str]]:
    """One NWDAF instance: the analytics exposure built by its runtime builder, served on loopback."""
    settings = Settings(data_dir=data_dir)
    client = SbiClient()
    svc = build_anlf(ServiceContext(settings, bus, client, load_validator()),
                     AnlfSettings(progress_flush_s=0.05, notify_backoff_s=0.01))
    server = await start_server(create_sbi_app("nwdaf", svc.routers()), "127.0.0.1", 0, name="nwdaf")
    await svc.start()
    try:
        yield svc, server.url
    finally:
        await svc.stop()
        await server.stop()
        await client.aclose()


def _body(callback: str, method: str, **evt_req: Any) -> dict[str, Any]:
    event: dict[str, Any] = {"event": "ABNORMAL_BEHAVIOUR", "excepRequs": [{"excepId": "SUSPICION_OF_DDOS_ATTACK"}],
                             "tgtUe": {"anyUe": True}, "notificationMethod": method}
    if method == "PERIODIC":
        event["repetitionPeriod"] = 1
    body: dict[str, Any] = {"eventSubscriptions": [event], "notificationURI": callback, "notifCorrId": method}
    if evt_req:
        body["evtReq"] = evt_req
    return body


async def test_subscriptions_and_notifications_resume_after_restart(tmp_path: Path, recorder: Any,
                                                                    make_bot_result: Any) -> None:
    rec, callback_server = recorder
    callback = callback_server.url + "/callback"
    bus = InMemoryBus()
    async with nwdaf(tmp_path, bus) as (first, url), httpx.AsyncClient(base_url=url) as http:
        created = {}
        for name, body in (("periodic", _body(callback, "PERIODIC")),
                           ("limited", _body(callback, "PERIODIC", maxReportNbr=3)),
                           ("threshold", _body(callback, "THRESHOLD"))):
            resp = await http.post(SUBS, json=body)
            assert resp.status_code == 201, resp.text
            created[name] = resp.headers["location"].rsplit("/", 1)[-1]
        await wait_until(lambda: rec.count(created["limited"]) >= 1, timeout_s=60, message="a first periodic report")
        assert set(first.processor.subscriptions) == set(created.values())
    before = rec.count(created["periodic"])

    async with nwdaf(tmp_path, InMemoryBus()) as (second, url), httpx.AsyncClient(base_url=url) as http:
        assert set(second.processor.subscriptions) == set(created.values())
        await wait_until(lambda: created["limited"] not in second.processor.subscriptions,
                         timeout_s=60, message="maxReportNbr to end it")
        await wait_until(lambda: rec.count(created["limited"]) >= 3, timeout_s=60, message="the last report to arrive")
        await wait_until(lambda: rec.count(created["periodic"]) >= before + 3,
                         timeout_s=60, message="periodic reports after the restart")
        assert rec.count(created["limited"]) == 3  # counted across both instances, none after the last

        await second.bus.publish(topics.ANALYTICS_RESULTS, make_bot_result(BOT), key=BOT.encode())
        await wait_until(lambda: rec.count(created["threshold"]) == 1,
                         timeout_s=60, message="the THRESHOLD notification")
        (note,) = [n for n in rec.received if n["subscriptionId"] == created["threshold"]]
        assert note["eventNotifications"][0]["abnorBehavrs"][0]["supis"] == [BOT]
        assert note["notifCorrId"] == "THRESHOLD"

        assert (await http.delete(f"{SUBS}/{created['periodic']}")).status_code == 204

    async with nwdaf(tmp_path, InMemoryBus()) as (third, _):
        assert set(third.processor.subscriptions) == {created["threshold"]}
