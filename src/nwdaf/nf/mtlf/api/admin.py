"""ML admin API ``/nwdaf-ml-admin/v1`` (not 3GPP): registered models, versions, the training run log, the
provisioning subscriptions, and promotion/rollback (which notify Nnwdaf_MLModelProvision subscribers)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict

from nwdaf.nf.mtlf.processor import ModelProvision, registry_problem
from nwdaf.nf.mtlf.registry import ModelVersionInfo, RegistryError
from nwdaf.platform.models.common import to_wire
from nwdaf.platform.sbi.body import read_model
from nwdaf.platform.sbi.docs import body_doc, route_docs

API_ROOT = "/nwdaf-ml-admin/v1"


class PromoteRequest(BaseModel):
    """Body of ``POST /models/{name}/promote``."""

    model_config = ConfigDict(extra="forbid")

    version: str


class TransitionResult(BaseModel):
    """The champion after a promotion or rollback, and how many subscribers were notified."""

    name: str
    champion: str
    notified: int


def create_router(provision: ModelProvision) -> APIRouter:
    router = APIRouter(tags=["ML admin"])
    registry = provision.registry

    async def call(fn: Any, *args: Any) -> Any:
        try:
            return await asyncio.to_thread(fn, *args)
        except RegistryError as exc:
            raise registry_problem(exc) from exc

    @router.get("/models", summary="List registered models with their aliases (champion, challenger)")
    async def list_models() -> list[dict[str, Any]]:
        return list(await call(registry.models))

    @router.get("/models/{name}/versions", summary="List the versions of a model with tags and aliases",
                **route_docs(404))
    async def list_versions(name: str) -> list[dict[str, Any]]:
        versions: list[ModelVersionInfo] = await call(registry.versions, name)
        return [v.to_dict() for v in versions]

    @router.get("/runs", summary="Training run log (newest first): params, metrics, tags")
    async def list_runs(limit: int = 50) -> list[dict[str, Any]]:
        return list(await call(registry.runs, limit))

    _transition_routes(router, provision, call)

    @router.get("/subscriptions", summary="Nnwdaf_MLModelProvision subscriptions and the versions notified")
    async def list_subscriptions() -> list[dict[str, Any]]:
        return [{"subscriptionId": s.id, "subscription": to_wire(s.body), "notified": s.notified}
                for s in await provision.store.all()]

    @router.get("/stats", summary="Notifications delivered and failed, registry checks")
    async def stats() -> dict[str, int]:
        return {"delivered": provision.stats.delivered, "failed": provision.stats.failed,
                "checks": provision.stats.checks}

    return router


def _transition_routes(router: APIRouter, provision: ModelProvision, call: Any) -> None:
    """Challenger, promotion and rollback: the registry changes that notify Nnwdaf_MLModelProvision subscribers."""
    registry = provision.registry

    @router.post("/models/{name}/versions/{version}/challenger", summary="Mark a version as challenger",
                 **route_docs(404))
    async def set_challenger(name: str, version: str) -> dict[str, Any]:
        info: ModelVersionInfo = await call(registry.set_challenger, name, version)
        return info.to_dict()

    @router.post("/models/{name}/promote", response_model=TransitionResult,
                 summary="Make a version the champion and notify matching subscribers",
                 **route_docs(404, body=body_doc(PromoteRequest)))
    async def promote(name: str, request: Request) -> TransitionResult:
        body = await read_model(request, PromoteRequest)
        before = provision.stats.delivered
        try:
            info = await provision.promote(name, body.version)
        except RegistryError as exc:
            raise registry_problem(exc) from exc
        return TransitionResult(name=name, champion=info.version, notified=provision.stats.delivered - before)

    @router.post("/models/{name}/rollback", response_model=TransitionResult,
                 summary="Return the champion to the previous champion version and notify subscribers",
                 **route_docs(404, 409))
    async def rollback(name: str) -> TransitionResult:
        before = provision.stats.delivered
        try:
            info = await provision.rollback(name)
        except RegistryError as exc:
            raise registry_problem(exc) from exc
        return TransitionResult(name=name, champion=info.version, notified=provision.stats.delivered - before)
