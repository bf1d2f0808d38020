"""Request IDs in logs: a line logged while a request is handled carries that request's ID."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from fastapi import APIRouter

from nwdaf.platform.logs import JsonFormatter
from nwdaf.platform.sbi import create_sbi_app
from nwdaf.platform.sbi.observability import RequestIdFilter

pytestmark = pytest.mark.unit

HANDLER_LOG = "nwdaf.test-nf.handler"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Records of the ``nwdaf`` loggers, through the filter ``nwdaf.platform.logs.configure_logging`` installs.

    The capture handler is attached to ``nwdaf`` itself, not to the root logger where caplog listens by default:
    ``configure_logging`` (run by other tests in the same process) stops ``nwdaf`` propagating to the root.
    """
    nwdaf_log = logging.getLogger("nwdaf")
    request_filter = RequestIdFilter()
    caplog.handler.addFilter(request_filter)
    nwdaf_log.addHandler(caplog.handler)
    propagate, nwdaf_log.propagate = nwdaf_log.propagate, False  # each record once
    caplog.set_level(logging.INFO, logger="nwdaf")
    try:
        yield caplog
    finally:
        nwdaf_log.propagate = propagate
        nwdaf_log.removeHandler(caplog.handler)
        caplog.handler.removeFilter(request_filter)


def _app() -> object:
    log = logging.getLogger(HANDLER_LOG)
    router = APIRouter()

    @router.get("/async")
    async def async_route() -> dict[str, str]:
        log.info("handling async")
        return {}

    @router.get("/sync")
    def sync_route() -> dict[str, str]:  # run in a worker thread: the request ID must follow it there
        log.info("handling sync")
        return {}

    return create_sbi_app("test-nf", [("/ntest/v1", router)])


async def _get(path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=_app())  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://nf") as client:
        return await client.get(path, headers=headers)


@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_handler_log_line_carries_the_incoming_request_id(kind: str, logs: pytest.LogCaptureFixture) -> None:
    resp = await _get(f"/ntest/v1/{kind}", headers={"x-request-id": "req-4711"})
    assert resp.status_code == 200
    line = next(r for r in logs.records if r.name == HANDLER_LOG)
    assert line.getMessage() == f"handling {kind}"
    assert line.request_id == "req-4711"  # type: ignore[attr-defined]
    assert json.loads(JsonFormatter().format(line))["request_id"] == "req-4711"  # what json_logs writes


async def test_generated_request_id_is_in_the_log_and_the_response(logs: pytest.LogCaptureFixture) -> None:
    resp = await _get("/ntest/v1/async")
    rid = resp.headers["x-request-id"]
    assert rid not in ("", "-")
    handler_line = next(r for r in logs.records if r.name == HANDLER_LOG)
    access_line = next(r for r in logs.records if r.name == "nwdaf.test-nf.sbi")  # the middleware's line per request
    assert handler_line.request_id == rid  # type: ignore[attr-defined]
    assert access_line.request_id == rid  # type: ignore[attr-defined]
    assert "GET /ntest/v1/async -> 200" in access_line.getMessage()


async def test_lines_outside_a_request_have_no_request_id(logs: pytest.LogCaptureFixture) -> None:
    await _get("/ntest/v1/async", headers={"x-request-id": "req-1"})
    logging.getLogger(HANDLER_LOG).info("after the request")
    after = [r for r in logs.records if r.getMessage() == "after the request"]
    assert [r.request_id for r in after] == ["-"]  # type: ignore[attr-defined]
