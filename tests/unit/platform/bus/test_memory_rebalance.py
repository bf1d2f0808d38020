"""In-process bus: a member that loses a partition while its handler runs must not move the group's offset back."""

from __future__ import annotations

import asyncio

import pytest
from tests.support.polling import wait_until

from nwdaf.platform.bus import InMemoryBus, Message

pytestmark = pytest.mark.unit


async def test_late_commit_of_a_revoked_partition_does_not_replay_the_new_owners_work() -> None:
    bus = InMemoryBus(partitions=2)
    topic = "nwdaf.test.rebalance"
    key = next(k for k in (f"ue-{i}".encode() for i in range(100)) if bus.partition_for(topic, k) == 1)
    for seq in range(10):
        await bus.publish(topic, b"%d" % seq, key=key)

    holding, release = asyncio.Event(), asyncio.Event()
    handled_a: list[bytes] = []
    handled_b: list[bytes] = []

    async def slow_a(msg: Message) -> None:
        holding.set()
        await release.wait()
        handled_a.append(msg.value)

    async def fast_b(msg: Message) -> None:
        handled_b.append(msg.value)

    sub_a = await bus.subscribe([topic], "g", slow_a)
    await wait_until(holding.is_set, message="the first member holds message 0")
    sub_b = await bus.subscribe([topic], "g", fast_b)  # partition 1 moves to the new member
    await wait_until(lambda: len(handled_b) >= 10, message="the new owner handled the partition")
    release.set()
    await wait_until(lambda: handled_a == [b"0"], message="the first member finished its message")
    await bus.publish(topic, b"10", key=key)
    await wait_until(lambda: b"10" in handled_b, message="the new owner handled the next message")
    await sub_a.stop()
    await sub_b.stop()

    assert handled_b == [b"%d" % seq for seq in range(11)], "handled messages were replayed"
