"""The one way in for request bodies: 415 for non-JSON, 400 for malformed JSON, and schema or model violations as
a 400 whose invalidParams are JSON pointers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from nwdaf.platform.sbi import PROBLEM_JSON, ProblemError, create_sbi_app
from nwdaf.platform.sbi.body import parse_model, parse_models, pointer, read_model, read_models

pytestmark = pytest.mark.unit


class Item(BaseModel):
    name: str
    count: int = Field(ge=1)


class Order(BaseModel):
    orderId: str
    items: list[Item]


class FakeYaml:
    """A 3GPP YAML validator that reports fixed violations of one schema."""

    def __init__(self, *errors: tuple[str, str]) -> None:
        self.errors_found = list(errors)
        self.seen: list[tuple[Any, str]] = []

    def errors(self, instance: Any, ref: str) -> Sequence[tuple[str, str]]:
        self.seen.append((instance, ref))
        return self.errors_found


def _params(exc: pytest.ExceptionInfo[ProblemError]) -> list[str]:
    return [p.param for p in exc.value.invalid_params]


def test_a_valid_document_becomes_the_model() -> None:
    order = parse_model({"orderId": "o1", "items": [{"name": "a", "count": 2}]}, Order)
    assert order == Order(orderId="o1", items=[Item(name="a", count=2)])


def test_model_violations_are_400_with_json_pointers() -> None:
    with pytest.raises(ProblemError) as exc:
        parse_model({"items": [{"name": "a", "count": 0}, {"name": 7, "count": 1}]}, Order)
    assert (exc.value.status, exc.value.cause) == (400, "MANDATORY_IE_INCORRECT")
    assert _params(exc) == ["/orderId", "/items/0/count", "/items/1/name"]
    assert "greater than or equal to 1" in (exc.value.invalid_params[1].reason or "")
    assert (exc.value.detail or "").startswith("Order is invalid: /orderId: Field required")


def test_json_types_are_strict() -> None:
    with pytest.raises(ProblemError) as exc:
        parse_model({"orderId": "o1", "items": [{"name": "a", "count": "2"}]}, Order)
    assert _params(exc) == ["/items/0/count"]


def test_pointers_are_below_the_given_place_and_escaped() -> None:
    with pytest.raises(ProblemError) as exc:
        parse_model({"orderId": "o1", "items": [{"name": "a"}]}, Order, at="filter", cause="INVALID_QUERY_PARAM")
    assert (_params(exc), exc.value.cause) == (["filter/items/0/count"], "INVALID_QUERY_PARAM")
    assert pointer(("a/b", "c~d", 0)) == "/a~1b/c~0d/0"
    assert pointer(()) == "/"


def test_not_an_object_is_invalid_msg_format() -> None:
    with pytest.raises(ProblemError) as exc:
        parse_model([1, 2], Order)
    assert (exc.value.status, exc.value.cause, _params(exc)) == (400, "INVALID_MSG_FORMAT", ["/"])


def test_yaml_violations_come_first_and_are_capped() -> None:
    yaml = FakeYaml(*((f"/items/{i}/name", "not a string") for i in range(60)))
    with pytest.raises(ProblemError) as exc:
        parse_model({"orderId": "o1", "items": []}, Order, validator=yaml, schema="TS_X.yaml#/Order")
    assert yaml.seen == [({"orderId": "o1", "items": []}, "TS_X.yaml#/Order")]
    assert (exc.value.status, exc.value.cause) == (400, "MANDATORY_IE_INCORRECT")
    assert len(exc.value.invalid_params) == 50
    assert _params(exc)[0] == "/items/0/name"
    assert (exc.value.detail or "").startswith("60 violation(s) of Order")
    parse_model({"orderId": "o1", "items": []}, Order, validator=FakeYaml(), schema="TS_X.yaml#/Order")


def test_arrays_point_into_their_items() -> None:
    with pytest.raises(ProblemError) as exc:
        parse_models([{"name": "a", "count": 1}, {"name": "b"}], Item)
    assert _params(exc) == ["/1/count"]
    for empty in ([], {"name": "a", "count": 1}, "x"):
        with pytest.raises(ProblemError) as exc:
            parse_models(empty, Item)
        assert (exc.value.cause, _params(exc)) == ("INVALID_MSG_FORMAT", ["/"])
    assert parse_models({"name": "a", "count": 1}, Item, single=True) == [Item(name="a", count=1)]
    with pytest.raises(ProblemError) as exc:
        parse_models({"name": "a"}, Item, single=True)
    assert _params(exc) == ["/count"]


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    router = APIRouter()

    @router.post("/orders", status_code=201)
    async def create(request: Request) -> dict[str, Any]:
        return (await read_model(request, Order)).model_dump()

    @router.patch("/items")
    async def patch(request: Request) -> list[dict[str, Any]]:
        return [i.model_dump() for i in await read_models(request, Item, media_type="application/merge-patch+json")]

    app = create_sbi_app("test-nf", [("/ntest/v1", router)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://nf") as c:
        yield c


async def _problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = resp.json()
    assert body["status"] == status
    return body


async def test_a_request_body_is_read_into_the_model(client: httpx.AsyncClient) -> None:
    resp = await client.post("/ntest/v1/orders", json={"orderId": "o1", "items": []})
    assert resp.status_code == 201
    assert resp.json() == {"orderId": "o1", "items": []}
    vendor = await client.post("/ntest/v1/orders", content=b'{"orderId": "o1", "items": []}',
                               headers={"content-type": "application/vnd.example+json; charset=utf-8"})
    assert vendor.status_code == 201


async def test_a_body_that_is_not_json_is_415(client: httpx.AsyncClient) -> None:
    body = await _problem(await client.post("/ntest/v1/orders", content=b"orderId=o1",
                                            headers={"content-type": "application/x-www-form-urlencoded"}), 415)
    assert body["cause"] == "UNSUPPORTED_MEDIA_TYPE"
    exact = await client.patch("/ntest/v1/items", json=[{"name": "a", "count": 1}])
    assert "application/merge-patch+json" in (await _problem(exact, 415))["detail"]


async def test_malformed_json_is_400_invalid_msg_format(client: httpx.AsyncClient) -> None:
    body = await _problem(await client.post("/ntest/v1/orders", content=b'{"orderId": ',
                                            headers={"content-type": "application/json"}), 400)
    assert body["cause"] == "INVALID_MSG_FORMAT"
    assert [p["param"] for p in body["invalidParams"]] == ["/"]


async def test_a_schema_error_is_400_naming_each_attribute(client: httpx.AsyncClient) -> None:
    body = await _problem(await client.post("/ntest/v1/orders", json={"orderId": 1, "items": [{"count": 0}]}), 400)
    assert body["cause"] == "MANDATORY_IE_INCORRECT"
    assert [p["param"] for p in body["invalidParams"]] == ["/orderId", "/items/0/name", "/items/0/count"]
    patch = await client.patch("/ntest/v1/items", json=[{"name": "a", "count": 1}, {"name": "b", "count": 0}],
                               headers={"content-type": "application/merge-patch+json"})
    assert [p["param"] for p in (await _problem(patch, 400))["invalidParams"]] == ["/1/count"]
