"""Storage wiring: backends from the configured URLs, the sink agent, and the Data Relay router."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter

from nwdaf.lib.storage.backends import StorageBackend, StorageConfigError, open_backend
from nwdaf.nf.storage.api.data_relay import API_ROOT, create_router
from nwdaf.nf.storage.config import StorageSettings
from nwdaf.nf.storage.metrics import SinkCollector
from nwdaf.nf.storage.relay import AnalyticsStream
from nwdaf.nf.storage.sink import StorageSink
from nwdaf.platform.bus import EventBus
from nwdaf.platform.nf import ServiceContext

log = logging.getLogger("nwdaf.storage")


@dataclass
class Storage:
    """The two backend roles; one object when both URLs are the same (chdb allows one path per process)."""

    timeseries: StorageBackend
    warehouse: StorageBackend

    def backends(self) -> list[StorageBackend]:
        return [self.timeseries] if self.timeseries is self.warehouse else [self.timeseries, self.warehouse]


def open_storage(settings: StorageSettings) -> Storage:
    """Unstarted backends for ``settings``; checks each role can hold its tables."""
    timeseries = open_backend(settings.timeseries_url)
    warehouse = timeseries if settings.warehouse_url == settings.timeseries_url else open_backend(
        settings.warehouse_url)
    if not timeseries.supports("upf_usage"):
        raise StorageConfigError(f"storage.timeseries_url {settings.timeseries_url!r} cannot hold upf_usage")
    missing = [t for t in ("upf_usage_reports", "flow_records", "ue_features", "analytics_results")
               if not warehouse.supports(t)]
    if missing:
        raise StorageConfigError(f"storage.warehouse_url {settings.warehouse_url!r} cannot hold {missing}: use "
                                 "chdb:// or clickhouse:// for the warehouse")
    return Storage(timeseries, warehouse)


@dataclass
class StorageService:
    """Sink agent (bus → storage) and the Data Relay (storage and live results → REST/SSE)."""

    storage: Storage
    sink: StorageSink
    stream: AnalyticsStream
    name: str = "storage"
    _started: list[StorageBackend] = field(default_factory=list)

    def routers(self) -> list[tuple[str, APIRouter]]:
        return [(API_ROOT, create_router(self.storage.warehouse, self.stream, self.stats,
                                         SinkCollector(self.sink.stats)))]

    def stats(self) -> dict[str, Any]:
        return {"sink": dataclasses.asdict(self.sink.stats), "stream": {
            **dataclasses.asdict(self.stream.stats), "clients": self.stream.client_count}}

    async def start(self) -> None:
        for backend in self.storage.backends():
            await backend.start()
            self._started.append(backend)
        await self.stream.start()
        await self.sink.start()

    async def stop(self) -> None:
        await self.sink.stop()
        await self.stream.stop()
        while self._started:
            await self._started.pop().close()


def create_storage_service(bus: EventBus, storage: Storage, settings: StorageSettings | None = None,
                           *, instance_id: str = "nwdaf") -> StorageService:
    cfg = settings or StorageSettings()
    sink = StorageSink(bus, storage.timeseries, storage.warehouse, cfg.sink, maintained=tuple(storage.backends()))
    return StorageService(storage, sink, AnalyticsStream(bus, cfg.relay, instance_id=instance_id))


def build_storage(ctx: ServiceContext, settings: StorageSettings) -> StorageService:
    return create_storage_service(ctx.bus, open_storage(settings), settings, instance_id=ctx.settings.instance_id)
