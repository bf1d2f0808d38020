"""The bus contract (nwdaf.platform.bus.protocol), checked on the in-process bus and on a real Kafka broker alike.

Waits poll for the expected state with a deadline; nothing sleeps a fixed time and then asserts.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from datetime import UTC, datetime

from tests.support.polling import wait_until

from nwdaf.platform.bus import EventBus, Message, SubscribeOptions, Subscription, decode, encode
from nwdaf.platform.bus.namespace import NamespacedBus
from nwdaf.platform.events import NF_NOTIFICATION, NfNotification

PARTITIONS = 4  # the bus fixture's partitions per topic
FAST_RETRY = SubscribeOptions(retry_backoff_s=0.01, max_retry_backoff_s=0.1)


class Recorder:
    """A handler that records what it handled; can fail chosen messages a number of times, or hold one."""

    def __init__(self, fail: dict[bytes, int] | None = None) -> None:
        self.handled: list[Message] = []
        self.attempts: Counter[bytes] = Counter()
        self._fail = fail or {}
        self.hold_at: int | None = None  # the hold_at-th message waits for `release`
        self.holding = asyncio.Event()
        self.release = asyncio.Event()

    async def __call__(self, msg: Message) -> None:
        self.attempts[msg.value] += 1
        if self.attempts[msg.value] <= self._fail.get(msg.value, 0):
            raise RuntimeError(f"injected failure #{self.attempts[msg.value]} for {msg.value!r}")
        if self.hold_at is not None and len(self.handled) + 1 == self.hold_at:
            self.holding.set()
            await self.release.wait()
        self.handled.append(msg)

    @property
    def values(self) -> list[bytes]:
        return [m.value for m in self.handled]


def value(key: str, seq: int) -> bytes:
    return f"{key}:{seq}".encode()


def by_key(messages: list[Message]) -> dict[bytes | None, list[bytes]]:
    out: dict[bytes | None, list[bytes]] = defaultdict(list)
    for msg in messages:
        out[msg.key].append(msg.value)
    return out


async def publish_interleaved(bus: EventBus, topic: str, keys: list[str], per_key: int, start: int = 0) -> list[bytes]:
    """Publish ``per_key`` messages for each key, keys interleaved, concurrently; returns values in publish order."""
    order = [(k, s) for s in range(start, start + per_key) for k in keys]
    await asyncio.gather(*(bus.publish(topic, value(k, s), key=k.encode()) for k, s in order))
    return [value(k, s) for k, s in order]


def expected_by_key(published: list[bytes]) -> dict[bytes | None, list[bytes]]:
    out: dict[bytes | None, list[bytes]] = defaultdict(list)
    for v in published:
        out[v.split(b":")[0]].append(v)
    return out


async def test_order_per_key_with_interleaved_keys(bus: EventBus, topic: str, group: str) -> None:
    keys = [f"imsi-00101000000{i:04d}" for i in range(7)]
    published = await publish_interleaved(bus, topic, keys, per_key=60)
    rec = Recorder()
    sub = await bus.subscribe([topic], group, rec)
    await wait_until(lambda: len(rec.handled) >= len(published), message=f"{len(published)} messages handled")
    await sub.stop()

    assert by_key(rec.handled) == expected_by_key(published)
    partitions_of_key: dict[bytes | None, set[int]] = defaultdict(set)
    for msg in rec.handled:
        partitions_of_key[msg.key].add(msg.partition)
    assert all(len(p) == 1 for p in partitions_of_key.values()), partitions_of_key
    for pidx in range(PARTITIONS):
        offsets = [m.offset for m in rec.handled if m.partition == pidx]
        assert offsets == sorted(offsets)


async def test_group_members_split_partitions_and_handle_each_message_once(
    bus: EventBus, topic: str, group: str
) -> None:
    await bus.create_topics([topic])
    rec_a, rec_b = Recorder(), Recorder()
    sub_a = await bus.subscribe([topic], group, rec_a)
    sub_b = await bus.subscribe([topic], group, rec_b)
    every = {(topic, p) for p in range(PARTITIONS)}

    def split() -> bool:
        a, b = set(sub_a.assignment), set(sub_b.assignment)  # type: ignore[attr-defined]
        return bool(a) and bool(b) and not (a & b) and (a | b) == every

    await wait_until(split, message="both members of the group own partitions")
    published = await publish_interleaved(bus, topic, [f"ue-{i}" for i in range(50)], per_key=4)
    await wait_until(lambda: len(rec_a.handled) + len(rec_b.handled) >= len(published), message="all messages handled")

    assert Counter(rec_a.values + rec_b.values) == Counter(published)
    assert rec_a.handled
    assert rec_b.handled
    assert {(m.topic, m.partition) for m in rec_a.handled} <= set(sub_a.assignment)  # type: ignore[attr-defined]
    assert {(m.topic, m.partition) for m in rec_b.handled} <= set(sub_b.assignment)  # type: ignore[attr-defined]
    await sub_a.stop()
    await sub_b.stop()


async def test_two_groups_each_receive_everything(bus: EventBus, topic: str, group: str) -> None:
    published = await publish_interleaved(bus, topic, ["a", "b", "c"], per_key=30)
    rec_1, rec_2 = Recorder(), Recorder()
    subs = [await bus.subscribe([topic], group + "-1", rec_1), await bus.subscribe([topic], group + "-2", rec_2)]
    await wait_until(
        lambda: len(rec_1.handled) >= len(published) and len(rec_2.handled) >= len(published),
        message="both groups handled every message",
    )
    for sub in subs:
        await sub.stop()
    assert Counter(rec_1.values) == Counter(published)
    assert Counter(rec_2.values) == Counter(published)


async def test_failed_handler_gets_the_same_message_again_in_order(bus: EventBus, topic: str, group: str) -> None:
    published = await publish_interleaved(bus, topic, ["k0", "k1", "k2"], per_key=20)
    once, thrice = value("k1", 5), value("k2", 0)
    rec = Recorder(fail={once: 1, thrice: 3})
    sub = await bus.subscribe([topic], group, rec, FAST_RETRY)
    await wait_until(lambda: len(rec.handled) >= len(published), message="every message handled after the retries")
    await sub.stop()

    assert rec.attempts[once] == 2
    assert rec.attempts[thrice] == 4
    assert by_key(rec.handled) == expected_by_key(published)  # nothing lost, nothing skipped, order kept per key


async def test_restart_in_same_group_resumes_after_committed(bus: EventBus, topic: str, group: str) -> None:
    first = await publish_interleaved(bus, topic, ["u1", "u2", "u3", "u4"], per_key=10)
    rec_a = Recorder()
    rec_a.hold_at = 20
    sub_a = await bus.subscribe([topic], group, rec_a)
    await wait_until(rec_a.holding.is_set, message="the first member reached its 20th message")
    stopping = asyncio.create_task(sub_a.stop())
    await asyncio.sleep(0)  # let stop() begin, so the held message is the last this member handles
    rec_a.release.set()
    await stopping
    handled_a = set(rec_a.values)
    assert len(handled_a) == 20

    second = await publish_interleaved(bus, topic, ["u1", "u2", "u3", "u4"], per_key=10, start=10)
    rec_b = Recorder()
    sub_b = await bus.subscribe([topic], group, rec_b)
    everything = set(first + second)
    await wait_until(lambda: handled_a | set(rec_b.values) >= everything, message="the rest handled after the restart")
    await sub_b.stop()

    assert not handled_a & set(rec_b.values), "committed messages were delivered again"
    assert handled_a | set(rec_b.values) == everything


async def test_message_whose_handler_failed_is_not_committed(bus: EventBus, topic: str, group: str) -> None:
    published = [value("ue", s) for s in range(10)]
    for v in published:
        await bus.publish(topic, v, key=b"ue")
    poisoned = value("ue", 4)
    rec_a = Recorder(fail={poisoned: 10_000})
    sub_a = await bus.subscribe([topic], group, rec_a, FAST_RETRY)
    await wait_until(lambda: rec_a.attempts[poisoned] >= 2, message="the failed message was redelivered")
    await sub_a.stop()
    assert rec_a.values == published[:4]

    rec_b = Recorder()
    sub_b = await bus.subscribe([topic], group, rec_b)
    await wait_until(lambda: len(rec_b.handled) >= 6, message="the next member handled the rest")
    await sub_b.stop()
    assert rec_b.values == published[4:]


async def test_envelope_and_headers_survive_the_bus(bus: EventBus, topic: str, group: str) -> None:
    payload = NfNotification(
        source="upf-ee",
        received_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        ue_key="imsi-001010000000001",
        body={"notificationItems": [{"eventType": "USER_DATA_USAGE_MEASURES", "ueIpv4Addr": "10.45.0.2"}]},
    )
    raw = encode(payload, type_=NF_NOTIFICATION, source="collector", correlation_id="corr-1")
    headers = {"traceparent": b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "bin": b"\x00\xff\x80"}
    await bus.publish(topic, raw, key=b"imsi-001010000000001", headers=headers)
    rec = Recorder()
    sub: Subscription = await bus.subscribe([topic], group, rec)
    await wait_until(lambda: len(rec.handled) >= 1, message="the envelope arrived")
    await sub.stop()

    msg = rec.handled[0]
    assert msg.key == b"imsi-001010000000001"
    assert dict(msg.headers) == headers
    assert msg.timestamp_ms > 0
    env = decode(msg.value, NfNotification, type_=NF_NOTIFICATION)
    assert env.payload == payload
    assert (env.type, env.source, env.correlation_id) == (NF_NOTIFICATION, "collector", "corr-1")


async def test_member_leaving_hands_its_partitions_to_the_rest(bus: EventBus, topic: str, group: str) -> None:
    await bus.create_topics([topic])
    rec_a, rec_b = Recorder(), Recorder()
    sub_a = await bus.subscribe([topic], group, rec_a)
    sub_b = await bus.subscribe([topic], group, rec_b)
    await wait_until(lambda: bool(sub_a.assignment) and bool(sub_b.assignment),  # type: ignore[attr-defined]
                     message="both members own partitions")
    first = await publish_interleaved(bus, topic, [f"ue-{i}" for i in range(20)], per_key=3)
    await wait_until(lambda: len(rec_a.handled) + len(rec_b.handled) >= len(first), message="first batch handled")
    await sub_b.stop()

    second = await publish_interleaved(bus, topic, [f"ue-{i}" for i in range(20)], per_key=3, start=3)
    await wait_until(lambda: set(second) <= set(rec_a.values), message="the remaining member handled the second batch")
    await sub_a.stop()
    assert Counter(rec_a.values + rec_b.values) == Counter(first + second)


async def test_namespaces_on_one_backend_never_see_each_other(bus: EventBus, topic: str, group: str) -> None:
    lab_a, lab_b = NamespacedBus(bus, "lab-a."), NamespacedBus(bus, "lab-b.")
    published_a = await publish_interleaved(lab_a, topic, ["x", "y"], per_key=10)
    published_b = await publish_interleaved(lab_b, topic, ["x"], per_key=7, start=100)
    rec_a, rec_b = Recorder(), Recorder()
    subs = [await lab_a.subscribe([topic], group, rec_a), await lab_b.subscribe([topic], group, rec_b)]
    await wait_until(lambda: len(rec_a.handled) >= 20 and len(rec_b.handled) >= 7,
                     message="each namespace handled its own")
    await asyncio.sleep(0.3)  # room for a leak from the other namespace to show up
    for sub in subs:
        await sub.stop()
    assert Counter(rec_a.values) == Counter(published_a)
    assert Counter(rec_b.values) == Counter(published_b)
    assert {m.topic for m in rec_a.handled + rec_b.handled} == {topic}  # handlers see the unprefixed name
