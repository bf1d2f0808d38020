"""KafkaBus pieces that need no broker: settings, record conversion, lifecycle errors, the pytest plugin."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from confluent_kafka import TIMESTAMP_CREATE_TIME
from confluent_kafka import Message as KafkaMessage
from tests.support import pytest_plugin
from tests.support.kafka import KafkaBroker, service_script

from nwdaf.platform.bus import BusConfigError, create_bus
from nwdaf.platform.bus.kafka import KafkaBus, KafkaBusError
from nwdaf.platform.bus.kafka_consumer import to_message

pytestmark = pytest.mark.unit


def test_producer_uses_java_partitioner_and_idempotence_and_accepts_overrides() -> None:
    bus = KafkaBus("127.0.0.1:1", producer_config={"linger.ms": 0})
    cfg = bus.producer_config()
    assert cfg["partitioner"] == "murmur2_random"
    assert cfg["enable.idempotence"] is True
    assert cfg["linger.ms"] == 0
    assert cfg["bootstrap.servers"] == "127.0.0.1:1"


def test_consumer_commits_only_explicitly_and_starts_from_earliest() -> None:
    cfg = KafkaBus("127.0.0.1:1", client_id="anlf").consumer_config("nwdaf-anlf")
    assert cfg["group.id"] == "nwdaf-anlf"
    assert cfg["enable.auto.commit"] is False
    assert cfg["auto.offset.reset"] == "earliest"
    assert cfg["client.id"] == "anlf"


@pytest.mark.parametrize(("servers", "partitions"), [("", 4), ("  ", 4), ("127.0.0.1:9092", 0)])
def test_bad_constructor_arguments_are_rejected(servers: str, partitions: int) -> None:
    with pytest.raises(ValueError, match=r"servers|partitions"):
        KafkaBus(servers, partitions=partitions)


def test_factory_builds_kafka_bus_from_url() -> None:
    bus = create_bus("kafka://127.0.0.1:9092,127.0.0.1:9093", partitions=8)
    assert isinstance(bus, KafkaBus)
    assert bus.servers == "127.0.0.1:9092,127.0.0.1:9093"
    with pytest.raises(BusConfigError, match="bootstrap"):
        create_bus("kafka://")


async def test_publish_before_start_says_so() -> None:
    bus = KafkaBus("127.0.0.1:1")
    with pytest.raises(RuntimeError, match="not started"):
        await bus.publish("t", b"v")
    with pytest.raises(RuntimeError, match="not started"):
        await bus.subscribe(["t"], "g", _noop)


async def _noop(msg: object) -> None:
    return None


async def test_start_against_a_closed_port_names_the_server() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        bus = KafkaBus(f"127.0.0.1:{port}", connect_timeout_s=1.0)
        with pytest.raises(KafkaBusError, match=f"127.0.0.1:{port}"):
            await bus.start()


def test_record_conversion_keeps_key_headers_position_and_time() -> None:
    raw = KafkaMessage(
        topic="nwdaf.upf.ee-notifications",
        partition=2,
        offset=41,
        key=b"imsi-1",
        value=b"{}",
        headers=[("traceparent", b"00-ab"), ("empty", None)],
        timestamp=(TIMESTAMP_CREATE_TIME, 1_700_000_000_000),
    )
    msg = to_message(raw)
    assert (msg.topic, msg.partition, msg.offset, msg.key, msg.value) == (
        "nwdaf.upf.ee-notifications",
        2,
        41,
        b"imsi-1",
        b"{}",
    )
    assert msg.headers == {"traceparent": b"00-ab", "empty": b""}
    assert msg.timestamp_ms == 1_700_000_000_000


def test_record_without_value_or_timestamp_becomes_empty_bytes_and_zero() -> None:
    msg = to_message(KafkaMessage(topic="t", partition=0, offset=0))
    assert (msg.value, msg.key, dict(msg.headers), msg.timestamp_ms) == (b"", None, {}, 0)


def test_record_without_position_is_an_error() -> None:
    with pytest.raises(ValueError, match="without a position"):
        to_message(KafkaMessage(value=b"x"))


def test_missing_broker_fails_unless_skipping_is_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NWDAF_SKIP_KAFKA", raising=False)
    with pytest.raises(pytest.fail.Exception, match="no java"):
        pytest_plugin.unavailable("no java")
    monkeypatch.setenv("NWDAF_SKIP_KAFKA", "1")
    with pytest.raises(pytest.skip.Exception, match="no java"):
        pytest_plugin.unavailable("no java")


def test_broker_description_says_real_kafka_version_and_address() -> None:
    broker = KafkaBroker(bootstrap="127.0.0.1:40000", version="4.4.0", pid=123, started_here=True)
    assert broker.describe().startswith("real Apache Kafka 4.4.0 at 127.0.0.1:40000")


def _script(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, str(service_script()), "--state", str(tmp_path / "state.json"), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


def test_script_status_and_stop_without_a_broker(tmp_path: Path) -> None:
    status = _script(tmp_path, "status")
    assert status.returncode == 3
    assert "not running" in status.stdout
    stop = _script(tmp_path, "stop")
    assert stop.returncode == 0
    assert "not running" in stop.stderr


def test_script_refuses_a_non_empty_dir(tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "something").write_text("x")
    result = _script(tmp_path, "start", "--dir", str(busy))
    assert result.returncode == 1
    assert "not empty" in result.stderr
    assert (busy / "something").exists()


def test_kip848_consumer_protocol_leaves_the_heartbeat_to_the_broker() -> None:
    classic = KafkaBus("127.0.0.1:1").consumer_config("g")
    assert classic["heartbeat.interval.ms"] == 1000
    kip848 = KafkaBus("127.0.0.1:1", consumer_config={"group.protocol": "consumer"}).consumer_config("g")
    assert kip848["group.protocol"] == "consumer"
    assert "heartbeat.interval.ms" not in kip848
