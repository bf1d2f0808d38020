"""KafkaBus on a real broker: bad input and broker refusals become clear errors, never hangs or silent drops."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from tests.support.kafka import KafkaBroker

from nwdaf.platform.bus import Message
from nwdaf.platform.bus.kafka import KafkaBus, KafkaBusError

pytestmark = [pytest.mark.integration, pytest.mark.kafka]


@pytest.fixture
async def kafka_bus(kafka_broker: KafkaBroker) -> AsyncIterator[KafkaBus]:
    bus = KafkaBus(kafka_broker.bootstrap, partitions=2)
    await bus.start()
    try:
        yield bus
    finally:
        await bus.close()


async def _noop(msg: Message) -> None:
    return None


async def test_invalid_topic_name_is_refused_by_the_broker(kafka_bus: KafkaBus) -> None:
    with pytest.raises(KafkaBusError, match="cannot create topic 'no spaces allowed'"):
        await kafka_bus.publish("no spaces allowed", b"v")


async def test_record_over_the_size_limit_is_refused(kafka_bus: KafkaBus) -> None:
    topic = f"test-{uuid.uuid4().hex}"
    with pytest.raises(KafkaBusError, match=f"cannot produce to '{topic}'"):
        await kafka_bus.publish(topic, b"x" * 2_000_000)


async def test_value_must_be_bytes(kafka_bus: KafkaBus) -> None:
    with pytest.raises(TypeError, match="bytes"):
        await kafka_bus.publish("t", "text")  # type: ignore[arg-type]


async def test_bad_consumer_setting_fails_subscribe_with_the_reason(kafka_broker: KafkaBroker) -> None:
    bus = KafkaBus(kafka_broker.bootstrap, consumer_config={"auto.offset.reset": "sideways"})
    await bus.start()
    try:
        with pytest.raises(KafkaBusError, match=r"auto\.offset\.reset"):
            await bus.subscribe([f"test-{uuid.uuid4().hex}"], "g", _noop)
    finally:
        await bus.close()


async def test_create_topics_is_idempotent(kafka_bus: KafkaBus) -> None:
    topic = f"test-{uuid.uuid4().hex}"
    await kafka_bus.create_topics([topic, topic])
    fresh = KafkaBus(kafka_bus.servers)
    await fresh.start()
    try:
        await fresh.create_topics([topic], partitions=2)  # exists already: no error
    finally:
        await fresh.close()
