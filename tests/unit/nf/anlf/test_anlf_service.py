"""AnlfService wiring: routers, bus consumption of AnalyticsResult envelopes, malformed messages skipped, the
notifications through the SBI client's transport."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.polling import wait_until

from nwdaf.app.config import Settings
from nwdaf.nf.anlf.service import build_anlf
from nwdaf.nf.anlf.subscription import parse_request
from nwdaf.platform.bus import InMemoryBus, encode, topics
from nwdaf.platform.events import ANALYTICS_RESULT
from nwdaf.platform.nf import ServiceContext
from nwdaf.platform.sbi import SbiClient

pytestmark = pytest.mark.unit


async def test_consumes_results_and_skips_garbage(tmp_path: Path, make_result: Any) -> None:
    settings = Settings(data_dir=tmp_path)
    bus, client = InMemoryBus(), SbiClient()
    svc = build_anlf(ServiceContext(settings, bus, client, None), settings.anlf)
    assert [prefix for prefix, _ in svc.routers()] == ["/nnwdaf-eventssubscription/v1", "/nnwdaf-analyticsinfo/v1"]
    assert settings.anlf.store_file == "anlf-subscriptions.sqlite3"
    await svc.start()
    try:
        await bus.publish(topics.ANALYTICS_RESULTS, b"not an envelope")
        await bus.publish(topics.ANALYTICS_RESULTS, encode(make_result(), type_="SomethingElse"))
        await bus.publish(topics.ANALYTICS_RESULTS, encode(make_result(), type_=ANALYTICS_RESULT), key=b"imsi")
        await wait_until(lambda: len(svc.processor.findings) == 1, message="the valid result as a finding")
        registry = svc.processor.metrics.registry
        assert registry.get_sample_value("nwdaf_anlf_analytics_results_total", {"outcome": "invalid"}) == 2
        assert registry.get_sample_value("nwdaf_anlf_analytics_results_total", {"outcome": "accepted"}) == 1
    finally:
        await svc.stop()
        await client.aclose()
    assert (tmp_path / "anlf-subscriptions.sqlite3").exists()


async def test_an_injected_transport_carries_the_notifications_of_the_runtime_built_anlf(
    tmp_path: Path, make_result: Any, consumer: Any, subscription_body: Any
) -> None:
    """The production wiring (``notification_client: http1``, an ``http://`` callback) with a transport injected
    into the SBI client: the notifications go through the production notifier and client into that transport."""
    settings = Settings(data_dir=tmp_path, anlf={"store_file": ":memory:"})
    assert settings.anlf.notification_client == "http1"
    bus, client = InMemoryBus(), SbiClient(transport=httpx.MockTransport(consumer.handler))
    svc = build_anlf(ServiceContext(settings, bus, client, None), settings.anlf)
    await svc.start()
    try:
        sub, _ = await svc.processor.subscribe(*parse_request(subscription_body(), None))
        await bus.publish(topics.ANALYTICS_RESULTS, encode(make_result(), type_=ANALYTICS_RESULT), key=b"imsi")
        await wait_until(lambda: consumer.received, message="the notification")
    finally:
        await svc.stop()
        await client.aclose()
    (uri, body), = consumer.received
    assert uri == "http://smf.example/cb"
    assert [n["subscriptionId"] for n in body] == [sub.subscription_id]
    delivered = svc.processor.metrics.registry.get_sample_value("nwdaf_anlf_notifications_total",
                                                                {"outcome": "delivered"})
    assert delivered == 1
