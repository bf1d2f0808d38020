"""The sink agent on the in-process bus with the embedded warehouse: every topic lands, nothing twice, nothing lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

import polars as pl
import pytest
from tests.support import storage_data as data
from tests.support.polling import wait_until

from nwdaf.lib.storage import schema
from nwdaf.lib.storage.backends import RecordQuery
from nwdaf.lib.storage.backends.base import StorageError
from nwdaf.lib.storage.backends.mergetree import MergeTreeBackend
from nwdaf.lib.storage.frames import TableFrame
from nwdaf.nf.storage.config import SinkSettings
from nwdaf.nf.storage.sink import StorageSink
from nwdaf.platform.bus import InMemoryBus, Message, topics

pytestmark = pytest.mark.unit


async def rows(backend: MergeTreeBackend, table: str, **kw: Any) -> list[dict[str, Any]]:
    return await backend.query(table, RecordQuery(limit=10_000, **kw))


@pytest.fixture
async def bus() -> AsyncIterator[InMemoryBus]:
    instance = InMemoryBus(partitions=4)
    await instance.start()
    yield instance
    await instance.close()


@pytest.fixture
async def sink(bus: InMemoryBus, chdb: MergeTreeBackend) -> AsyncIterator[StorageSink]:
    agent = StorageSink(bus, chdb, chdb, SinkSettings(consumers=2, max_delay_s=0.05))
    await agent.start()
    yield agent
    await agent.stop()


async def test_every_topic_lands_in_its_table(bus: InMemoryBus, chdb: MergeTreeBackend, sink: StorageSink) -> None:
    at = data.now_utc()
    await bus.publish(topics.UPF_EE_NOTIFICATIONS, data.upf_message(at), key=data.SUPI.encode())
    await bus.publish(topics.FLOW_RECORDS, data.flow_records_message(at, 3), key=data.SUPI.encode())
    await bus.publish(topics.UE_FEATURES, data.ue_features_message(at), key=data.SUPI.encode())
    await bus.publish(topics.ANALYTICS_RESULTS, data.analytics_message(at), key=data.SUPI.encode())

    async def landed() -> bool:
        return sink.stats.messages == 4 and bus.stats.delivered == 4
    await wait_until(landed, interval_s=0.02, message="4 messages handled and committed")

    assert len(await rows(chdb, "upf_usage", supi=data.SUPI)) == 2
    reports = await rows(chdb, "upf_usage_reports", snssai=data.SNSSAI_KEY)
    assert sorted(r["granularity"] for r in reports) == ["PER_APPLICATION", "PER_FLOW"]
    assert len(await rows(chdb, "flow_records", supi=data.SUPI)) == 3
    (vector,) = await rows(chdb, "ue_features", supi=data.SUPI)
    assert vector["features"] == {"flows": 12.0, "distinct_dst": 3.0, "syn_ratio": None}
    assert vector["window_end"] - vector["window_start"] == 60
    (result,) = await rows(chdb, "analytics_results", supi=data.SUPI)
    assert result["exception_id"] == "SUSPICION_OF_DDOS_ATTACK"
    assert sink.stats.ignored_items == 1
    assert sink.stats.rows == {"upf_usage": 2, "upf_usage_reports": 2, "flow_records": 3, "ue_features": 1,
                               "analytics_results": 1}


async def test_a_redelivered_message_adds_no_duplicates(chdb: MergeTreeBackend) -> None:
    agent = StorageSink(InMemoryBus(), chdb, chdb, SinkSettings(consumers=1))
    msg = Message(topics.FLOW_RECORDS, data.flow_records_message(data.now_utc(), 5), partition=1, offset=7)
    for _ in range(3):
        await agent.handle(msg)  # consumers=1: each call writes before returning
    assert len(await rows(chdb, "flow_records")) == 5
    assert agent.stats.messages == 3
    assert agent.stats.rows["flow_records"] == 5, "written counts the message once: stored == written - refused"
    assert agent.stats.rewritten["flow_records"] == 10


async def test_undecodable_messages_are_rejected_and_counted_without_blocking(
    bus: InMemoryBus, chdb: MergeTreeBackend, sink: StorageSink
) -> None:
    at = data.now_utc()
    bad_volume = data.upf_message(at).replace(b'"1000 B"', b'"1000 XB"')
    for raw in (b"not json", data.analytics_message(at), bad_volume):
        await bus.publish(topics.FLOW_RECORDS if raw != bad_volume else topics.UPF_EE_NOTIFICATIONS, raw)
    await bus.publish(topics.FLOW_RECORDS, data.flow_records_message(at, 2))

    async def done() -> bool:
        return sink.stats.rejected == 3 and sink.stats.messages == 1
    await wait_until(done, interval_s=0.02, message="3 rejected and 1 stored message")
    assert len(await rows(chdb, "flow_records")) == 2
    assert await rows(chdb, "upf_usage_reports") == []


async def test_each_row_is_encoded_once(bus: InMemoryBus, chdb: MergeTreeBackend,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # Row dicts (flow records) are encoded row by row, UPF usage is checked as columns, once per message and
    # table; the writer inserts what the sink checked without checking it again.
    calls: list[str] = []
    encode, check = schema.encode_row, TableFrame.check.__func__  # type: ignore[attr-defined]

    def counting(tbl: schema.Table, row: Mapping[str, Any]) -> tuple[Any, ...]:
        calls.append(tbl.name)
        return encode(tbl, row)

    def counting_check(cls: type[TableFrame], tbl: schema.Table, frame: pl.DataFrame, batch_id: str) -> TableFrame:
        calls.append(f"{tbl.name} x{frame.height} columns")
        return check(cls, tbl, frame, batch_id)  # type: ignore[no-any-return]
    monkeypatch.setattr(schema, "encode_row", counting)
    monkeypatch.setattr(TableFrame, "check", classmethod(counting_check))
    agent = StorageSink(bus, chdb, chdb, SinkSettings(consumers=1, max_delay_s=0.01))
    await agent.start()
    try:
        await bus.publish(topics.FLOW_RECORDS, data.flow_records_message(data.now_utc(), 3))
        await bus.publish(topics.UPF_EE_NOTIFICATIONS, data.upf_message(data.now_utc()))

        async def stored() -> bool:
            return agent.stats.messages == 2
        await wait_until(stored, interval_s=0.02, message="2 messages stored")
    finally:
        await agent.stop()
    assert sorted(calls) == ["flow_records"] * 3 + ["upf_usage x2 columns", "upf_usage_reports x2 columns"]
    assert len(await rows(chdb, "flow_records")) == 3
    assert len(await rows(chdb, "upf_usage_reports")) == 2


class FlakyWriter:
    """Fails its first ``failures`` writes (a warehouse outage), then delegates."""

    def __init__(self, inner: MergeTreeBackend, failures: int) -> None:
        self.inner = inner
        self.failures = failures

    async def write(self, table: str, rows: Sequence[Mapping[str, Any]], batch_id: str) -> int:
        if self.failures > 0:
            self.failures -= 1
            raise StorageError("warehouse unavailable (test outage)")
        return await self.inner.write(table, rows, batch_id)


async def test_a_failed_write_is_redelivered_and_stored_once(bus: InMemoryBus, chdb: MergeTreeBackend) -> None:
    flaky = FlakyWriter(chdb, failures=2)
    agent = StorageSink(bus, chdb, flaky, SinkSettings(consumers=1))
    await agent.start()
    try:
        await bus.publish(topics.ANALYTICS_RESULTS, data.analytics_message(data.now_utc()))

        async def committed() -> bool:
            return bus.stats.delivered == 1
        await wait_until(committed, interval_s=0.02, message="the message to be committed after the outage")
    finally:
        await agent.stop()
    assert bus.stats.handler_failures == 2
    assert agent.stats.write_failures == 2
    assert len(await rows(chdb, "analytics_results")) == 1


async def test_messages_in_flight_are_written_together(chdb: MergeTreeBackend) -> None:
    agent = StorageSink(InMemoryBus(), chdb, chdb, SinkSettings(consumers=3, max_delay_s=30))
    at = data.now_utc()
    msgs = [Message(topics.FLOW_RECORDS, data.flow_records_message(at + timedelta(minutes=i), 2), offset=i)
            for i in range(3)]
    # The third handler completes the set of members, so the batch is written without waiting 30 s.
    await asyncio.gather(*(agent.handle(m) for m in msgs))
    assert agent.stats.flushes == 1
    assert len(await rows(chdb, "flow_records")) == 6


async def test_a_full_buffer_is_written_at_once(chdb: MergeTreeBackend) -> None:
    agent = StorageSink(InMemoryBus(), chdb, chdb, SinkSettings(consumers=4, max_rows=3, max_delay_s=30))
    await agent.handle(Message(topics.FLOW_RECORDS, data.flow_records_message(data.now_utc(), 3)))
    assert agent.stats.flushes == 1


async def test_timer_writes_a_batch_that_no_other_member_joins(chdb: MergeTreeBackend) -> None:
    agent = StorageSink(InMemoryBus(), chdb, chdb, SinkSettings(consumers=4, max_delay_s=0.05))
    await agent.start()
    try:
        await agent.handle(Message(topics.UE_FEATURES, data.ue_features_message(data.now_utc())))
    finally:
        await agent.stop()
    assert agent.stats.flushes == 1
    assert len(await rows(chdb, "ue_features")) == 1


async def test_sustained_load_keeps_batches_full(chdb: MergeTreeBackend) -> None:
    bus = InMemoryBus(partitions=3)
    await bus.start()
    agent = StorageSink(bus, chdb, chdb, SinkSettings(consumers=3, max_delay_s=30))
    await agent.start()
    try:
        keys = {bus.partition_for(topics.FLOW_RECORDS, f"ue-{i}".encode()): f"ue-{i}".encode() for i in range(50)}
        assert len(keys) == 3
        at = data.now_utc()
        for i in range(30):  # ten messages per partition, published before the members start handling them
            await bus.publish(topics.FLOW_RECORDS, data.flow_records_message(at + timedelta(minutes=i), 1),
                              key=keys[i % 3])

        async def all_committed() -> bool:
            return bus.stats.delivered == 30
        await wait_until(all_committed, interval_s=0.02, message="30 messages committed")
        # Each write waits for one message of every member (the 30 s timer never fires): 10 writes of 3.
        assert agent.stats.flushes == 10
    finally:
        await agent.stop()
        await bus.close()
    assert len(await rows(chdb, "flow_records")) == 30


class RetentionWriter:
    """A time-series backend that refuses points older than its retention, as InfluxDB does (counting them)."""

    def __init__(self, cutoff: float) -> None:
        self.cutoff = cutoff
        self.url = "influxdb://test/retention"
        self.dropped_beyond_retention = 0
        self.stored = 0

    async def write(self, table: str, rows: Sequence[Mapping[str, Any]], batch_id: str) -> int:
        old = sum(1 for r in rows if float(r["ts"]) < self.cutoff)
        self.dropped_beyond_retention += old
        self.stored += len(rows) - old
        return len(rows)


async def test_rows_a_backend_refuses_for_their_age_are_counted_logged_and_exported(
        bus: InMemoryBus, chdb: MergeTreeBackend, caplog: pytest.LogCaptureFixture) -> None:
    from prometheus_client import CollectorRegistry

    from nwdaf.nf.storage.metrics import SinkCollector

    at = data.now_utc()
    timeseries = RetentionWriter(cutoff=(at - timedelta(days=30)).timestamp())
    agent = StorageSink(bus, timeseries, chdb, SinkSettings(consumers=1, max_delay_s=0.01))
    await agent.start()
    try:
        await bus.publish(topics.UPF_EE_NOTIFICATIONS, data.upf_message(at - timedelta(days=5000)))
        await bus.publish(topics.UPF_EE_NOTIFICATIONS, data.upf_message(at))
        await wait_until(lambda: agent.stats.messages == 2, interval_s=0.02, message="both messages handled")
    finally:
        await agent.stop()
    assert agent.stats.rows["upf_usage"] == 4
    assert agent.stats.refused == {"upf_usage": 2}
    assert timeseries.stored == agent.stats.rows["upf_usage"] - agent.stats.refused["upf_usage"]
    assert "2 of 2 upf_usage rows were refused by influxdb://test/retention" in caplog.text
    registry = CollectorRegistry()
    registry.register(SinkCollector(agent.stats))
    assert registry.get_sample_value("nwdaf_storage_rows_refused_total",
                                     {"table": "upf_usage", "reason": "beyond_retention"}) == 2
    assert registry.get_sample_value("nwdaf_storage_rows_written_total", {"table": "upf_usage"}) == 4


async def test_a_usage_value_out_of_range_rejects_its_message_only(
        chdb: MergeTreeBackend, caplog: pytest.LogCaptureFixture) -> None:
    # Checked per column: the notification from 2200 (beyond the stored times) is rejected with its position and
    # the column named; the good one in the same batch is stored.
    agent = StorageSink(InMemoryBus(), chdb, chdb, SinkSettings(consumers=2, max_delay_s=30))
    at = data.now_utc()
    late = data.upf_message(at.replace(year=2200))
    msgs = [Message(topics.UPF_EE_NOTIFICATIONS, late, partition=0, offset=3),
            Message(topics.UPF_EE_NOTIFICATIONS, data.upf_message(at), partition=1, offset=4),
            Message(topics.UPF_EE_NOTIFICATIONS, data.upf_message(at, supi="imsi-2"), partition=2, offset=5)]
    # The two good messages complete the batch of the two members (no 30 s wait): one write of both.
    await asyncio.gather(*(agent.handle(m) for m in msgs))
    assert agent.stats.flushes == 1
    assert agent.stats.rejected == 1
    assert agent.stats.messages == 2
    assert "rejected nwdaf.upf.ee-notifications[0]@3" in caplog.text
    assert "ts is not epoch seconds between 1970 and 2106" in caplog.text
    assert len(await rows(chdb, "upf_usage_reports")) == 4
    assert agent.stats.rows == {"upf_usage": 4, "upf_usage_reports": 4}
