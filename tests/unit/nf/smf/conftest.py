"""Fixtures of the SMF unit tests: a fake UPF (the N4-like API as a tiny FastAPI app) and a policy processor."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI, Response

from nwdaf.nf.smf.api.callbacks import parse_notifications
from nwdaf.nf.smf.audit import AuditLog
from nwdaf.nf.smf.config import SmfSettings
from nwdaf.nf.smf.consumer.upf_n4 import UpfN4Client
from nwdaf.nf.smf.processor import PolicyProcessor
from nwdaf.nf.smf.state import NwdafSubscriptionState, ReleaseRateLimiter
from nwdaf.platform.models import NnwdafEventsSubscriptionNotification
from nwdaf.platform.models.openapi import OpenApiUnavailable, SpecValidator
from nwdaf.platform.sbi import SbiClient


class FakeUpf:
    """The UPF's N4-like session API, in memory: ``sessions`` by SEID; records DELETEs."""

    def __init__(self) -> None:
        self.sessions: dict[int, dict[str, Any]] = {}
        self.deleted: list[int] = []
        self.fail_lookups = False
        self.app = FastAPI()
        self.app.get("/nupf-n4/v1/pdu-sessions")(self.list_sessions)
        self.app.delete("/nupf-n4/v1/pdu-sessions/{seid}")(self.release)

    def add(self, seid: int, supi: str, state: str = "ACTIVE") -> None:
        self.sessions[seid] = {"seid": seid, "supi": supi, "pduSessionId": 1 + seid % 15, "ueIpv4Addr": "10.45.0.2",
                               "snssai": {"sst": 1}, "dnn": "internet", "state": state}

    async def list_sessions(self, supi: str) -> Response:
        if self.fail_lookups:
            return Response(status_code=500)
        found = [s for s in self.sessions.values() if s["supi"] == supi]
        return Response(orjson.dumps(found), media_type="application/json")

    async def release(self, seid: int) -> Response:
        session = self.sessions.get(seid)
        if session is None:
            return Response(status_code=404)
        session["state"] = "RELEASED"
        self.deleted.append(seid)
        return Response(status_code=204)


@pytest.fixture
def upf() -> FakeUpf:
    return FakeUpf()


@pytest.fixture
async def upf_client(upf: FakeUpf) -> AsyncIterator[SbiClient]:
    client = SbiClient(transport=httpx.ASGITransport(app=upf.app))
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
def validator() -> SpecValidator | None:
    try:
        return SpecValidator()
    except OpenApiUnavailable:
        return None


class Policy:
    """Builds a started PolicyProcessor for given guardrail settings; :meth:`parse` reads a callback body as the
    router does."""

    def __init__(self, upf_client: SbiClient, validator: SpecValidator | None, audit_dir: Path) -> None:
        self.upf_client = upf_client
        self.validator = validator
        self.audit_dir = audit_dir
        self.built: list[PolicyProcessor] = []

    def parse(self, body: Any) -> list[NnwdafEventsSubscriptionNotification]:
        return parse_notifications(body, self.validator)

    def __call__(self, **settings: Any) -> PolicyProcessor:
        smf = SmfSettings(**settings)
        audit = AuditLog(self.audit_dir / smf.audit_file, smf.audit_memory)
        state = NwdafSubscriptionState(subscription_id="sub-1")
        processor = PolicyProcessor(smf, UpfN4Client(self.upf_client, "http://upf.example"), audit, state,
                                    ReleaseRateLimiter(smf.max_releases_per_minute))
        processor.start()
        self.built.append(processor)
        return processor


@pytest.fixture
async def policy(upf_client: SbiClient, validator: SpecValidator | None, tmp_path: Path) -> AsyncIterator[Policy]:
    factory = Policy(upf_client, validator, tmp_path)
    yield factory
    for processor in factory.built:
        await processor.stop()


def notification(*behaviours: dict[str, Any], subscription_id: str = "sub-1") -> list[dict[str, Any]]:
    """An NWDAF notification body (array of NnwdafEventsSubscriptionNotification)."""
    return [{"subscriptionId": subscription_id, "notifCorrId": "smf-1", "eventNotifications": [
        {"event": "ABNORMAL_BEHAVIOUR", "timeStampGen": "2026-01-01T00:00:00Z", "abnorBehavrs": list(behaviours)}]}]


def behaviour(supi: str, confidence: int | None = 90, excep: str = "SUSPICION_OF_DDOS_ATTACK") -> dict[str, Any]:
    item: dict[str, Any] = {"supis": [supi], "excep": {"excepId": excep}}
    if confidence is not None:
        item["confidence"] = confidence
    return item


@pytest.fixture
def make_notification() -> Any:
    return notification


@pytest.fixture
def make_behaviour() -> Any:
    return behaviour
