"""The ``bus`` fixture: every contract test runs on the in-process bus (unit) and on a real Kafka broker."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from tests.support.kafka import KafkaBroker

from nwdaf.platform.bus import EventBus, InMemoryBus

PARTITIONS = 4


@pytest.fixture(
    params=[
        pytest.param("memory", marks=pytest.mark.unit),
        pytest.param("kafka", marks=[pytest.mark.integration, pytest.mark.kafka]),
    ]
)
def bus_backend(request: pytest.FixtureRequest) -> KafkaBroker | None:
    """None for the in-process bus, else the session's Kafka broker (started only when a kafka test runs)."""
    if request.param == "kafka":
        broker: KafkaBroker = request.getfixturevalue("kafka_broker")
        return broker
    return None


@pytest.fixture
async def bus(bus_backend: KafkaBroker | None) -> AsyncIterator[EventBus]:
    if bus_backend is None:
        instance: EventBus = InMemoryBus(partitions=PARTITIONS)
    else:
        from nwdaf.platform.bus.kafka import KafkaBus

        instance = KafkaBus(bus_backend.bootstrap, partitions=PARTITIONS, client_id=f"test-{uuid.uuid4().hex[:8]}")
    await instance.start()
    try:
        yield instance
    finally:
        await instance.close()


@pytest.fixture
def topic() -> str:
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture
def group() -> str:
    return f"group-{uuid.uuid4().hex}"
