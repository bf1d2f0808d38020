"""Engine wiring: feature windows from the bus → engines → findings on the bus; models from MLModelProvision.

The engine subscribes to Nnwdaf_MLModelProvision (TS 29.520 clause 4.2.x) for an ABNORMAL_BEHAVIOUR model and
hot-swaps whatever the MTLF provisions (no restart, no per-model server).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from fastapi import APIRouter, Request, Response

from nwdaf.lib.ml.holder import ModelHolder
from nwdaf.nf.engines.abnormal_behaviour import AbnormalBehaviourEngine
from nwdaf.nf.engines.base import AnalyticsEngine, run_engine_on_message
from nwdaf.nf.engines.config import EngineSettings
from nwdaf.nf.engines.ue_communication import UeCommunicationEngine
from nwdaf.platform.bus import Message, Subscription, topics
from nwdaf.platform.nf import ServiceContext
from nwdaf.platform.sbi import SbiCallError
from nwdaf.platform.sbi.body import json_body

log = logging.getLogger("nwdaf.anlf.engines")

CALLBACK_ROOT = "/nnwdaf-anlf-callbacks/v1"
PROVISION_API = "/nnwdaf-mlmodelprovision/v1/subscriptions"


@dataclass
class HolderScorer:
    """The engines' view of the provisioned model."""

    holder: ModelHolder

    @property
    def version(self) -> str | None:
        current = self.holder.current
        return current.version if current is not None else None

    def score(self, features: pl.DataFrame) -> np.ndarray[Any, Any]:
        return self.holder.score(features)


@dataclass
class EngineService:
    """Runs every engine on each closed feature window as it arrives."""

    ctx: ServiceContext
    settings: EngineSettings
    holder: ModelHolder
    engines: list[AnalyticsEngine]
    name: str = "engines"
    windows: int = 0
    findings: int = 0
    _sub: Subscription | None = field(default=None, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    def routers(self) -> list[tuple[str, APIRouter]]:
        router = APIRouter(tags=["AnLF callbacks"])

        @router.post("/ml-model-notifications", status_code=204, summary="NwdafMLModelProvNotif from the MTLF")
        async def ml_model_notification(request: Request) -> Response:
            await self.holder.on_notification(await json_body(request))
            return Response(status_code=204)

        return [(CALLBACK_ROOT, router)]

    async def on_features(self, msg: Message) -> None:
        self.windows += 1
        for engine in self.engines:
            self.findings += await run_engine_on_message(engine, self.ctx.bus, msg)

    async def start(self) -> None:
        self._sub = await self.ctx.bus.subscribe([topics.UE_FEATURES], "nwdaf-engines", self.on_features)
        self._task = asyncio.get_running_loop().create_task(self._subscribe_for_model(), name="mlmodel-subscribe")

    async def _subscribe_for_model(self) -> None:
        root = (self.settings.mtlf_api_root or self.ctx.base_urls.get("nwdaf", "")).rstrip("/")
        body = {
            "mLEventSubscs": [{"mLEvent": "ABNORMAL_BEHAVIOUR",
                               "mLEventFilter": {"excepIds": self.settings.model_exception_ids}}],
            "notifUri": self.ctx.base_urls["nwdaf"] + CALLBACK_ROOT + "/ml-model-notifications",
        }
        while True:
            try:
                resp = await self.ctx.client.post(root + PROVISION_API, json=body)
                if resp.status_code == 201:
                    log.info("subscribed to ML model provisioning at %s (%s)", root, resp.headers.get("location"))
                    return
                log.warning("ML model provisioning answered %d: %s", resp.status_code, resp.text[:200])
            except SbiCallError as exc:
                log.warning("ML model provisioning unreachable: %s", exc)
            await asyncio.sleep(self.settings.subscribe_retry_s)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._sub is not None:
            await self._sub.stop()


def build_engines(ctx: ServiceContext, settings: EngineSettings) -> EngineService:
    holder = ModelHolder(ctx.client)
    engines: list[AnalyticsEngine] = [
        AbnormalBehaviourEngine(settings.abnormal_behaviour, HolderScorer(holder)),
        UeCommunicationEngine(),
    ]
    return EngineService(ctx, settings, holder, engines)
