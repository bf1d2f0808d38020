"""Kafka backend of the event bus (confluent-kafka / librdkafka); semantics in :mod:`nwdaf.platform.bus.protocol`.

Threads: librdkafka calls block, so the producer's delivery reports are served by one poll thread, and each
subscription owns a single-thread executor that makes every call on its consumer (poll, commit, close, and the
rebalance callbacks that librdkafka runs inside poll). Handlers always run on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Producer
from confluent_kafka import Message as KafkaMessage
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from nwdaf.platform.bus.kafka_consumer import KafkaSubscription
from nwdaf.platform.bus.protocol import Handler, SubscribeOptions

log = logging.getLogger("nwdaf.bus.kafka")
_librdkafka_log = logging.getLogger("nwdaf.bus.kafka.librdkafka")

__all__ = ["KafkaBus", "KafkaBusError", "KafkaSubscription"]


class KafkaBusError(RuntimeError):
    """The broker refused or lost a request (unreachable cluster, failed delivery, failed topic creation)."""


class KafkaBus:
    """Event bus on Apache Kafka: keyed produce with delivery reports, consumer groups, commit after success."""

    def __init__(
        self,
        servers: str,
        *,
        partitions: int = 4,
        client_id: str = "nwdaf",
        producer_config: Mapping[str, Any] | None = None,
        consumer_config: Mapping[str, Any] | None = None,
        poll_timeout_s: float = 0.1,
        connect_timeout_s: float = 10.0,
    ) -> None:
        if not servers.strip():
            raise ValueError("KafkaBus needs bootstrap servers (host:port[,host:port])")
        if partitions < 1:
            raise ValueError(f"partitions must be >= 1, got {partitions}")
        self.servers = servers
        self._partitions = partitions
        self._client_id = client_id
        self._producer_config = dict(producer_config or {})
        self._consumer_config = dict(consumer_config or {})
        self._poll_timeout_s = poll_timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._producer: Producer | None = None
        self._admin: AdminClient | None = None
        self._poller: threading.Thread | None = None
        self._running = threading.Event()
        self._known_topics: set[str] = set()
        self._subscriptions: list[KafkaSubscription] = []
        self._outbox: deque[_Record] = deque()
        self._drainer: asyncio.Task[None] | None = None

    def _base_config(self) -> dict[str, Any]:
        # librdkafka's own log lines go to Python logging instead of stderr.
        return {"bootstrap.servers": self.servers, "client.id": self._client_id, "logger": _librdkafka_log}

    def producer_config(self) -> dict[str, Any]:
        """Effective producer settings (defaults, then the caller's overrides)."""
        return {
            **self._base_config(),
            # Why: the Java client's partitioner, so a key maps to the same partition from any producer.
            "partitioner": "murmur2_random",
            # Why: retries must not reorder or duplicate a key's messages (implies acks=all).
            "enable.idempotence": True,
            "linger.ms": 5,  # measured in docs/benchmarks/bus.md: 0 ms halves one-by-one latency, same throughput
            "message.timeout.ms": 60_000,  # a publish fails after 1 min without the broker instead of 5
            **self._producer_config,
        }

    def consumer_config(self, group: str) -> dict[str, Any]:
        """Effective consumer settings for ``group`` (defaults, then the caller's overrides).

        The classic group protocol is the default: it works with every broker, and a member joining or leaving is
        rebalanced within ~1 s (measured; KIP-848's ``group.protocol=consumer`` took ~5 s with the broker's default
        heartbeat interval). Passing ``{"group.protocol": "consumer"}`` switches to KIP-848.
        """
        config = {
            **self._base_config(),
            "group.id": group,
            "enable.auto.commit": False,  # commit after the handler succeeded, never on a timer
            "auto.offset.reset": "earliest",  # a new group starts from the earliest retained message
            "heartbeat.interval.ms": 1000,  # learn of a rebalance within ~1 s (default 3 s)
            # A crashed member's partitions move to the survivors after this (librdkafka's 45 s default left a
            # restarted sink idle for most of a minute; tests/integration/nf/storage/test_sink_crash_kafka.py).
            "session.timeout.ms": 10_000,
            "enable.partition.eof": False,
            **self._consumer_config,
        }
        if config.get("group.protocol") == "consumer" and "heartbeat.interval.ms" not in self._consumer_config:
            del config["heartbeat.interval.ms"]  # KIP-848: the broker sets the heartbeat interval
        return config

    async def start(self) -> None:
        if self._producer is not None:
            return
        admin = AdminClient(self._base_config())
        try:
            await asyncio.to_thread(admin.list_topics, timeout=self._connect_timeout_s)
        except KafkaException as exc:
            raise KafkaBusError(
                f"Kafka at {self.servers} did not answer within {self._connect_timeout_s}s: {exc.args[0]}"
            ) from exc
        self._admin = admin
        self._producer = Producer(self.producer_config())
        self._running.set()
        self._poller = threading.Thread(target=self._poll_producer, name="kafka-producer-poll", daemon=True)
        self._poller.start()

    def _poll_producer(self) -> None:
        producer = self._producer
        assert producer is not None
        while self._running.is_set():
            producer.poll(self._poll_timeout_s)

    async def close(self) -> None:
        for sub in list(self._subscriptions):
            await sub.stop()
        self._subscriptions.clear()
        if self._producer is None:
            return
        try:
            if self._drainer is not None:
                await self._drainer
            await self.flush()
        finally:
            self._running.clear()
            if self._poller is not None:
                await asyncio.to_thread(self._poller.join)
            self._producer = None
            self._admin = None

    def _require_started(self) -> tuple[Producer, AdminClient]:
        if self._producer is None or self._admin is None:
            raise RuntimeError("KafkaBus is not started: await bus.start() first")
        return self._producer, self._admin

    async def create_topics(self, topics: Sequence[str], partitions: int | None = None) -> None:
        _, admin = self._require_started()
        wanted = [t for t in dict.fromkeys(topics) if t not in self._known_topics]
        if not wanted:
            return
        # replication_factor=-1: the cluster's default.replication.factor (KIP-464), 1 on the dev broker.
        new = [NewTopic(t, num_partitions=partitions or self._partitions, replication_factor=-1) for t in wanted]
        futures = admin.create_topics(new, operation_timeout=self._connect_timeout_s)
        for topic, fut in futures.items():
            try:
                await asyncio.wrap_future(fut)
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise KafkaBusError(f"cannot create topic {topic!r}: {exc.args[0].str()}") from exc
            self._known_topics.add(topic)

    async def publish(
        self,
        topic: str,
        value: bytes,
        key: bytes | None = None,
        headers: Mapping[str, bytes] | None = None,
    ) -> None:
        """Produce one record and return once the broker acknowledged it (raises :class:`KafkaBusError`).

        Records reach librdkafka in the order ``publish`` was called, also for concurrent calls: while a topic is
        being created or the local queue is full, later calls queue behind the earlier ones.
        """
        self._require_started()
        if not isinstance(value, bytes):
            raise TypeError(f"bus values are bytes (an encoded envelope), got {type(value).__name__}")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        record = _Record(topic, value, key, [(k, v) for k, v in headers.items()] if headers else None, done)
        if self._outbox or topic not in self._known_topics or not self._produce(record):
            self._outbox.append(record)
            if self._drainer is None or self._drainer.done():
                self._drainer = asyncio.get_running_loop().create_task(self._drain_outbox())
        await done

    def _produce(self, record: _Record) -> bool:
        """Hand ``record`` to librdkafka; False if its queue is full (the caller retries, keeping the order)."""
        producer, _ = self._require_started()
        loop = record.done.get_loop()

        def on_delivery(err: KafkaError | None, msg: KafkaMessage) -> None:  # runs on the poll thread
            with contextlib.suppress(RuntimeError):  # the loop is already closed: nobody waits any more
                loop.call_soon_threadsafe(_settle, record.done, err, record.topic)

        try:
            producer.produce(record.topic, record.value, record.key, headers=record.headers, on_delivery=on_delivery)
        except BufferError:
            return False
        except KafkaException as exc:
            record.done.set_exception(KafkaBusError(f"cannot produce to {record.topic!r}: {exc.args[0].str()}"))
        return True

    async def _drain_outbox(self) -> None:
        try:
            while self._outbox:
                record = self._outbox[0]
                if record.topic not in self._known_topics:
                    try:
                        await self.create_topics([record.topic])
                    except KafkaBusError as exc:
                        self._outbox.popleft()
                        record.done.set_exception(exc)
                        continue
                if self._produce(record):
                    self._outbox.popleft()
                else:
                    await asyncio.sleep(0.005)  # librdkafka's queue is full: let deliveries drain it
        except Exception as exc:  # never leave a publisher waiting for a record that will not be sent
            log.exception("publishing to %s stopped", self.servers)
            while self._outbox:
                record = self._outbox.popleft()
                if not record.done.done():
                    record.done.set_exception(KafkaBusError(f"publish to {record.topic!r} aborted: {exc}"))

    async def flush(self, timeout_s: float = 30.0) -> None:
        producer, _ = self._require_started()
        remaining = await asyncio.to_thread(producer.flush, timeout_s)
        if remaining:
            raise KafkaBusError(f"{remaining} messages still undelivered to {self.servers} after {timeout_s}s")

    async def subscribe(
        self,
        topics: Sequence[str],
        group: str,
        handler: Handler,
        options: SubscribeOptions | None = None,
    ) -> KafkaSubscription:
        self._require_started()
        if not topics:
            raise ValueError("subscribe needs at least one topic")
        await self.create_topics(topics)
        sub = KafkaSubscription(
            self.consumer_config(group),
            tuple(topics),
            handler,
            options or SubscribeOptions(),
            poll_timeout_s=self._poll_timeout_s,
            on_stopped=self._forget,
        )
        try:
            await sub.begin()
        except KafkaException as exc:
            raise KafkaBusError(f"cannot subscribe group {group!r} to {list(topics)}: {exc.args[0].str()}") from exc
        self._subscriptions.append(sub)
        return sub

    def _forget(self, sub: KafkaSubscription) -> None:
        if sub in self._subscriptions:
            self._subscriptions.remove(sub)


@dataclass(frozen=True, slots=True)
class _Record:
    topic: str
    value: bytes
    key: bytes | None
    headers: list[tuple[str, str | bytes | None]] | None
    done: asyncio.Future[None]


def _settle(done: asyncio.Future[None], err: KafkaError | None, topic: str) -> None:
    if done.done():
        return
    if err is None:
        done.set_result(None)
    else:
        done.set_exception(KafkaBusError(f"delivery to {topic!r} failed: {err.str()}"))
