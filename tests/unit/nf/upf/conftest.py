"""Fixtures for the UPF API tests: a UPF with no packet source, its SBI app in process, and a recording subscriber."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from tests.unit.nf.upf.helpers import Subscriber

from nwdaf.nf.upf.config import UpfConfig
from nwdaf.nf.upf.service import UpfService, create_upf_service
from nwdaf.nf.upf.state import DataClock
from nwdaf.platform.sbi import SbiClient, create_sbi_app


@pytest.fixture
def subscriber() -> Subscriber:
    return Subscriber()


@pytest.fixture
def make_upf(subscriber: Subscriber) -> Callable[..., UpfService]:
    def make(**config: Any) -> UpfService:
        client = SbiClient(transport=httpx.MockTransport(subscriber.handler))
        svc = create_upf_service(UpfConfig(**config), client)
        svc.ctx.clock = DataClock(live=False)  # time comes from the test's packets
        return svc

    return make


@pytest.fixture
async def upf(make_upf: Callable[..., UpfService]) -> AsyncIterator[UpfService]:
    svc = make_upf(notify_backoff_s=0.0)
    yield svc
    await svc.ctx.notifier.close_all()


@pytest.fixture
async def api(upf: UpfService) -> AsyncIterator[httpx.AsyncClient]:
    app = create_sbi_app("upf", upf.routers())
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://upf.test") as client:
        yield client
