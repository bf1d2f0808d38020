"""Create the configured bus backend from its URL (``memory://`` or ``kafka://host:port[,host:port]``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from nwdaf.platform.bus.memory import InMemoryBus
from nwdaf.platform.bus.namespace import NamespacedBus
from nwdaf.platform.bus.protocol import EventBus


class BusConfigError(ValueError):
    """The bus URL names no known backend, or its backend's extra is not installed."""


def create_bus(url: str, *, partitions: int = 4, client_id: str = "nwdaf", namespace: str = "") -> EventBus:
    """Return an unstarted bus for ``url``; the only place that picks a concrete backend.

    A non-empty ``namespace`` prefixes every topic and consumer group (see :class:`NamespacedBus`).
    """
    bus = _backend(url, partitions, client_id)
    return NamespacedBus(bus, namespace) if namespace else bus


def _backend(url: str, partitions: int, client_id: str) -> EventBus:
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return InMemoryBus(partitions=partitions)
    if scheme == "kafka":
        try:
            from nwdaf.platform.bus.kafka import KafkaBus
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise BusConfigError(
                f"bus url {url!r} needs the Kafka backend: pip install 'nwdaf[kafka]' ({exc})"
            ) from exc
        servers = urlsplit(url).netloc
        if not servers:
            raise BusConfigError(f"bus url {url!r} names no bootstrap server (kafka://host:port)")
        return KafkaBus(servers, partitions=partitions, client_id=client_id)
    raise BusConfigError(f"unknown bus url scheme {scheme!r} in {url!r}: use memory:// or kafka://host:port")
