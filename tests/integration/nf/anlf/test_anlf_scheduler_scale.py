"""Thousands of PERIODIC subscriptions on one event loop: each gets exactly its reports, and how late they leave
is measured (printed, and in the lateness histogram) — not asserted, the machine is shared."""

from __future__ import annotations

import json
import statistics
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from tests.support.polling import wait_until

from nwdaf.nf.anlf.config import AnlfSettings
from nwdaf.nf.anlf.metrics import AnlfMetrics
from nwdaf.nf.anlf.processor import EventsSubscriptionProcessor
from nwdaf.nf.anlf.state import FindingsState
from nwdaf.nf.anlf.store import LAYOUT
from nwdaf.nf.anlf.subscription import parse_request
from nwdaf.platform.models import NnwdafEventsSubscription
from nwdaf.platform.sbi import SbiClient
from nwdaf.platform.store import SubscriptionStore

pytestmark = pytest.mark.integration

SUBSCRIPTIONS = 2_000
REPORTS = 3


def parsed(processor: EventsSubscriptionProcessor, body: Any) -> tuple[dict[str, Any], NnwdafEventsSubscription]:
    """A request body as the router hands it to the procedures: parsed and validated."""
    return parse_request(body, processor.validator)


async def test_two_thousand_periodic_subscriptions(capsys: pytest.CaptureFixture[str]) -> None:
    arrivals: dict[str, list[float]] = {}

    def consumer(request: httpx.Request) -> httpx.Response:
        for note in json.loads(request.content):
            arrivals.setdefault(note["subscriptionId"], []).append(time.time())
        return httpx.Response(204)

    client = SbiClient(transport=httpx.MockTransport(consumer))
    settings = AnlfSettings(max_concurrent_notifications=64)
    processor = EventsSubscriptionProcessor(settings, FindingsState(timedelta(minutes=5), 1000),
                                            SubscriptionStore(None, LAYOUT), client, None, AnlfMetrics())
    await processor.start()
    body = {"eventSubscriptions": [{"event": "ABNORMAL_BEHAVIOUR", "exptAnaType": "COMMUN", "tgtUe": {"anyUe": True},
                                    "notificationMethod": "PERIODIC", "repetitionPeriod": 1}],
            "notificationURI": "http://consumer.example/cb", "evtReq": {"maxReportNbr": REPORTS}}
    anchors = {}
    for _ in range(SUBSCRIPTIONS):
        sub, _ = await processor.subscribe(*parsed(processor, body))
        anchors[sub.subscription_id] = sub.anchor
    try:
        await wait_until(lambda: sum(len(a) for a in arrivals.values()) >= SUBSCRIPTIONS * REPORTS,
                         timeout_s=60, message="every report")
        await wait_until(lambda: not processor.subscriptions,
                         timeout_s=60, message="every subscription to reach maxReportNbr")
    finally:
        await processor.stop()
        await client.aclose()

    assert {sid: len(times) for sid, times in arrivals.items()} == dict.fromkeys(anchors, REPORTS)
    lateness = sorted(t - (anchors[sid] + k) for sid, times in arrivals.items()
                      for k, t in enumerate(sorted(times), start=1))
    assert lateness[0] >= 0  # never early
    histogram_count = processor.metrics.registry.get_sample_value(
        "nwdaf_anlf_periodic_report_lateness_seconds_count")
    assert histogram_count == SUBSCRIPTIONS * REPORTS
    with capsys.disabled():
        print(f"\n{SUBSCRIPTIONS} subscriptions x {REPORTS} reports: arrival lateness p50="
              f"{statistics.median(lateness) * 1000:.1f} ms p99={lateness[int(len(lateness) * 0.99)] * 1000:.1f} ms "
              f"max={lateness[-1] * 1000:.1f} ms; ticks skipped={processor.scheduler.skipped}")
