"""Fixtures of the analytics-exposure unit tests: engine results, a capturing consumer, a processor."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from nwdaf.nf.anlf.config import AnlfSettings
from nwdaf.nf.anlf.metrics import AnlfMetrics
from nwdaf.nf.anlf.processor import EventsSubscriptionProcessor
from nwdaf.nf.anlf.state import FindingsState, Watermark
from nwdaf.nf.anlf.store import LAYOUT
from nwdaf.platform.events import AbnormalBehaviourResult, AnalyticsResult, UeCommunicationResult
from nwdaf.platform.models.openapi import OpenApiUnavailable, SpecValidator
from nwdaf.platform.sbi import SbiClient
from nwdaf.platform.store import SubscriptionStore

BOT = "imsi-001010000000001"
OTHER = "imsi-001010000000002"

ResultFactory = Callable[..., AnalyticsResult]


def _result(supi: str = BOT, *, excep: str = "SUSPICION_OF_DDOS_ATTACK", confidence: int = 90,
            level: int | None = None, ended_s_ago: float = 0.0, event: str = "ABNORMAL_BEHAVIOUR",
            dnn: str | None = "internet", window_s: float = 5.0) -> AnalyticsResult:
    end = datetime.now(UTC) - timedelta(seconds=ended_s_ago)
    abnormal = ue_comm = None
    if event == "ABNORMAL_BEHAVIOUR":
        abnormal = AbnormalBehaviourResult(excep_id=excep, score=0.97, confidence=confidence, excep_level=level,
                                           ratio=35, addt_meas={"ddosAttack": {"ipv4Addrs": ["198.51.100.7"]}})
    else:
        ue_comm = UeCommunicationResult(comm_dur_s=5, ul_volume_bytes=1200, dl_volume_bytes=3400, peers=2)
    return AnalyticsResult(event=event, supi=supi, snssai={"sst": 1, "sd": "000001"}, dnn=dnn,
                           window_start=end - timedelta(seconds=window_s), window_end=end, generated_at=end,
                           abnormal=abnormal, ue_comm=ue_comm)


@pytest.fixture
def make_result() -> ResultFactory:
    return _result


class Consumer:
    """An NF consumer behind ``httpx.MockTransport``: records every notification, answers ``status``."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[dict[str, Any]]]] = []
        self.status: dict[str, int] = {}
        """Per-host status to answer (default 204)."""

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.received.append((str(request.url), json.loads(request.content)))
        return httpx.Response(self.status.get(request.url.host, 204))

    def for_subscription(self, subscription_id: str) -> list[dict[str, Any]]:
        return [n for _, body in self.received for n in body if n["subscriptionId"] == subscription_id]


@pytest.fixture
def consumer() -> Consumer:
    return Consumer()


@pytest.fixture(scope="session")
def validator() -> SpecValidator | None:
    try:
        return SpecValidator()
    except OpenApiUnavailable:
        return None


@pytest.fixture
def settings() -> AnlfSettings:
    # detection_group_s=0: a report on detection leaves once the test yields, so tests choose the grouping by
    # when they yield (and test grouping over time with evtReq.grpRepTime).
    return AnlfSettings(notify_backoff_s=0.001, progress_flush_s=0.05, failures_before_termination=2,
                        notify_attempts=2, detection_group_s=0.0)


@pytest.fixture
async def processor(settings: AnlfSettings, consumer: Consumer,
                    validator: SpecValidator | None) -> AsyncIterator[EventsSubscriptionProcessor]:
    client = SbiClient(transport=httpx.MockTransport(consumer.handler))
    mark = Watermark()  # wired as build_anlf wires it: findings and freshness on one data clock
    proc = EventsSubscriptionProcessor(settings, FindingsState(timedelta(seconds=settings.finding_ttl_s), 10_000,
                                                               mark.now_utc),
                                       SubscriptionStore(None, LAYOUT), client, validator, AnlfMetrics(),
                                       watermark=mark)
    await proc.start()
    yield proc
    await proc.stop()
    await client.aclose()


def abnormal_subscription(method: str = "THRESHOLD", **extra: Any) -> dict[str, Any]:
    """The SMF's ABNORMAL_BEHAVIOUR subscription as TS 29.520 spells it (``excepRequs``, ``tgtUe``)."""
    event: dict[str, Any] = {"event": "ABNORMAL_BEHAVIOUR", "excepRequs": [{"excepId": "SUSPICION_OF_DDOS_ATTACK"}],
                             "notificationMethod": method, "tgtUe": {"anyUe": True}}
    if method == "PERIODIC":
        event["repetitionPeriod"] = 1
    event.update(extra.pop("event", {}))
    return {"eventSubscriptions": [event], "notificationURI": "http://smf.example/cb", "notifCorrId": "corr-1",
            **extra}


@pytest.fixture
def subscription_body() -> Callable[..., dict[str, Any]]:
    return abnormal_subscription
