"""A promotion or rollback made in the registry while the MTLF runs — by ``nwdaf ml promote|rollback``, not the
admin API — is picked up by the MTLF's registry watcher (``poll_s``) and notified to a subscribed engine, which
downloads the model via ``mLModelUrl`` and swaps it in.

Runs against an embedded SQLite registry and a real MLflow tracking server (``tracking`` fixture param).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.support.mlflow_server import TrackingBackend as Tracking
from tests.support.mtlf_data import labelled_flows
from tests.support.polling import wait_until
from typer.testing import CliRunner

from nwdaf.app.cli import app
from nwdaf.app.config import MlSettings, Settings
from nwdaf.lib.ml.holder import ModelHolder
from nwdaf.nf.engines.api import ml_model_provision
from nwdaf.nf.mtlf.config import MtlfConfig
from nwdaf.nf.mtlf.service import MtlfService, build_mtlf
from nwdaf.nf.mtlf.train import TrainResult, train
from nwdaf.nf.mtlf.train.config import TrainConfig
from nwdaf.platform.bus import create_bus
from nwdaf.platform.nf import ServiceContext
from nwdaf.platform.sbi import RunningServer, SbiClient, create_sbi_app, start_server

pytestmark = pytest.mark.integration

PROVISION = "/nnwdaf-mlmodelprovision/v1"
POLL_S = 0.2
WAIT_S = 60.0  # a bound on waiting for the notification, not a latency requirement


@dataclass
class Running:
    service: MtlfService
    server: RunningServer
    client: SbiClient


@pytest.fixture
async def mtlf(tracking: Tracking, tmp_path: Path) -> AsyncIterator[Running]:
    settings = Settings(data_dir=tmp_path / "mtlf",
                        ml=MlSettings(tracking_uri=tracking.uri, artifact_root=tracking.artifact_root))
    client = SbiClient()
    ctx = ServiceContext(settings, create_bus("memory://"), client, None)
    service = build_mtlf(ctx, MtlfConfig.from_settings(settings, poll_s=POLL_S))
    server = await start_server(create_sbi_app("nwdaf", service.routers()), "127.0.0.1", 0, name="mtlf")
    ctx.base_urls["nwdaf"] = server.url
    await service.start()
    yield Running(service, server, client)
    await service.stop()
    await server.stop()
    await client.aclose()


@pytest.fixture
async def holder() -> AsyncIterator[tuple[ModelHolder, str]]:
    client = SbiClient()
    model_holder = ModelHolder(client)
    router = ml_model_provision.create_router(model_holder)
    server = await start_server(create_sbi_app("engine", [(ml_model_provision.API_ROOT, router)]), "127.0.0.1", 0,
                                name="engine")
    yield model_holder, f"{server.url}{ml_model_provision.API_ROOT}{ml_model_provision.NOTIFICATIONS_PATH}"
    await server.stop()
    await client.aclose()


def train_versions(tracking: Tracking, tmp: Path, name: str, dnn: str) -> list[TrainResult]:
    flows = labelled_flows(seed=31)
    return [
        train(TrainConfig(flows=flows, candidates=["logistic_regression"], samplers=["undersample"], n_splits=3,
                          seed=seed, progress=False, model_name=name, dnns=[dnn], alias="none",
                          report_dir=tmp / "reports", tracking_uri=tracking.uri,
                          artifact_root=tracking.artifact_root))
        for seed in (0, 1)
    ]


async def cli(tracking: Tracking, tmp: Path, *args: str) -> str:
    """``nwdaf ml ARGS`` as a user runs it next to the MTLF (its own process in real life; a thread here)."""
    env = {"NWDAF_DATA_DIR": str(tmp / "cli"), "NWDAF_ML__TRACKING_URI": tracking.uri,
           "NWDAF_ML__ARTIFACT_ROOT": tracking.artifact_root}
    result = await asyncio.to_thread(CliRunner().invoke, app, ["ml", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


async def provisioned(model_holder: ModelHolder, expected: TrainResult, swaps: int) -> None:
    await wait_until(lambda: model_holder.swaps >= swaps, timeout_s=WAIT_S, interval_s=POLL_S / 2,
                     message=f"the notification of v{expected.version} (the registry is polled every {POLL_S} s)")
    current = model_holder.current
    assert current is not None
    assert (current.version, current.sha256) == (expected.version, expected.sha256)


async def test_cli_promotion_is_polled_and_notified(
    tracking: Tracking, mtlf: Running, holder: tuple[ModelHolder, str], tmp_path: Path
) -> None:
    name, dnn = f"nwdaf-ab-poll-{uuid.uuid4().hex[:8]}", f"poll-{uuid.uuid4().hex[:8]}"
    v1, v2 = await asyncio.to_thread(train_versions, tracking, tmp_path, name, dnn)
    model_holder, notify_uri = holder
    subscription = {"mLEventSubscs": [{"mLEvent": "ABNORMAL_BEHAVIOUR",
                                       "mLEventFilter": {"excepIds": ["SUSPICION_OF_DDOS_ATTACK"], "dnns": [dnn]}}],
                    "notifUri": notify_uri}
    async with httpx.AsyncClient(base_url=mtlf.server.url, timeout=30) as http:
        created = await http.post(f"{PROVISION}/subscriptions", json=subscription)
    assert created.status_code == 201
    assert created.json()["failEventReports"][0]["failureCode"] == "UNAVAILABLE_ML_MODEL"
    checks = mtlf.service.provision.stats.checks

    assert f"champion is now v{v1.version}" in await cli(tracking, tmp_path, "promote", name, "1")
    await provisioned(model_holder, v1, swaps=1)
    assert mtlf.service.provision.stats.checks > checks, "the watcher's check found it, no admin call was made"

    await cli(tracking, tmp_path, "promote", name, "2")
    await provisioned(model_holder, v2, swaps=2)
    assert "champion is now v1" in await cli(tracking, tmp_path, "rollback", name)
    await provisioned(model_holder, v1, swaps=3)
    # The consumer swaps its model while it answers the notification; the MTLF counts the delivery when that answer
    # reaches it, a moment later.
    await wait_until(lambda: mtlf.service.provision.stats.delivered >= 3, message="the third delivery counted")
    assert mtlf.service.provision.stats.delivered == 3
    assert mtlf.service.provision.stats.failed == 0
