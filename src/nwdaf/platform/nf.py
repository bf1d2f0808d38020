"""What an NF service is and what it receives: the :class:`NfService` protocol and the :class:`ServiceContext`.

NFs meet only on the bus and the SBI: a service gets the shared infrastructure here (bus, SBI client, 3GPP
validator, where the NFs' SBIs are reachable, the core settings) and its own settings section from the application
(:mod:`nwdaf.app.runtime`), never another NF's code or section.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Protocol

from fastapi import APIRouter

from nwdaf.platform.bus import EventBus, create_bus, topics
from nwdaf.platform.config import CoreSettings
from nwdaf.platform.models.openapi import OpenApiUnavailable, SpecValidator
from nwdaf.platform.sbi import SbiClient

log = logging.getLogger("nwdaf.runtime")


@dataclass
class ServiceContext:
    """What every service receives: the core settings and the shared infrastructure, never globals."""

    settings: CoreSettings
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
"""Creates one service from the context (the application binds the NF's own settings section)."""


def load_validator() -> SpecValidator | None:
    """The 3GPP OpenAPI validator, or None (with a warning) where the YAML files are absent."""
    try:
        return SpecValidator()
    except OpenApiUnavailable as exc:
        log.warning("3GPP OpenAPI files not found (%s): payloads are checked by the models only", exc)
        return None


async def open_context(settings: CoreSettings, stack: AsyncExitStack, client_id: str,
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
