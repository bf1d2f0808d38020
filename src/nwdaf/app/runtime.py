"""Wiring: the one place that creates concrete classes (bus, SBI client, services) and serves the NFs.

Services of the same NF share that NF's SBI listener (e.g. collector + analytics on the NWDAF port); ``run all``
serves every NF from one process, each on its own port, as a real deployment would.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Protocol

from fastapi import APIRouter

from nwdaf.app.config import SbiEndpoint, Settings
from nwdaf.platform.bus import EventBus, create_bus, topics
from nwdaf.platform.models.openapi import OpenApiUnavailable, SpecValidator
from nwdaf.platform.sbi import RunningServer, SbiClient, create_sbi_app, start_server

log = logging.getLogger("nwdaf.runtime")


@dataclass
class ServiceContext:
    """What every service receives: settings and the shared infrastructure, never globals."""

    settings: Settings
    bus: EventBus
    client: SbiClient
    validator: SpecValidator | None
    base_urls: dict[str, str] = field(default_factory=dict)
    """Where each NF's SBI is reachable (filled once the listeners are bound)."""


class NfService(Protocol):
    """A service of an NF: contributes routers to the NF's SBI and runs background work."""

    name: str

    def routers(self) -> list[tuple[str, APIRouter]]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


Builder = Callable[[ServiceContext], NfService]


def _builders() -> dict[str, tuple[str, Builder]]:
    """Service name → (NF, builder), in start order: producers a peer calls on start come before that peer."""
    from nwdaf.nf.anlf.service import build_anlf
    from nwdaf.nf.collector.service import build_collector
    from nwdaf.nf.engines.service import build_engines
    from nwdaf.nf.mtlf.service import build_mtlf
    from nwdaf.nf.processor.service import build_processor
    from nwdaf.nf.smf.service import build_smf
    from nwdaf.nf.storage.service import build_storage
    from nwdaf.nf.upf.service import build_upf

    return {
        "upf": ("upf", build_upf),
        "storage": ("nwdaf", build_storage),
        "mtlf": ("nwdaf", build_mtlf),
        "anlf": ("nwdaf", build_anlf),
        "processor": ("nwdaf", build_processor),
        "engines": ("nwdaf", build_engines),
        "collector": ("nwdaf", build_collector),
        "smf": ("smf", build_smf),
    }


def service_names() -> list[str]:
    return list(_builders())


def load_validator() -> SpecValidator | None:
    try:
        return SpecValidator()
    except OpenApiUnavailable as exc:
        log.warning("3GPP OpenAPI files not found (%s): payloads are checked by the models only", exc)
        return None


def _endpoint(settings: Settings, nf: str) -> SbiEndpoint:
    return {"nwdaf": settings.nwdaf_sbi, "upf": settings.upf_sbi, "smf": settings.smf_sbi}[nf]


@dataclass
class Runtime:
    """Started services and servers of one process."""

    context: ServiceContext
    services: list[NfService]
    servers: dict[str, RunningServer]


async def open_context(settings: Settings, stack: AsyncExitStack, client_id: str,
                       validator: SpecValidator | None) -> ServiceContext:
    """The shared infrastructure every service receives: the bus (started, topics created) and the SBI client,
    both closed by ``stack``."""
    bus = create_bus(settings.bus.url, partitions=settings.bus.partitions, client_id=client_id,
                     namespace=settings.bus.namespace)
    await bus.start()
    stack.push_async_callback(bus.close)
    await bus.create_topics(topics.ALL_TOPICS)
    client = SbiClient(settings.sbi_client)
    stack.push_async_callback(client.aclose)
    return ServiceContext(settings, bus, client, validator)


async def start_runtime(
    settings: Settings, names: Sequence[str], stack: AsyncExitStack, overrides: Mapping[str, Builder] | None = None
) -> Runtime:
    """Create everything for ``names`` (or every service for ``["all"]``), start it, register its teardown.

    ``overrides`` replaces a service's builder (the demo gives the UPF its own synthetic population).
    """
    builders = _builders()
    for name, build in (overrides or {}).items():
        builders[name] = (builders[name][0], build)
    wanted = list(builders) if list(names) == ["all"] else [n for n in builders if n in names]
    unknown = [n for n in names if n not in builders and n != "all"]
    if unknown:
        raise ValueError(f"unknown service(s) {unknown}; known: {sorted(builders)} or 'all'")
    ctx = await open_context(settings, stack, settings.instance_id, load_validator())
    by_nf: dict[str, list[NfService]] = {}
    for name in wanted:
        nf, build = builders[name]
        by_nf.setdefault(nf, []).append(build(ctx))
    servers: dict[str, RunningServer] = {}
    for nf, services in by_nf.items():
        app = create_sbi_app(nf, [r for s in services for r in s.routers()], title=f"nwdaf {nf.upper()}")
        ep = _endpoint(settings, nf)
        servers[nf] = await start_server(app, ep.host, ep.port, name=nf)
        stack.push_async_callback(servers[nf].stop)
        ctx.base_urls[nf] = servers[nf].url
    started: list[NfService] = []
    for services in by_nf.values():
        for svc in services:
            await svc.start()
            stack.push_async_callback(svc.stop)
            started.append(svc)
    return Runtime(ctx, started, servers)


async def serve_forever(settings: Settings, names: Sequence[str], stop: asyncio.Event) -> None:
    async with AsyncExitStack() as stack:
        rt = await start_runtime(settings, names, stack)
        for nf, server in rt.servers.items():
            log.info("%s SBI at %s", nf.upper(), server.url)
        await stop.wait()
        log.info("stopping")
