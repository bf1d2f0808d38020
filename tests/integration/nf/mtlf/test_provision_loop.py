"""The ML lifecycle end to end over real HTTP: train -> register -> promote -> a subscribed engine is notified,
downloads the model via ``mLModelUrl``, scores -> rollback -> notified again -> scores with the previous version.

Runs against an embedded SQLite registry and a real MLflow tracking server (``tracking`` fixture param). The MTLF
and the engine's callback each listen on 127.0.0.1 via :func:`nwdaf.platform.sbi.start_server`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import polars as pl
import pytest
from tests.support.mlflow_server import TrackingBackend as Tracking
from tests.support.mtlf_data import labelled_flows

from nwdaf.app.config import MlSettings, Settings
from nwdaf.lib.features import graph_features, host_window_features
from nwdaf.lib.ml.holder import ModelHolder, ModelUnavailableError
from nwdaf.nf.engines.api import ml_model_provision
from nwdaf.nf.mtlf.service import MtlfService, build_mtlf
from nwdaf.nf.mtlf.train import TrainResult, train
from nwdaf.nf.mtlf.train.config import TrainConfig
from nwdaf.platform.bus import create_bus
from nwdaf.platform.models.openapi import OpenApiUnavailable, SpecValidator
from nwdaf.platform.nf import ServiceContext
from nwdaf.platform.sbi import RunningServer, SbiClient, create_sbi_app, start_server

pytestmark = pytest.mark.integration

PROVISION = "/nnwdaf-mlmodelprovision/v1"
ADMIN = "/nwdaf-ml-admin/v1"


@dataclass
class Engine:
    """An AnLF stand-in: a ModelHolder behind the engines' callback router on a real server."""

    holder: ModelHolder
    server: RunningServer

    @property
    def notify_uri(self) -> str:
        return f"{self.server.url}{ml_model_provision.API_ROOT}{ml_model_provision.NOTIFICATIONS_PATH}"


@dataclass
class Mtlf:
    service: MtlfService
    server: RunningServer
    client: SbiClient

    @property
    def url(self) -> str:
        return self.server.url


def validator() -> SpecValidator | None:
    try:
        return SpecValidator()
    except OpenApiUnavailable:
        return None


async def start_mtlf(tracking: Tracking, data_dir: Path) -> Mtlf:
    settings = Settings(data_dir=data_dir, ml=MlSettings(tracking_uri=tracking.uri,
                                                         artifact_root=tracking.artifact_root))
    client = SbiClient()
    ctx = ServiceContext(settings, create_bus("memory://"), client, validator())
    service = build_mtlf(ctx, settings.mtlf)
    server = await start_server(create_sbi_app("nwdaf", service.routers()), "127.0.0.1", 0, name="mtlf")
    ctx.base_urls["nwdaf"] = server.url
    return Mtlf(service, server, client)


async def stop_mtlf(mtlf: Mtlf) -> None:
    await mtlf.service.stop()
    await mtlf.server.stop()
    await mtlf.client.aclose()


@pytest.fixture
async def engine() -> AsyncIterator[Engine]:
    client = SbiClient()
    holder = ModelHolder(client)
    app = create_sbi_app("engine", [(ml_model_provision.API_ROOT, ml_model_provision.create_router(holder))])
    server = await start_server(app, "127.0.0.1", 0, name="engine")
    yield Engine(holder, server)
    await server.stop()
    await client.aclose()


def train_two(tracking: Tracking, tmp: Path, name: str, dnn: str) -> list[TrainResult]:
    flows = labelled_flows(seed=11)
    return [
        train(TrainConfig(
            flows=flows, candidates=[candidate], samplers=["undersample"], n_splits=3, progress=False,
            model_name=name, dnns=[dnn], alias="none", report_dir=tmp / "reports", tracking_uri=tracking.uri,
            artifact_root=tracking.artifact_root,
        ))
        for candidate in ("logistic_regression", "random_forest")
    ]


def features() -> pl.DataFrame:
    flows = labelled_flows(seed=5, windows=3)
    return host_window_features(flows, 60.0).join(graph_features(flows, 60.0), on=["window_start", "host"])


def subscription(engine: Engine, dnn: str, **extra: Any) -> dict[str, Any]:
    return {"mLEventSubscs": [{"mLEvent": "ABNORMAL_BEHAVIOUR",
                               "mLEventFilter": {"excepIds": ["SUSPICION_OF_DDOS_ATTACK"], "dnns": [dnn]}}],
            "notifUri": engine.notify_uri} | extra


async def test_promote_and_rollback_reach_the_engine(tracking: Tracking, engine: Engine, tmp_path: Path) -> None:
    name, dnn = f"nwdaf-ab-it-{uuid.uuid4().hex[:8]}", f"it-{uuid.uuid4().hex[:8]}"
    v1, v2 = train_two(tracking, tmp_path, name, dnn)
    assert (v1.version, v2.version) == ("1", "2")
    mtlf = await start_mtlf(tracking, tmp_path / "mtlf")
    try:
        async with httpx.AsyncClient(base_url=mtlf.url, timeout=30) as http:
            created = await http.post(f"{PROVISION}/subscriptions", json=subscription(engine, dnn))
            assert created.status_code == 201
            assert created.json()["failEventReports"][0]["failureCode"] == "UNAVAILABLE_ML_MODEL"
            with pytest.raises(ModelUnavailableError):
                engine.holder.score(features())

            await promote(http, name, "1", engine, v1)
            first = engine.holder.score(features())
            assert first.shape == (features().height,)
            assert np.all((first >= 0) & (first <= 1))

            await promote(http, name, "2", engine, v2)
            second = engine.holder.score(features())
            assert not np.allclose(first, second), "a different model scores differently"

            rolled = await http.post(f"{ADMIN}/models/{name}/rollback")
            assert rolled.status_code == 200
            assert rolled.json() == {"name": name, "champion": "1", "notified": 1}
            assert engine.holder.current is not None
            assert engine.holder.current.version == "1"
            assert engine.holder.current.sha256 == v1.sha256
            np.testing.assert_allclose(engine.holder.score(features()), first)
            assert engine.holder.swaps == 3, "one load per notification: promote, promote, rollback"
    finally:
        await stop_mtlf(mtlf)


async def promote(http: httpx.AsyncClient, name: str, version: str, engine: Engine, expected: TrainResult) -> None:
    resp = await http.post(f"{ADMIN}/models/{name}/promote", json={"version": version})
    assert resp.status_code == 200
    assert resp.json()["champion"] == version
    current = engine.holder.current
    assert current is not None
    assert (current.name, current.version) == (name, version)
    assert current.sha256 == expected.sha256


async def test_subscriptions_survive_a_restart_and_immediate_reports(
    tracking: Tracking, engine: Engine, tmp_path: Path
) -> None:
    name, dnn = f"nwdaf-ab-rs-{uuid.uuid4().hex[:8]}", f"rs-{uuid.uuid4().hex[:8]}"
    v1, _ = train_two(tracking, tmp_path, name, dnn)
    mtlf = await start_mtlf(tracking, tmp_path / "mtlf")
    try:
        async with httpx.AsyncClient(base_url=mtlf.url, timeout=30) as http:
            assert (await http.post(f"{PROVISION}/subscriptions", json=subscription(engine, dnn))).status_code == 201
    finally:
        await stop_mtlf(mtlf)
    restarted = await start_mtlf(tracking, tmp_path / "mtlf")
    try:
        async with httpx.AsyncClient(base_url=restarted.url, timeout=30) as http:
            await promote(http, name, "1", engine, v1)
            immediate = await http.post(f"{PROVISION}/subscriptions",
                                        json=subscription(engine, dnn, eventReq={"immRep": True}))
            url = immediate.json()["mLEventNotifs"][0]["mLFileAddr"]["mLModelUrl"]
            loaded = await ModelHolder(restarted.client).load_url(url)
            assert loaded.sha256 == v1.sha256
            assert loaded.version == "1"
            bad = await http.get(url.replace(v1.sha256, "0" * 64))
            assert bad.status_code == 404
    finally:
        await stop_mtlf(restarted)
