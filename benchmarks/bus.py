"""Bus benchmark: produce, consume and live end-to-end rates of the in-process bus and real Kafka, and the cost of
serialising the envelope (orjson vs stdlib json vs msgpack).

    .venv/bin/python benchmarks/bus.py [--messages N] [--json OUT] [--backends memory,kafka]

Kafka: uses KAFKA_BOOTSTRAP when set, else starts its own broker with scripts/services/kafka and stops it after.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script: the repo root holds benchmarks.support and tests.support (neither ships in the wheel).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import asyncio
import json
import os
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import orjson
from tests.support.kafka import KafkaBroker, KafkaServer, broker_from_env

from nwdaf.platform.bus import EventBus, InMemoryBus, Message, decode, encode
from nwdaf.platform.events import NF_NOTIFICATION, NfNotification

WINDOW = 1000  # publishes in flight at once
KEYS = 1000  # distinct UEs


def sample_payload(i: int) -> NfNotification:
    return NfNotification(
        source="upf-ee",
        received_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        ue_key=f"imsi-0010100000{i % KEYS:05d}",
        body={"notificationItems": [{"eventType": "USER_DATA_USAGE_MEASURES", "ueIpv4Addr": f"10.45.0.{i % 250}"}]},
    )


@dataclass
class BackendResult:
    backend: str
    messages: int
    produce_msgs_s: float
    consume_msgs_s: float
    group_join_s: float
    e2e_msgs_s: float
    e2e_latency_ms_p50: float
    e2e_latency_ms_p99: float
    roundtrip_ms_p50: float
    roundtrip_ms_p99: float
    broker: str = ""


@dataclass
class CodecResult:
    codec: str
    bytes: int
    encode_us: float
    decode_us: float


@dataclass
class Report:
    messages: int
    envelope_bytes: int
    backends: list[BackendResult] = field(default_factory=list)
    codecs: list[CodecResult] = field(default_factory=list)
    ratios: dict[str, float] = field(default_factory=dict)


async def wait_for(condition: Callable[[], bool], timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark waited too long; is the broker overloaded?")
        await asyncio.sleep(0.001)


async def publish_all(bus: EventBus, topic: str, values: list[bytes], stamp: bool = False) -> None:
    for start in range(0, len(values), WINDOW):
        batch = values[start : start + WINDOW]
        await asyncio.gather(
            *(
                bus.publish(
                    topic,
                    v,
                    key=f"ue-{(start + j) % KEYS}".encode(),
                    headers={"t": str(time.perf_counter_ns()).encode()} if stamp else None,
                )
                for j, v in enumerate(batch)
            )
        )
    await bus.flush()


async def produce_then_consume(bus: EventBus, values: list[bytes]) -> tuple[float, float, float]:
    """(produce msgs/s, consume msgs/s from the first to the last record, group join seconds)."""
    topic, n = f"bench-{uuid.uuid4().hex}", len(values)
    await bus.create_topics([topic])
    t0 = time.perf_counter()
    await publish_all(bus, topic, values)
    produce = n / (time.perf_counter() - t0)
    seen: list[float] = []

    async def handler(msg: Message) -> None:
        seen.append(time.perf_counter())

    t_sub = time.perf_counter()
    sub = await bus.subscribe([topic], f"bench-{uuid.uuid4().hex}", handler)
    await wait_for(lambda: len(seen) >= n)
    await sub.stop()
    consume = (n - 1) / max(seen[-1] - seen[0], 1e-9)
    return produce, consume, seen[0] - t_sub


async def live_end_to_end(bus: EventBus, values: list[bytes]) -> tuple[float, float, float]:
    """Consumer already running while N records are published: (msgs/s, p50 ms, p99 ms)."""
    topic, n = f"bench-{uuid.uuid4().hex}", len(values)
    await bus.create_topics([topic])
    latencies: list[int] = []
    done_at: list[float] = []

    async def handler(msg: Message) -> None:
        latencies.append(time.perf_counter_ns() - int(msg.headers["t"]))
        if len(latencies) == n:
            done_at.append(time.perf_counter())

    sub = await bus.subscribe([topic], f"bench-{uuid.uuid4().hex}", handler)
    await wait_for(lambda: bool(sub.assignment))  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    await publish_all(bus, topic, values, stamp=True)
    await wait_for(lambda: bool(done_at))
    await sub.stop()
    cuts = statistics.quantiles(latencies, n=100)
    return n / (done_at[0] - t0), cuts[49] / 1e6, cuts[98] / 1e6


async def roundtrip(bus: EventBus, value: bytes, rounds: int = 200) -> tuple[float, float]:
    """One record at a time, the next published when the previous was handled: (p50 ms, p99 ms)."""
    topic = f"bench-{uuid.uuid4().hex}"
    await bus.create_topics([topic])
    arrived = asyncio.Event()

    async def handler(msg: Message) -> None:
        arrived.set()

    sub = await bus.subscribe([topic], f"bench-{uuid.uuid4().hex}", handler)
    await wait_for(lambda: bool(sub.assignment))  # type: ignore[attr-defined]
    took: list[float] = []
    for i in range(rounds):
        arrived.clear()
        t0 = time.perf_counter()
        await bus.publish(topic, value, key=f"ue-{i}".encode())
        await arrived.wait()
        took.append((time.perf_counter() - t0) * 1e3)
    await sub.stop()
    cuts = statistics.quantiles(took, n=100)
    return cuts[49], cuts[98]


async def bench_backend(name: str, bus: EventBus, values: list[bytes], broker: str) -> BackendResult:
    await bus.start()
    try:
        await produce_then_consume(bus, values[: min(len(values), 2000)])  # warm-up: JIT, group coordinator
        produce, consume, join = await produce_then_consume(bus, values)
        e2e, p50, p99 = await live_end_to_end(bus, values)
        rt50, rt99 = await roundtrip(bus, values[0])
    finally:
        await bus.close()
    return BackendResult(name, len(values), produce, consume, join, e2e, p50, p99, rt50, rt99, broker)


def time_per_call(fn: Callable[[], object], rounds: int) -> float:
    t0 = time.perf_counter()
    for _ in range(rounds):
        fn()
    return (time.perf_counter() - t0) / rounds * 1e6


def bench_codecs(rounds: int) -> list[CodecResult]:
    payload = sample_payload(7)
    raw = encode(payload, type_=NF_NOTIFICATION, source="collector")
    doc = orjson.loads(raw)
    results = [
        CodecResult(
            "envelope: pydantic + orjson (nwdaf.platform.bus.encode/decode)",
            len(raw),
            time_per_call(lambda: encode(payload, type_=NF_NOTIFICATION, source="collector"), rounds),
            time_per_call(lambda: decode(raw, NfNotification, type_=NF_NOTIFICATION), rounds),
        ),
        CodecResult(
            "codec only: orjson",
            len(raw),
            time_per_call(lambda: orjson.dumps(doc), rounds),
            time_per_call(lambda: orjson.loads(raw), rounds),
        ),
    ]
    std = json.dumps(doc, separators=(",", ":")).encode()
    results.append(
        CodecResult(
            "codec only: stdlib json",
            len(std),
            time_per_call(lambda: json.dumps(doc, separators=(",", ":")).encode(), rounds),
            time_per_call(lambda: json.loads(std), rounds),
        )
    )
    try:
        import msgpack  # type: ignore[import-untyped]
    except ImportError:
        print("msgpack not installed: skipping it (pip install msgpack)", file=sys.stderr)
        return results
    packed = msgpack.packb(doc)
    results.append(
        CodecResult(
            "codec only: msgpack",
            len(packed),
            time_per_call(lambda: msgpack.packb(doc), rounds),
            time_per_call(lambda: msgpack.unpackb(packed), rounds),
        )
    )
    return results


async def run(messages: int, backends: list[str]) -> Report:
    values = [encode(sample_payload(i), type_=NF_NOTIFICATION, source="collector") for i in range(messages)]
    report = Report(messages, int(statistics.mean(len(v) for v in values)))
    if "memory" in backends:
        report.backends.append(await bench_backend("memory", InMemoryBus(partitions=4), values, "in-process"))
    if "kafka" in backends:
        from nwdaf.platform.bus.kafka import KafkaBus

        server: KafkaServer | None = None
        broker: KafkaBroker | None = broker_from_env()
        if broker is None:
            server = KafkaServer()
            broker = server.start()
        try:
            bus = KafkaBus(broker.bootstrap, partitions=4, client_id="bench")
            report.backends.append(await bench_backend("kafka", bus, values, broker.describe()))
        finally:
            if server is not None:
                server.stop()
    by_name = {b.backend: b for b in report.backends}
    if {"memory", "kafka"} <= by_name.keys():
        k, m = by_name["kafka"], by_name["memory"]
        report.ratios = {
            "produce": k.produce_msgs_s / m.produce_msgs_s,
            "consume": k.consume_msgs_s / m.consume_msgs_s,
            "e2e": k.e2e_msgs_s / m.e2e_msgs_s,
        }
    report.codecs = bench_codecs(rounds=max(2000, min(messages, 20000)))
    return report


def print_report(report: Report) -> None:
    print(f"messages: {report.messages}, mean envelope size: {report.envelope_bytes} B")
    print(
        f"{'backend':8} {'produce/s':>11} {'consume/s':>11} {'join s':>7} {'e2e/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'1-by-1 p50':>10} {'p99 ms':>8}"
    )
    for b in report.backends:
        print(
            f"{b.backend:8} {b.produce_msgs_s:11,.0f} {b.consume_msgs_s:11,.0f} {b.group_join_s:7.2f} "
            f"{b.e2e_msgs_s:9,.0f} {b.e2e_latency_ms_p50:8.2f} {b.e2e_latency_ms_p99:8.2f}"
            f" {b.roundtrip_ms_p50:10.2f} {b.roundtrip_ms_p99:8.2f}"
        )
        if b.broker != "in-process":
            print(f"         broker: {b.broker}")
    for what, ratio in report.ratios.items():
        print(f"kafka/memory {what}: {ratio:.3f}")
    print(f"{'serialisation':55} {'bytes':>6} {'encode us':>10} {'decode us':>10}")
    for c in report.codecs:
        print(f"{c.codec:55} {c.bytes:6d} {c.encode_us:10.2f} {c.decode_us:10.2f}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20000, help="records per run (default 20000)")
    parser.add_argument("--json", dest="json_out", default=None, help="also write the figures to this file")
    parser.add_argument("--backends", default="memory,kafka", help="comma-separated: memory,kafka")
    args = parser.parse_args(argv)
    if args.messages < 100:
        parser.error("--messages must be at least 100")
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if unknown := set(backends) - {"memory", "kafka"}:
        parser.error(f"unknown backends {sorted(unknown)}")
    load = os.getloadavg()
    print(f"load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cpus")
    report = asyncio.run(run(args.messages, backends))
    print_report(report)
    if args.json_out:
        with open(args.json_out, "w") as out:
            json.dump(
                {**asdict(report), "python": sys.version.split()[0], "cpus": os.cpu_count(), "loadavg_before": load},
                out,
                indent=2,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
