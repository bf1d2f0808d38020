"""ModelHolder: checksum checks before loading, atomic swap, clear errors (a real in-process HTTP peer)."""

from __future__ import annotations

import base64
import hashlib

import httpx
import numpy as np
import polars as pl
import pytest
from fastapi import FastAPI, Response
from tests.support.mtlf_data import labelled_flows

from nwdaf.lib.features import graph_features, host_window_features
from nwdaf.lib.ml.bundle import BundleError
from nwdaf.lib.ml.holder import ModelHolder, ModelUnavailableError
from nwdaf.nf.mtlf.train import TrainResult
from nwdaf.platform.sbi import SbiClient

pytestmark = pytest.mark.unit


def artifact_server(data: bytes, digest_of: bytes) -> FastAPI:
    app = FastAPI()

    @app.get("/model")
    async def model() -> Response:
        digest = base64.b64encode(hashlib.sha256(digest_of).digest()).decode()
        return Response(data, media_type="application/octet-stream",
                        headers={"Repr-Digest": f"sha-256=:{digest}:", "x-nwdaf-model-version": "7",
                                 "x-nwdaf-model-name": "m"})

    return app


def holder_for(app: FastAPI) -> ModelHolder:
    return ModelHolder(SbiClient(transport=httpx.ASGITransport(app=app)))


def features() -> pl.DataFrame:
    flows = labelled_flows(seed=4, windows=2)
    return host_window_features(flows, 60.0).join(graph_features(flows, 60.0), on=["window_start", "host"])


async def test_loads_verified_model_and_scores(trained: TrainResult) -> None:
    data = trained.bundle_path.read_bytes()
    holder = holder_for(artifact_server(data, data))
    with pytest.raises(ModelUnavailableError):
        holder.score(features())
    loaded = await holder.load_url(f"http://mtlf.test/model?sha256={trained.sha256}")
    assert (loaded.name, loaded.version, loaded.sha256) == ("m", "7", trained.sha256)
    proba = holder.score(features())
    assert proba.shape == (features().height,)
    assert np.all((proba >= 0) & (proba <= 1))
    with pytest.raises(BundleError, match="lacks column"):
        holder.score(features().drop("betweenness"))


async def test_wrong_checksum_or_digest_is_refused_and_keeps_the_current_model(trained: TrainResult) -> None:
    data = trained.bundle_path.read_bytes()
    good = holder_for(artifact_server(data, data))
    await good.load_url(f"http://mtlf.test/model?sha256={trained.sha256}")
    before = good.current
    with pytest.raises(BundleError, match="does not match the expected"):
        await good.load_url(f"http://mtlf.test/model?sha256={'0' * 64}")
    assert good.current is before
    assert good.swaps == 1
    corrupted = holder_for(artifact_server(data, b"something else"))
    with pytest.raises(BundleError, match="Repr-Digest"):
        await corrupted.load_url(f"http://mtlf.test/model?sha256={trained.sha256}")
    assert corrupted.current is None


async def test_notification_for_another_event_is_ignored(trained: TrainResult) -> None:
    holder = holder_for(artifact_server(b"", b""))
    body = [{"subscriptionId": "s1", "eventNotifs": [
        {"event": "UE_COMMUNICATION", "mLFileAddr": {"mLModelUrl": "http://mtlf.test/model"}}]}]
    assert await holder.on_notification(body) is None
    assert holder.current is None
