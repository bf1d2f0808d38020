"""Fixtures of the analytics-exposure integration tests: real loopback servers, a callback recorder, a fake UPF,
engine results on the in-process bus."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from fastapi import FastAPI, Request, Response

from nwdaf.platform.bus import encode
from nwdaf.platform.events import ANALYTICS_RESULT, AbnormalBehaviourResult, AnalyticsResult
from nwdaf.platform.sbi import RunningServer, start_server


class Recorder:
    """A consumer's notification endpoint: records each notification (an array item) with its arrival."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.app = FastAPI()
        self.app.post("/callback")(self.notify)

    async def notify(self, request: Request) -> Response:
        self.received.extend(orjson.loads(await request.body()))
        return Response(status_code=204)

    def count(self, subscription_id: str) -> int:
        return sum(1 for n in self.received if n["subscriptionId"] == subscription_id)


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[Recorder, RunningServer]]:
    rec = Recorder()
    server = await start_server(rec.app, "127.0.0.1", 0, name="recorder")
    yield rec, server
    await server.stop()


class FakeUpf:
    """The UPF's N4-like session API (the contract the SMF's client codes against)."""

    def __init__(self) -> None:
        self.sessions: dict[int, dict[str, Any]] = {}
        self.deleted: list[int] = []
        self.app = FastAPI()
        self.app.get("/nupf-n4/v1/pdu-sessions")(self.list_sessions)
        self.app.delete("/nupf-n4/v1/pdu-sessions/{seid}")(self.release)

    def add(self, seid: int, supi: str) -> None:
        self.sessions[seid] = {"seid": seid, "supi": supi, "pduSessionId": 1, "ueIpv4Addr": f"10.45.0.{seid}",
                               "snssai": {"sst": 1}, "dnn": "internet", "state": "ACTIVE"}

    async def list_sessions(self, supi: str) -> Response:
        found = [s for s in self.sessions.values() if s["supi"] == supi]
        return Response(orjson.dumps(found), media_type="application/json")

    async def release(self, seid: int) -> Response:
        if seid not in self.sessions:
            return Response(status_code=404)
        self.sessions[seid]["state"] = "RELEASED"
        self.deleted.append(seid)
        return Response(status_code=204)


@pytest.fixture
def fake_upf() -> FakeUpf:
    return FakeUpf()


def bot_result(supi: str, confidence: int = 95) -> bytes:
    """An engine's ABNORMAL_BEHAVIOUR finding for ``supi`` in a bus envelope."""
    end = datetime.now(UTC)
    result = AnalyticsResult(
        event="ABNORMAL_BEHAVIOUR", supi=supi, ue_ip="10.45.0.2", dnn="internet", snssai={"sst": 1},
        window_start=end - timedelta(seconds=5), window_end=end, generated_at=end, model_version="test-1",
        abnormal=AbnormalBehaviourResult(excep_id="SUSPICION_OF_DDOS_ATTACK", score=0.98, confidence=confidence,
                                         ratio=80, addt_meas={"ddosAttack": {"ipv4Addrs": ["203.0.113.9"]}}),
    )
    return encode(result, type_=ANALYTICS_RESULT, source="test-engine")


@pytest.fixture
def make_bot_result() -> Callable[..., bytes]:
    return bot_result
