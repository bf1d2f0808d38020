"""Every NF's OpenAPI documents the error answers its routes really give: ProblemDetails
(``application/problem+json``) for each, 400 and 415 on routes that read a body, 404 on ``{id}`` routes, never
FastAPI's 422 (validation errors are 400). The documented statuses are then checked against live requests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from nwdaf.app.config import MlSettings, Settings
from nwdaf.nf.anlf.service import build_anlf
from nwdaf.nf.collector.service import build_collector
from nwdaf.nf.engines.service import build_engines
from nwdaf.nf.mtlf.service import MtlfService, build_mtlf
from nwdaf.nf.processor.service import build_processor
from nwdaf.nf.smf.service import build_smf
from nwdaf.nf.storage.service import build_storage
from nwdaf.nf.upf.service import build_upf
from nwdaf.platform.bus import create_bus
from nwdaf.platform.nf import NfService, ServiceContext
from nwdaf.platform.sbi import PROBLEM_JSON, SbiClient, create_sbi_app

pytestmark = pytest.mark.unit

Operation = tuple[str, str, str, dict[str, Any]]
"""(NF, method, path, OpenAPI operation)."""

PATH_VALUES = {"source": "upf-ee"}
"""Path parameters that must name something real for the route to reach its body (the Data Receiver's feed)."""


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, FastAPI]]:
    """Each NF's app as the runtime builds it: its services' routers on one ``create_sbi_app``."""
    tmp: Path = tmp_path_factory.mktemp("nfs")
    settings = Settings(data_dir=tmp, ml=MlSettings(tracking_uri=f"sqlite:///{tmp}/mlflow.db",
                                                    artifact_root=str(tmp / "artifacts")))
    client = SbiClient()
    ctx = ServiceContext(settings, create_bus("memory://"), client, None)
    services: dict[str, list[NfService]] = {
        "upf": [build_upf(ctx, settings.upf)],
        "nwdaf": [build_storage(ctx, settings.storage), build_mtlf(ctx, settings.mtlf), build_anlf(ctx, settings.anlf),
                  build_processor(ctx, settings.processor), build_engines(ctx, settings.engines),
                  build_collector(ctx, settings.collector)],
        "smf": [build_smf(ctx, settings.smf)],
    }
    yield {nf: create_sbi_app(nf, [r for s in svcs for r in s.routers()]) for nf, svcs in services.items()}
    async def close() -> None:
        for svc in services["nwdaf"]:
            if isinstance(svc, MtlfService):
                await svc.provision.store.close()
        await client.aclose()

    asyncio.run(close())


@pytest.fixture(scope="module")
def operations(apps: dict[str, FastAPI]) -> list[Operation]:
    return [(nf, method, path, op) for nf, app in apps.items() for path, item in app.openapi()["paths"].items()
            for method, op in item.items()]


def _errors(op: dict[str, Any]) -> set[int]:
    return {int(status) for status in op["responses"] if int(status) >= 400}


def _path_params(op: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in op.get("parameters", []) if p["in"] == "path"]


def test_every_nf_is_covered(operations: list[Operation]) -> None:
    assert {nf for nf, *_ in operations} == {"upf", "nwdaf", "smf"}
    bodies = {(method, path) for _, method, path, op in operations if "requestBody" in op}
    assert {("post", "/nupf-ee/v1/ee-subscriptions"), ("patch", "/nupf-ee/v1/ee-subscriptions/{subscriptionId}"),
            ("post", "/nupf-n4/v1/pdu-sessions"), ("post", "/nnwdaf-eventssubscription/v1/subscriptions"),
            ("put", "/nnwdaf-eventssubscription/v1/subscriptions/{subscriptionId}"),
            ("post", "/nnwdaf-mlmodelprovision/v1/subscriptions"),
            ("put", "/nnwdaf-mlmodelprovision/v1/subscriptions/{subscriptionId}"),
            ("post", "/nwdaf-ml-admin/v1/models/{name}/promote"),
            ("post", "/nnwdaf-datareceiver/v1/notifications/{source}"),
            ("post", "/nsmf-nwdaf-callback/v1/notifications")} <= bodies


def test_no_422_is_documented_and_errors_are_problem_details(apps: dict[str, FastAPI],
                                                            operations: list[Operation]) -> None:
    for nf, method, path, op in operations:
        assert "422" not in op["responses"], (nf, method, path)
        for status in _errors(op):
            content = op["responses"][str(status)]["content"]
            assert content == {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}, \
                (method, path, status)
    for app in apps.values():
        schemas = app.openapi()["components"]["schemas"]
        assert {"ProblemDetails", "InvalidParam"} <= schemas.keys()
        assert not {"HTTPValidationError", "ValidationError"} & schemas.keys()
        assert schemas["InvalidParam"]["required"] == ["param"]


def test_body_routes_document_400_and_415_and_their_schema(apps: dict[str, FastAPI],
                                                          operations: list[Operation]) -> None:
    for nf, method, path, op in operations:
        if "requestBody" not in op:
            assert 415 not in _errors(op), (method, path)
            continue
        assert {400, 415} <= _errors(op), (method, path)
        (media, content), = op["requestBody"]["content"].items()
        assert media.endswith("json"), (method, path)
        schema = content["schema"].get("items", content["schema"])
        ref = schema.get("$ref")
        if ref is not None:  # a model: its schema is among the components
            assert ref.removeprefix("#/components/schemas/") in apps[nf].openapi()["components"]["schemas"]
        else:  # any JSON object (the Data Receiver: the schema depends on the feed)
            assert schema == {"type": "object"}, (method, path)


def test_id_routes_document_404(operations: list[Operation]) -> None:
    for _, method, path, op in operations:
        if _path_params(op):
            assert 404 in _errors(op), (method, path)


def test_parameters_fastapi_validates_document_400(operations: list[Operation]) -> None:
    typed = {(method, path) for _, method, path, op in operations
             if any(p["schema"].get("type") == "integer" for p in op.get("parameters", []))}
    assert ("get", "/nupf-n4/v1/pdu-sessions/{seid}") in typed
    assert ("get", "/nwdaf-ml-admin/v1/runs") in typed
    for _, method, path, op in operations:
        if (method, path) in typed:
            assert 400 in _errors(op), (method, path)


def _url(op: dict[str, Any], path: str) -> str:
    for param in _path_params(op):
        value = "424242" if param["schema"].get("type") == "integer" else PATH_VALUES.get(param["name"], "no-such")
        path = path.replace("{" + param["name"] + "}", value)
    return path


async def test_documented_answers_are_the_real_ones(apps: dict[str, FastAPI], operations: list[Operation]) -> None:
    """Each body route answers a non-JSON body with 415 and malformed JSON with 400; each ``{id}`` route without a
    body answers an unknown id with a status it documents."""
    probed = 0
    for nf, method, path, op in operations:
        transport = httpx.ASGITransport(app=apps[nf])
        async with httpx.AsyncClient(transport=transport, base_url="http://nf.test") as client:
            url = _url(op, path)
            if "requestBody" in op:
                (media,) = op["requestBody"]["content"]
                wrong = await client.request(method, url, content=b"x", headers={"content-type": "text/plain"})
                assert wrong.status_code == 415, (method, path, wrong.text)
                broken = await client.request(method, url, content=b"{", headers={"content-type": media})
                assert broken.status_code == 400, (method, path, broken.text)
                assert broken.headers["content-type"] == PROBLEM_JSON
            elif _path_params(op):
                resp = await client.request(method, url)
                assert resp.status_code in _errors(op), (method, path, resp.status_code, resp.text)
                assert resp.headers["content-type"] == PROBLEM_JSON
            else:
                continue
            probed += 1
    assert probed >= 15
