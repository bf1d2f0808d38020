"""The ML admin API (``/nwdaf-ml-admin/v1``) is documented in the NWDAF's generated OpenAPI: every route, with a
summary, its parameters, request body and response schemas."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from nwdaf.app.config import MlSettings, Settings
from nwdaf.nf.mtlf.api.admin import API_ROOT
from nwdaf.nf.mtlf.service import MtlfService, build_mtlf
from nwdaf.platform.bus import create_bus
from nwdaf.platform.nf import ServiceContext
from nwdaf.platform.sbi import SbiClient, create_sbi_app

pytestmark = pytest.mark.unit

ADMIN_OPERATIONS = {
    ("get", "/models"), ("get", "/models/{name}/versions"), ("get", "/runs"),
    ("post", "/models/{name}/versions/{version}/challenger"), ("post", "/models/{name}/promote"),
    ("post", "/models/{name}/rollback"), ("get", "/subscriptions"), ("get", "/stats"),
}


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[MtlfService]:
    settings = Settings(data_dir=tmp_path, ml=MlSettings(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db",
                                                         artifact_root=str(tmp_path / "artifacts")))
    client = SbiClient()
    mtlf = build_mtlf(ServiceContext(settings, create_bus("memory://"), client, None), settings.mtlf)
    yield mtlf
    await mtlf.provision.store.close()
    await client.aclose()


@pytest.fixture
def app(service: MtlfService) -> FastAPI:
    return create_sbi_app("nwdaf", service.routers())


def operations(app: FastAPI) -> dict[tuple[str, str], dict[str, Any]]:
    paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
    return {(method, path.removeprefix(API_ROOT)): op for path, item in paths.items() if path.startswith(API_ROOT)
            for method, op in item.items()}


def test_openapi_documents_every_admin_route(app: FastAPI, service: MtlfService) -> None:
    documented = operations(app)
    assert set(documented) == ADMIN_OPERATIONS
    admin_router = dict(service.routers())[API_ROOT]
    served = {(m.lower(), r.path) for r in admin_router.routes if isinstance(r, APIRoute) for m in r.methods}
    assert served == ADMIN_OPERATIONS, "a route added to the router must be added here (and is then documented)"
    for key, op in documented.items():
        assert op["summary"], key
        assert op["tags"] == ["ML admin"], key
        assert "200" in op["responses"], key


def test_openapi_documents_parameters_and_bodies(app: FastAPI) -> None:
    documented = operations(app)
    path_params = {key: {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
                   for key, op in documented.items()}
    assert path_params[("post", "/models/{name}/versions/{version}/challenger")] == {"name", "version"}
    assert path_params[("post", "/models/{name}/promote")] == {"name"}
    assert path_params[("post", "/models/{name}/rollback")] == {"name"}
    runs_query = {p["name"]: p for p in documented[("get", "/runs")]["parameters"] if p["in"] == "query"}
    assert runs_query["limit"]["schema"]["default"] == 50

    schemas = app.openapi()["components"]["schemas"]
    promote = documented[("post", "/models/{name}/promote")]
    body = promote["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/PromoteRequest")
    assert schemas["PromoteRequest"]["required"] == ["version"]
    for key in (("post", "/models/{name}/promote"), ("post", "/models/{name}/rollback")):
        answer = documented[key]["responses"]["200"]["content"]["application/json"]["schema"]
        assert answer["$ref"].endswith("/TransitionResult")
    assert set(schemas["TransitionResult"]["properties"]) == {"name", "champion", "notified"}
    stats = documented[("get", "/stats")]["responses"]["200"]["content"]["application/json"]["schema"]
    assert stats["additionalProperties"]["type"] == "integer"
