"""Nnwdaf_MLModelProvision procedures (TS 29.520 clause 4.5; TS 29.552 clause 5.6.2): subscribe, modify,
unsubscribe, notify; plus promotion/rollback that trigger notifications. Plain async functions on wire models;
errors are :class:`ProblemError`, only the routers know HTTP.

Subscribe outcome (from the YAML): 201 with the stored ``NwdafMLModelProvSubsc``. For each event a champion
model matches, the model address goes into ``mLEventNotifs`` when ``eventReq.immRep`` is true (the YAML allows
them only then); otherwise it is POSTed to ``notifUri`` right after the 201. Events with no matching model are
listed in ``failEventReports`` with ``UNAVAILABLE_ML_MODEL``; the subscription stays, so a later promotion of a
matching model is notified (TS 23.288 clause 6.2A.2: the MTLF notifies when a model becomes available).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from nwdaf.lib.ml.bundle import sha256_hex
from nwdaf.nf.mtlf.matching import accuracy, best_match, expired
from nwdaf.nf.mtlf.registry import ModelRegistry, ModelVersionInfo, RegistryConflictError, RegistryError
from nwdaf.nf.mtlf.store import ProvisionSubscriptions, StoredSubscription
from nwdaf.platform.models.common import to_wire_list
from nwdaf.platform.models.events_subscription import NwdafEvent
from nwdaf.platform.models.ml_provision import (
    AdditionalMLModelInformation,
    FailureCode,
    FailureEventInfoForMLModel,
    MLEventNotif,
    MLEventSubscription,
    MLModelAddr,
    MLModelMetric,
    NwdafMLModelProvNotif,
    NwdafMLModelProvSubsc,
)
from nwdaf.platform.sbi.client import SbiCallError, SbiClient
from nwdaf.platform.sbi.problem import ProblemError
from nwdaf.platform.sbi.retry import RetryPolicy, with_retries

log = logging.getLogger("nwdaf.mtlf")
API_ROOT = "/nnwdaf-mlmodelprovision/v1"
SPEC_FILE = "TS29520_Nnwdaf_MLModelProvision.yaml"
NOTIFICATION_SCHEMA = f"{SPEC_FILE}#/components/schemas/NwdafMLModelProvNotif"


@dataclass
class ProvisionStats:
    """Notifications delivered and failed (failed ones are retried on the next registry check)."""

    delivered: int = 0
    failed: int = 0
    checks: int = 0


@dataclass
class ModelProvision:
    """The NWDAF containing MTLF's provisioning procedures over the registry and the subscription store."""

    store: ProvisionSubscriptions
    registry: ModelRegistry
    client: SbiClient
    api_root: Callable[[], str]
    artifact_cache: Path
    attempts: int = 3
    backoff_s: float = 0.2
    stats: ProvisionStats = field(default_factory=ProvisionStats)
    _check_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    # --- Nnwdaf_MLModelProvision_Subscribe / Unsubscribe ------------------------------------------------

    async def subscribe(self, body: NwdafMLModelProvSubsc) -> tuple[str, NwdafMLModelProvSubsc]:
        request = body.model_copy(update={"mLEventNotifs": None, "failEventReports": None})
        sub = await self.store.create(request)
        log.info("ML model provision subscription created", extra={"subscription_id": sub.id})
        return sub.id, await self._answer(sub)

    async def update(self, sub_id: str, body: NwdafMLModelProvSubsc) -> NwdafMLModelProvSubsc:
        request = body.model_copy(update={"mLEventNotifs": None, "failEventReports": None})
        sub = await self.store.replace(sub_id, request)
        if sub is None:
            raise _not_found(sub_id)
        return await self._answer(sub)

    async def unsubscribe(self, sub_id: str) -> None:
        if not await self.store.delete(sub_id):
            raise _not_found(sub_id)

    async def get(self, sub_id: str) -> StoredSubscription:
        sub = await self.store.get(sub_id)
        if sub is None:
            raise _not_found(sub_id)
        return sub

    async def _answer(self, sub: StoredSubscription) -> NwdafMLModelProvSubsc:
        champions = await asyncio.to_thread(lambda: list(self.registry.champions().values()))
        notifs, chosen, failures = self._notifs_for(sub, champions)
        immediate = bool(sub.body.eventReq and sub.body.eventReq.immRep)
        if immediate:
            for model in chosen:
                await self.store.mark_notified(sub.id, model.name, model.version)
        elif notifs:
            self._spawn(self._notify_one(sub.id))
        return sub.body.model_copy(update={
            "mLEventNotifs": notifs if immediate and notifs else None,
            "failEventReports": failures or None,
        })

    def _notifs_for(
        self, sub: StoredSubscription, champions: list[ModelVersionInfo]
    ) -> tuple[list[MLEventNotif], list[ModelVersionInfo], list[FailureEventInfoForMLModel]]:
        notifs: list[MLEventNotif] = []
        chosen: list[ModelVersionInfo] = []
        failures: list[FailureEventInfoForMLModel] = []
        for event in sub.body.mLEventSubscs:
            if expired(event):
                continue
            found = best_match(event, champions)
            if not found:
                failures.append(FailureEventInfoForMLModel(event=event.mLEvent,
                                                           failureCode=FailureCode.UNAVAILABLE_ML_MODEL))
                continue
            models = found if _multiple(event) else found[:1]
            notifs.append(self._event_notif(event.mLEvent, sub.body.notifCorreId, models))
            chosen.extend(models)
        return notifs, chosen, failures

    def _event_notif(self, event: NwdafEvent, corre_id: str | None, models: list[ModelVersionInfo]) -> MLEventNotif:
        infos = [
            AdditionalMLModelInformation(
                mLFileAddr=MLModelAddr(mLModelUrl=self.model_url(m)), modelUniqueId=int(m.tags["modelUniqueId"]),
                modelMetric=MLModelMetric.ACCURACY, accMLModel=accuracy(m),
            )
            for m in models
        ]
        return MLEventNotif(event=event, notifCorreId=corre_id, mLFileAddr=infos[0].mLFileAddr, addModelInfo=infos)

    def model_url(self, model: ModelVersionInfo) -> str:
        """Where the artifact is served; ``sha256`` travels with the address so the consumer can verify it (the
        MLModelAddr schema has no checksum attribute)."""
        return (f"{self.api_root()}{API_ROOT}/models/{quote(model.name, safe='')}/versions/{model.version}"
                f"/artifact?sha256={model.sha256}")

    # --- notifications ------------------------------------------------------------------------------------

    async def check_registry(self) -> int:
        """Notify every subscription whose matching champion differs from what it was last sent (promotion,
        rollback, a new model for a failed event). Returns the number of notifications delivered."""
        async with self._check_lock:
            self.stats.checks += 1
            champions = await asyncio.to_thread(lambda: list(self.registry.champions().values()))
            sent = 0
            for sub in await self.store.all():
                sent += await self._notify_changed(sub, champions)
            return sent

    async def _notify_one(self, sub_id: str) -> None:
        """The first notification of a new subscription, under the same lock as the registry checks, so a check
        running at the same time cannot send it twice."""
        async with self._check_lock:
            sub = await self.store.get(sub_id)
            if sub is not None:
                champions = await asyncio.to_thread(lambda: list(self.registry.champions().values()))
                await self._notify_changed(sub, champions)

    async def _notify_changed(self, sub: StoredSubscription, champions: list[ModelVersionInfo]) -> int:
        notifs, chosen, _ = self._notifs_for(sub, champions)
        if any(sub.notified.get(m.name) != m.version for m in chosen):
            return await self._deliver(sub.id, sub.body, notifs, chosen)
        return 0

    async def _deliver(
        self, sub_id: str, body: NwdafMLModelProvSubsc, notifs: list[MLEventNotif], models: list[ModelVersionInfo]
    ) -> int:
        payload = to_wire_list([NwdafMLModelProvNotif(eventNotifs=notifs, subscriptionId=sub_id)])
        try:
            resp = await with_retries(RetryPolicy(self.attempts, self.backoff_s),
                                      lambda _: self.client.send_notification(body.notifUri, payload))
        except SbiCallError as exc:
            reason = str(exc)
        else:
            if resp.status_code < 300:
                for m in models:
                    await self.store.mark_notified(sub_id, m.name, m.version)
                self.stats.delivered += 1
                return 1
            reason = f"HTTP {resp.status_code}"
        self.stats.failed += 1
        log.warning("ML model notification to %s failed: %s", body.notifUri, reason,
                    extra={"subscription_id": sub_id})
        return 0

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for notifications started in the background (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- registry operations that notify --------------------------------------------------------------------

    async def promote(self, name: str, version: str) -> ModelVersionInfo:
        info = await asyncio.to_thread(self.registry.promote, name, version)
        await self.check_registry()
        return info

    async def rollback(self, name: str) -> ModelVersionInfo:
        info = await asyncio.to_thread(self.registry.rollback, name)
        await self.check_registry()
        return info

    async def artifact(self, name: str, version: str) -> tuple[bytes, ModelVersionInfo]:
        """The verified artifact bytes of a version, from the local cache or the registry."""
        info = await asyncio.to_thread(self.registry.version, name, version)
        cached = self.artifact_cache / quote(name, safe="") / info.version / "model.skops"
        if cached.is_file():
            data = cached.read_bytes()
            if sha256_hex(data) == info.sha256:
                return data, info
        data = await asyncio.to_thread(self.registry.artifact_bytes, name, info.version)
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(data)
        return data, info


def _multiple(event: MLEventSubscription) -> bool:
    return bool(event.modelProvExt and event.modelProvExt.multModelsInd)


def _not_found(sub_id: str) -> ProblemError:
    return ProblemError(404, "Not Found", f"no ML model provision subscription {sub_id!r}",
                        "SUBSCRIPTION_NOT_FOUND")


def registry_problem(exc: RegistryError) -> ProblemError:
    if isinstance(exc, RegistryConflictError):
        return ProblemError(409, "Conflict", str(exc), "MODIFICATION_NOT_ALLOWED")
    return ProblemError(404, "Not Found", str(exc), "RESOURCE_NOT_FOUND")
