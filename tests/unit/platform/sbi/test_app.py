"""The SBI app factory: ProblemDetails on every error, request IDs, /metrics."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel, Field

from nwdaf.platform.sbi import PROBLEM_JSON, InvalidParam, ProblemError, create_sbi_app

pytestmark = pytest.mark.unit


class Body(BaseModel):
    name: str
    period: int = Field(ge=1)


def _app() -> object:
    router = APIRouter()

    @router.post("/things", status_code=201)
    async def create(body: Body) -> dict[str, object]:
        if body.name == "taken":
            raise ProblemError(409, "Conflict", "name taken", "RESOURCE_EXISTS", [InvalidParam("/name", "taken")])
        return {"name": body.name, "period": body.period}

    @router.put("/things/{thingId}", status_code=204)
    async def replace(thingId: str) -> None:
        return None

    @router.delete("/things/{thingId}", status_code=204)
    async def delete(thingId: str) -> None:
        return None

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaput")

    return create_sbi_app("test-nf", [("/ntest/v1", router)])


@pytest.fixture
async def client() -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=_app(), raise_app_exceptions=False)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://nf") as c:
        yield c  # type: ignore[misc]


async def test_valid_request_is_served(client: httpx.AsyncClient) -> None:
    resp = await client.post("/ntest/v1/things", json={"name": "a", "period": 2})
    assert resp.status_code == 201
    assert resp.json() == {"name": "a", "period": 2}
    assert resp.headers["x-request-id"]


async def test_malformed_json_is_400_problem_details(client: httpx.AsyncClient) -> None:
    resp = await client.post(
        "/ntest/v1/things", content=b'{"name": "a",', headers={"content-type": "application/json"}
    )
    assert resp.status_code == 400
    assert resp.headers["content-type"] == PROBLEM_JSON
    body = resp.json()
    assert body["status"] == 400
    assert body["cause"] == "INVALID_MSG_FORMAT"
    assert body["invalidParams"]


async def test_invalid_field_names_the_param(client: httpx.AsyncClient) -> None:
    resp = await client.post("/ntest/v1/things", json={"name": "a", "period": 0})
    assert resp.status_code == 400
    body = resp.json()
    assert body["cause"] == "MANDATORY_IE_INCORRECT"
    assert [p["param"] for p in body["invalidParams"]] == ["/period"]
    assert "greater than or equal to 1" in body["invalidParams"][0]["reason"]


async def test_missing_field_is_reported(client: httpx.AsyncClient) -> None:
    resp = await client.post("/ntest/v1/things", json={"period": 3})
    assert resp.status_code == 400
    assert {p["param"] for p in resp.json()["invalidParams"]} == {"/name"}


async def test_procedure_error_becomes_problem(client: httpx.AsyncClient) -> None:
    resp = await client.post("/ntest/v1/things", json={"name": "taken", "period": 1})
    assert resp.status_code == 409
    assert resp.headers["content-type"] == PROBLEM_JSON
    assert resp.json() == {
        "status": 409, "title": "Conflict", "detail": "name taken", "cause": "RESOURCE_EXISTS",
        "instance": "/ntest/v1/things", "invalidParams": [{"param": "/name", "reason": "taken"}],
    }


async def test_unknown_route_and_method_are_problems(client: httpx.AsyncClient) -> None:
    resp = await client.get("/ntest/v1/nothing")
    assert resp.status_code == 404
    assert resp.headers["content-type"] == PROBLEM_JSON
    resp = await client.delete("/ntest/v1/things")
    assert resp.status_code == 405
    assert resp.json()["status"] == 405


async def test_method_not_allowed_lists_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    # Two routes serve /things/{thingId}: Allow names both (RFC 9110 clause 15.5.6), not only the first route's.
    for method in ("GET", "POST", "PATCH"):
        resp = await client.request(method, "/ntest/v1/things/t1")
        assert resp.status_code == 405, method
        assert resp.headers["content-type"] == PROBLEM_JSON
        assert resp.json()["status"] == 405
        assert resp.headers["allow"] == "DELETE, PUT"
    assert (await client.delete("/ntest/v1/things")).headers["allow"] == "POST"
    assert (await client.put("/ntest/v1/things/t1")).status_code == 204


async def test_unexpected_error_is_500_problem(client: httpx.AsyncClient) -> None:
    resp = await client.get("/ntest/v1/boom")
    assert resp.status_code == 500
    assert resp.json()["cause"] == "SYSTEM_FAILURE"


async def test_request_id_is_propagated(client: httpx.AsyncClient) -> None:
    resp = await client.post("/ntest/v1/things", json={"name": "a", "period": 1}, headers={"x-request-id": "abc"})
    assert resp.headers["x-request-id"] == "abc"


async def test_metrics_count_requests(client: httpx.AsyncClient) -> None:
    await client.post("/ntest/v1/things", json={"name": "a", "period": 1})
    await client.post("/ntest/v1/things", json={"name": "a", "period": 0})
    text = (await client.get("/metrics")).text
    assert 'sbi_requests_total{method="POST",nf="test-nf",route="/ntest/v1/things",status="201"} 1.0' in text
    assert 'route="/ntest/v1/things",status="400"} 1.0' in text
