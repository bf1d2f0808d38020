"""Wiring: the one place that creates concrete classes (bus, SBI client, services) and serves the NFs.

Services of the same NF share that NF's SBI listener (e.g. collector + analytics on the NWDAF port); ``run all``
serves every NF from one process, each on its own port, as a real deployment would.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass

from nwdaf.app.config import SbiEndpoint, Settings
from nwdaf.platform.nf import Builder, NfService, ServiceContext, load_validator, open_context
from nwdaf.platform.sbi import RunningServer, create_sbi_app, start_server

log = logging.getLogger("nwdaf.runtime")


def _builders(settings: Settings) -> dict[str, tuple[str, Builder]]:
    """Service name → (NF, builder), in start order: producers a peer calls on start come before that peer.

    Each builder gets the shared context and its own NF's settings section, nothing else.
    """
    from nwdaf.nf.anlf.service import build_anlf
    from nwdaf.nf.collector.service import build_collector
    from nwdaf.nf.engines.service import build_engines
    from nwdaf.nf.mtlf.service import build_mtlf
    from nwdaf.nf.processor.service import build_processor
    from nwdaf.nf.smf.service import build_smf
    from nwdaf.nf.storage.service import build_storage
    from nwdaf.nf.upf.service import build_upf

    return {
        "upf": ("upf", lambda ctx: build_upf(ctx, settings.upf)),
        "storage": ("nwdaf", lambda ctx: build_storage(ctx, settings.storage)),
        "mtlf": ("nwdaf", lambda ctx: build_mtlf(ctx, settings.mtlf)),
        "anlf": ("nwdaf", lambda ctx: build_anlf(ctx, settings.anlf)),
        "processor": ("nwdaf", lambda ctx: build_processor(ctx, settings.processor)),
        "engines": ("nwdaf", lambda ctx: build_engines(ctx, settings.engines)),
        "collector": ("nwdaf", lambda ctx: build_collector(ctx, settings.collector)),
        "smf": ("smf", lambda ctx: build_smf(ctx, settings.smf)),
    }


def service_names() -> list[str]:
    return list(_builders(Settings.model_construct()))


def _endpoint(settings: Settings, nf: str) -> SbiEndpoint:
    return {"nwdaf": settings.nwdaf_sbi, "upf": settings.upf_sbi, "smf": settings.smf_sbi}[nf]


@dataclass
class Runtime:
    """Started services and servers of one process."""

    context: ServiceContext
    services: list[NfService]
    servers: dict[str, RunningServer]


async def start_runtime(
    settings: Settings, names: Sequence[str], stack: AsyncExitStack, overrides: Mapping[str, Builder] | None = None
) -> Runtime:
    """Create everything for ``names`` (or every service for ``["all"]``), start it, register its teardown.

    ``overrides`` replaces a service's builder (the demo gives the UPF its own synthetic population).
    """
    builders = _builders(settings)
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
