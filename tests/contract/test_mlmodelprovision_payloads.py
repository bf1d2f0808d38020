"""Every Nnwdaf_MLModelProvision payload the MTLF sends or accepts, checked against TS29520_Nnwdaf_MLModelProvision.

The MTLF runs in-process (ASGI) over a real SQLite MLflow registry with a trained model; its notifications go
through an ``httpx.ASGITransport`` to a callback app that records them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request, Response
from tests.support.mtlf_data import labelled_flows

from nwdaf.app.config import MlSettings, Settings
from nwdaf.nf.mtlf.service import MtlfService, build_mtlf
from nwdaf.nf.mtlf.train import TrainResult, train
from nwdaf.nf.mtlf.train.config import TrainConfig
from nwdaf.platform.bus import create_bus
from nwdaf.platform.models.openapi import SpecValidator
from nwdaf.platform.nf import ServiceContext
from nwdaf.platform.sbi import SbiClient, create_sbi_app

pytestmark = pytest.mark.contract

YAML = "TS29520_Nnwdaf_MLModelProvision.yaml#/components/schemas/"
PROBLEM = "TS29571_CommonData.yaml#/components/schemas/ProblemDetails"
BASE = "http://mtlf.test/nnwdaf-mlmodelprovision/v1"
NOTIF_URI = "http://engine.test/ml-notify"


def subscription(imm_rep: bool | None = None, excep: str = "SUSPICION_OF_DDOS_ATTACK") -> dict[str, Any]:
    body: dict[str, Any] = {
        "mLEventSubscs": [{"mLEvent": "ABNORMAL_BEHAVIOUR", "mLEventFilter": {"excepIds": [excep]},
                           "tgtUe": {"anyUe": True}}],
        "notifUri": NOTIF_URI,
        "notifCorreId": "engine-1",
    }
    if imm_rep is not None:
        body["eventReq"] = {"immRep": imm_rep}
    return body


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TrainResult]:
    tmp = tmp_path_factory.mktemp("mtlf-contract")
    result = train(TrainConfig(
        flows=labelled_flows(seed=3), candidates=["logistic_regression"], samplers=["undersample"], n_splits=3,
        progress=False, report_dir=tmp / "reports", tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}",
        artifact_root=str(tmp / "artifacts"), alias="champion",
    ))
    return tmp, result


class Recorder:
    """The consumer's callback endpoint: keeps every notification body."""

    def __init__(self) -> None:
        self.bodies: list[Any] = []
        router = APIRouter()

        @router.post("/ml-notify", status_code=204)
        async def notify(request: Request) -> Response:
            self.bodies.append(await request.json())
            return Response(status_code=204)

        self.app = FastAPI()
        self.app.include_router(router)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def mtlf(
    trained: tuple[Path, TrainResult], recorder: Recorder, spec: SpecValidator, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, MtlfService]]:
    tmp, _ = trained
    settings = Settings(data_dir=tmp_path, ml=MlSettings(tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}",
                                                         artifact_root=str(tmp / "artifacts")))
    outbound = SbiClient(transport=httpx.ASGITransport(app=recorder.app))
    ctx = ServiceContext(settings, create_bus("memory://"), outbound, spec, {"nwdaf": "http://mtlf.test"})
    service = build_mtlf(ctx, settings.mtlf)
    app = create_sbi_app("nwdaf", service.routers())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mtlf.test") as client:
        yield client, service
    await service.stop()
    await outbound.aclose()


def assert_valid(spec: SpecValidator, instance: Any, ref: str) -> None:
    errors = spec.errors(instance, ref)
    assert not errors, errors


async def test_request_bodies_conform(spec: SpecValidator) -> None:
    for body in (subscription(), subscription(True), subscription(False, "WRONG_DESTINATION_ADDRESS")):
        assert_valid(spec, body, YAML + "NwdafMLModelProvSubsc")


async def test_201_with_immediate_report_carries_ml_event_notifs(
    mtlf: tuple[httpx.AsyncClient, MtlfService], spec: SpecValidator, trained: tuple[Path, TrainResult]
) -> None:
    client, service = mtlf
    resp = await client.post(f"{BASE}/subscriptions", json=subscription(True))
    assert resp.status_code == 201
    assert resp.headers["location"].startswith(f"{BASE}/subscriptions/")
    body = resp.json()
    assert_valid(spec, body, YAML + "NwdafMLModelProvSubsc")
    notif = body["mLEventNotifs"][0]
    assert notif["event"] == "ABNORMAL_BEHAVIOUR"
    assert notif["notifCorreId"] == "engine-1"
    url = notif["mLFileAddr"]["mLModelUrl"]
    assert url.endswith(f"sha256={trained[1].sha256}")
    info = notif["addModelInfo"][0]
    assert info["modelMetric"] == "ACCURACY"
    assert 0 <= info["accMLModel"] <= 100
    assert "failEventReports" not in body
    download = await client.get(url)
    assert download.status_code == 200
    assert download.content == trained[1].bundle_path.read_bytes()
    assert download.headers["repr-digest"].startswith("sha-256=:")
    await service.provision.drain()
    assert service.provision.stats.delivered == 0, "immediate report: nothing POSTed to notifUri"


async def test_notification_without_immediate_report_conforms(
    mtlf: tuple[httpx.AsyncClient, MtlfService], recorder: Recorder, spec: SpecValidator
) -> None:
    client, service = mtlf
    resp = await client.post(f"{BASE}/subscriptions", json=subscription())
    assert resp.status_code == 201
    assert "mLEventNotifs" not in resp.json()
    await service.provision.drain()
    assert len(recorder.bodies) == 1
    payload = recorder.bodies[0]
    assert isinstance(payload, list), "callback body is an array (YAML callback schema)"
    assert payload, "with at least one item"
    for item in payload:
        assert_valid(spec, item, YAML + "NwdafMLModelProvNotif")
    assert payload[0]["subscriptionId"] == resp.headers["location"].rsplit("/", 1)[1]


async def test_unavailable_model_is_reported_in_fail_event_reports(
    mtlf: tuple[httpx.AsyncClient, MtlfService], spec: SpecValidator
) -> None:
    client, _ = mtlf
    resp = await client.post(f"{BASE}/subscriptions", json=subscription(True, "UNEXPECTED_UE_LOCATION"))
    assert resp.status_code == 201
    body = resp.json()
    assert_valid(spec, body, YAML + "NwdafMLModelProvSubsc")
    assert body["failEventReports"] == [{"event": "ABNORMAL_BEHAVIOUR", "failureCode": "UNAVAILABLE_ML_MODEL"}]
    assert "mLEventNotifs" not in body


async def test_put_and_delete(mtlf: tuple[httpx.AsyncClient, MtlfService], spec: SpecValidator) -> None:
    client, _ = mtlf
    location = (await client.post(f"{BASE}/subscriptions", json=subscription(True))).headers["location"]
    updated = await client.put(location, json=subscription(True) | {"notifCorreId": "engine-2"})
    assert updated.status_code == 200
    assert_valid(spec, updated.json(), YAML + "NwdafMLModelProvSubsc")
    assert updated.json()["mLEventNotifs"][0]["notifCorreId"] == "engine-2"
    assert (await client.delete(location)).status_code == 204
    gone = await client.delete(location)
    assert gone.status_code == 404
    assert_valid(spec, gone.json(), PROBLEM)
    assert (await client.put(location, json=subscription())).status_code == 404


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"mLEventSubscs": [{"mLEvent": "ABNORMAL_BEHAVIOUR", "mLEventFilter": {}}]}, "/notifUri"),
        ({"mLEventSubscs": [], "notifUri": NOTIF_URI}, "/mLEventSubscs"),
        ({"mLEventSubscs": [{"mLEventFilter": {}}], "notifUri": NOTIF_URI}, "/mLEventSubscs/0/mLEvent"),
    ],
)
async def test_invalid_bodies_get_problem_details(
    mtlf: tuple[httpx.AsyncClient, MtlfService], spec: SpecValidator, body: dict[str, Any], param: str
) -> None:
    client, _ = mtlf
    resp = await client.post(f"{BASE}/subscriptions", json=body)
    assert resp.status_code == 400
    assert resp.headers["content-type"].startswith("application/problem+json")
    problem = resp.json()
    assert_valid(spec, problem, PROBLEM)
    assert param in [p["param"] for p in problem["invalidParams"]]
