"""Engine wiring: feature windows from the bus → engines → findings on the bus; models from MLModelProvision.

The engines subscribe to Nnwdaf_MLModelProvision (:mod:`nwdaf.nf.engines.consumer.nnwdaf_ml_model_provision`) for
an ABNORMAL_BEHAVIOUR model and hot-swap whatever the MTLF notifies to their callback
(:mod:`nwdaf.nf.engines.api.ml_model_provision`): no restart, no per-model server.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from fastapi import APIRouter

from nwdaf.lib.ml.holder import ModelHolder
from nwdaf.nf.engines.abnormal_behaviour import AbnormalBehaviourEngine
from nwdaf.nf.engines.api import ml_model_provision
from nwdaf.nf.engines.base import AnalyticsEngine, run_engine_on_message
from nwdaf.nf.engines.config import EngineSettings
from nwdaf.nf.engines.consumer.nnwdaf_ml_model_provision import MLModelProvisionSubscriber
from nwdaf.nf.engines.ue_communication import UeCommunicationEngine
from nwdaf.platform.bus import Message, Subscription, topics
from nwdaf.platform.nf import ServiceContext


@dataclass
class HolderScorer:
    """The engines' view of the provisioned model."""

    holder: ModelHolder

    @property
    def version(self) -> str | None:
        current = self.holder.current
        return current.version if current is not None else None

    @property
    def threshold(self) -> float:
        current = self.holder.current
        return current.meta.threshold if current is not None else 1.0

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
        return [(ml_model_provision.API_ROOT, ml_model_provision.create_router(self.holder))]

    async def on_features(self, msg: Message) -> None:
        self.windows += 1
        for engine in self.engines:
            self.findings += await run_engine_on_message(engine, self.ctx.bus, msg)

    async def start(self) -> None:
        self._sub = await self.ctx.bus.subscribe([topics.UE_FEATURES], "nwdaf-engines", self.on_features)
        subscriber = MLModelProvisionSubscriber(
            self.ctx.client, self.settings.mtlf_api_root or self.ctx.base_urls.get("nwdaf", ""),
            self.ctx.base_urls["nwdaf"] + ml_model_provision.API_ROOT + ml_model_provision.NOTIFICATIONS_PATH,
            self.settings.model_exception_ids, self.settings.subscribe_retry_s)
        self._task = asyncio.get_running_loop().create_task(subscriber.run(), name="mlmodel-subscribe")

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
