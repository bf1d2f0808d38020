"""MTLF wiring: the Nnwdaf_MLModelProvision and ML admin routers on the NWDAF SBI, and the registry watcher.

Register in :func:`nwdaf.app.runtime._builders` as ``"mtlf": ("nwdaf", build_mtlf)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from fastapi import APIRouter

from nwdaf.nf.mtlf.api import admin, ml_model_provision
from nwdaf.nf.mtlf.config import MtlfConfig, MtlfSettings
from nwdaf.nf.mtlf.processor import ModelProvision
from nwdaf.nf.mtlf.registry import ModelRegistry
from nwdaf.nf.mtlf.store import LAYOUT, ProvisionSubscriptions
from nwdaf.platform.models.openapi import SpecValidator
from nwdaf.platform.nf import ServiceContext
from nwdaf.platform.store import SubscriptionStore

log = logging.getLogger("nwdaf.mtlf")


@dataclass
class MtlfService:
    """NWDAF containing MTLF: provisions registry champions to subscribed AnLFs.

    The watcher polls the registry every ``poll_s`` so a promotion made elsewhere (CLI, MLflow UI, another MTLF)
    reaches subscribers too; promotions through the admin API notify at once.
    """

    provision: ModelProvision
    config: MtlfConfig
    validator: SpecValidator | None = None
    name: str = "mtlf"
    _watcher: asyncio.Task[None] | None = field(default=None, repr=False)

    def routers(self) -> list[tuple[str, APIRouter]]:
        return [
            (ml_model_provision.API_ROOT, ml_model_provision.create_router(self.provision, self.validator)),
            (admin.API_ROOT, admin.create_router(self.provision)),
        ]

    async def start(self) -> None:
        await self.provision.store.open()
        self._watcher = asyncio.get_running_loop().create_task(self._watch(), name="mtlf-registry-watcher")

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        await self.provision.drain()
        await self.provision.store.close()

    async def _watch(self) -> None:
        while True:
            try:
                await self.provision.check_registry()
            except Exception:  # a registry outage must not end the watcher; the next tick retries
                log.exception("registry check failed")
            await asyncio.sleep(self.config.poll_s)


def build_mtlf(ctx: ServiceContext, config: MtlfSettings | None = None) -> MtlfService:
    """Runtime builder, configured by the ``mtlf`` section (a complete :class:`MtlfConfig` is used as given)."""
    cfg = config if isinstance(config, MtlfConfig) else MtlfConfig.from_settings(ctx.settings, config)
    registry = ModelRegistry(cfg.tracking_uri, cfg.artifact_root)
    endpoint = ctx.settings.nwdaf_sbi

    def api_root() -> str:
        return endpoint.api_root or ctx.base_urls.get("nwdaf") or endpoint.base_url()

    store = ProvisionSubscriptions(SubscriptionStore(cfg.store_path, LAYOUT))
    provision = ModelProvision(
        store=store, registry=registry, client=ctx.client, api_root=api_root,
        artifact_cache=cfg.artifact_cache, attempts=cfg.notify_attempts, backoff_s=cfg.notify_backoff_s,
    )
    return MtlfService(provision, cfg, ctx.validator)
