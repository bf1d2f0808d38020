"""The storage sink as its own process on Kafka + ClickHouse, SIGKILLed mid-stream and restarted: every record is
stored exactly once (the bus redelivers what was not committed; idempotent writes collapse the redelivery)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from tests.support import storage_data as data
from tests.support.kafka import KafkaBroker
from tests.support.polling import wait_until_sync
from tests.support.servers import ServerInfo

from nwdaf.platform.bus import topics
from nwdaf.platform.bus.namespace import NamespacedBus

pytestmark = [pytest.mark.integration, pytest.mark.kafka]

MESSAGES = 600
ROWS_PER_MESSAGE = 100
TOTAL = MESSAGES * ROWS_PER_MESSAGE


def clickhouse_scalar(server: ServerInfo, sql: str) -> int:
    resp = httpx.get(server.http_url, params={"query": sql}, timeout=10)
    if resp.status_code != 200:
        if "doesn't exist" in resp.text:  # the sink has not created its schema yet
            return 0
        resp.raise_for_status()
    return int(resp.text.strip())


def stored(server: ServerInfo, database: str) -> tuple[int, int]:
    """(rows after FINAL, distinct record ids) in the warehouse's flow_records table."""
    final = clickhouse_scalar(server, f"SELECT count() FROM {database}.flow_records FINAL")
    distinct = clickhouse_scalar(server, f"SELECT uniqExact(record_id) FROM {database}.flow_records")
    return final, distinct


class SinkProcess:
    """``nwdaf --config CFG run storage`` in its own process group, stopped (or killed) by PID."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config, self.log = config, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        exe = Path(sys.executable).with_name("nwdaf")
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([str(exe), "--config", str(self.config), "run", "storage"],
                                         stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.proc = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@pytest.fixture
def sink(tmp_path: Path, kafka_broker: KafkaBroker, clickhouse_server: ServerInfo,
         test_database: str) -> Iterator[tuple[SinkProcess, str]]:
    namespace = f"crash-{uuid.uuid4().hex[:8]}."
    config = {
        "data_dir": str(tmp_path / "run"),
        "bus": {"url": f"kafka://{kafka_broker.bootstrap}", "namespace": namespace},
        "nwdaf_sbi": {"port": 0},
        "storage": {"timeseries_url": clickhouse_server.url_for(test_database),
                    "warehouse_url": clickhouse_server.url_for(test_database),
                    "sink": {"consumers": 4, "max_rows": 2000, "max_delay_s": 0.05}},
    }
    path = tmp_path / "nwdaf.yaml"
    path.write_text(yaml.safe_dump(config))
    process = SinkProcess(path, tmp_path / "sink.log")
    try:
        yield process, namespace
    finally:
        process.stop()
        httpx.post(clickhouse_server.http_url, params={"query": f"DROP DATABASE IF EXISTS {test_database}"}, timeout=10)


async def publish_all(bootstrap: str, namespace: str) -> None:
    from nwdaf.platform.bus.kafka import KafkaBus

    bus = NamespacedBus(KafkaBus(bootstrap, partitions=4, client_id="crash-test"), namespace)
    await bus.start()
    try:
        at = data.now_utc()
        supis = [f"imsi-00101{i % 40:010d}" for i in range(MESSAGES)]
        await asyncio.gather(*(
            bus.publish(topics.FLOW_RECORDS,
                        data.flow_records_message(at + timedelta(seconds=i), ROWS_PER_MESSAGE, supi=supi),
                        key=supi.encode())
            for i, supi in enumerate(supis)
        ))
        await bus.flush()
    finally:
        await bus.close()


def wait_for(check: Callable[[], bool], what: str, timeout_s: float, process: SinkProcess) -> None:
    """Wait for ``check``, failing at once if the sink process exits meanwhile."""

    def holds() -> bool:
        if check():
            return True
        if not process.alive():
            pytest.fail(f"the sink process exited while waiting for {what}; see {process.log}:\n"
                        + process.log.read_text()[-3000:])
        return False

    wait_until_sync(holds, timeout_s=timeout_s, interval_s=0.02, message=what)


def test_sink_killed_mid_stream_stores_every_record_exactly_once(
    sink: tuple[SinkProcess, str], kafka_broker: KafkaBroker, clickhouse_server: ServerInfo, test_database: str
) -> None:
    process, namespace = sink
    asyncio.run(publish_all(kafka_broker.bootstrap, namespace))
    process.start()
    wait_for(lambda: stored(clickhouse_server, test_database)[1] > 0, "the first stored rows", 60, process)
    process.kill()
    at_kill = stored(clickhouse_server, test_database)[1]
    assert 0 < at_kill < TOTAL, f"the kill was not mid-stream ({at_kill} of {TOTAL} rows stored); raise MESSAGES"

    process.start()
    wait_for(lambda: stored(clickhouse_server, test_database)[1] >= TOTAL, f"all {TOTAL} rows", 120, process)
    time.sleep(1.0)  # anything still redelivered after the count was reached would show up now
    final, distinct = stored(clickhouse_server, test_database)
    assert (final, distinct) == (TOTAL, TOTAL)
    per_message = clickhouse_scalar(
        clickhouse_server,
        f"SELECT count() FROM (SELECT supi, start_ts, count() AS n FROM {test_database}.flow_records FINAL "
        f"GROUP BY supi, start_ts HAVING n != {ROWS_PER_MESSAGE})",
    )
    assert per_message == 0  # every published batch is there with all of its rows, none twice
