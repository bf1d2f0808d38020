"""After a UPF restart the collector re-subscribes to Nupf_EventExposure and the reports reach the bus again.

A real UPF (synthetic UEs, hypercorn on 127.0.0.1) and the collector in its runtime: the collector subscribes on
start; the UPF is stopped and a new one is started on the same port. The UPF keeps its subscriptions in memory
only, so the new one does not know the subscription; it has no read operation either (TS 29.564 defines none),
so the collector sees the loss as silence (``resubscribe_after_periods``) and subscribes again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import pytest
from tests.support.polling import wait_until

from nwdaf.app.config import load_settings
from nwdaf.app.runtime import start_runtime
from nwdaf.nf.collector.consumer.nupf_event_exposure import UpfEeSubscription
from nwdaf.nf.collector.service import CollectorService
from nwdaf.nf.upf.config import UpfConfig
from nwdaf.nf.upf.service import UpfService, create_upf_service
from nwdaf.platform.bus import Message, decode, topics
from nwdaf.platform.events import NfNotification
from nwdaf.platform.sbi import RunningServer, SbiClient, create_sbi_app, start_server

pytestmark = pytest.mark.integration


@dataclass
class RunningUpf:
    service: UpfService
    server: RunningServer
    client: SbiClient

    async def stop(self) -> None:
        await self.service.stop()
        await self.server.stop()
        await self.client.aclose()


async def _start_upf(port: int = 0) -> RunningUpf:
    client = SbiClient()
    svc = create_upf_service(UpfConfig(source="synthetic:benign:7", notify_backoff_s=0.05), client)
    server = await start_server(create_sbi_app("upf", svc.routers()), "127.0.0.1", port, name="upf")
    svc.base_urls = {"upf": server.url}
    await svc.start()
    return RunningUpf(svc, server, client)


@pytest.fixture
async def upfs() -> AsyncIterator[list[RunningUpf]]:
    """The UPFs a test started; each still running at teardown is stopped."""
    started: list[RunningUpf] = []
    yield started
    for upf in started:
        if not upf.server.task.done():
            await upf.stop()


async def test_collector_resubscribes_after_a_upf_restart(upfs: list[RunningUpf]) -> None:
    upfs.append(await _start_upf())
    first = upfs[0]
    port = first.server.port
    settings = load_settings(nwdaf_sbi={"host": "127.0.0.1", "port": 0}, collector={
        "upf_ee": [{"api_root": first.server.url, "rep_period_s": 1, "granularity": "PER_SESSION"}],
        "resubscribe_after_periods": 4})
    notes: list[NfNotification] = []

    async def handler(msg: Message) -> None:
        notes.append(decode(msg.value, NfNotification).payload)

    async with AsyncExitStack() as stack:
        rt = await start_runtime(settings, ["collector"], stack)
        (sub,) = next(s for s in rt.services if isinstance(s, CollectorService)).subscriptions
        assert isinstance(sub, UpfEeSubscription)
        bus_sub = await rt.context.bus.subscribe([topics.UPF_EE_NOTIFICATIONS], "test", handler)
        stack.push_async_callback(bus_sub.stop)
        assert list(first.service.ctx.subscriptions) != []
        await wait_until(lambda: len(notes) >= 2, timeout_s=60, message="reports of the first UPF on the bus")
        first_resource = sub.resource_uri

        await first.stop()
        upfs.append(await _start_upf(port))
        second = upfs[1]
        assert second.server.url == first.server.url
        assert second.service.ctx.subscriptions == {}, "a restarted UPF starts without subscriptions"
        before = len(notes)

        await wait_until(lambda: len(second.service.ctx.subscriptions) == 1,
                         timeout_s=60, message="the collector's new subscription")
        await wait_until(lambda: len(notes) >= before + 2,
                         timeout_s=60, message="reports of the restarted UPF on the bus")
        assert sub.resubscriptions == 1
        assert sub.resource_uri != first_resource
        held = next(iter(second.service.ctx.subscriptions.values()))
        assert held.correlation_id == sub.correlation_id
        assert {n.body["correlationId"] for n in notes[before:]} == {sub.correlation_id}
        assert all(n.source == "upf-ee" and n.ue_key for n in notes)

    assert second.service.ctx.subscriptions == {}, "the collector unsubscribed when it stopped"
