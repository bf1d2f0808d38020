"""The same storage checks against the real servers: write, read back, redeliver without duplicates, schema and
retention (counted from ingestion; ClickHouse 18.16 has no TTL: rows ingested before the cutoff are deleted;
InfluxDB: retention policy, old points refused and counted)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from tests.support.polling import wait_until
from tests.support.servers import ServerInfo

from nwdaf.lib.storage.backends import RecordQuery, StorageBackend
from nwdaf.lib.storage.backends.influxdb import InfluxDbBackend
from nwdaf.lib.storage.backends.mergetree import MergeTreeBackend
from nwdaf.lib.storage.schema import SCHEMA_VERSION, RowError

pytestmark = pytest.mark.integration
NOW = time.time()


def point(i: int, *, supi: str = "imsi-001010000000001", snssai: str = "1-000001", age_s: float = 0.0,
          flow: str = "") -> dict[str, Any]:
    return {"ts": NOW - age_s - i, "supi": supi, "ue_ip": "10.45.0.2", "snssai": snssai, "dnn": "internet",
            "app_id": "web", "flow": flow, "granularity": "PER_APPLICATION", "ul_bytes": 100 + i, "dl_bytes": 7,
            "ul_throughput_bps": 1.5, "reports": 1}


@pytest.fixture(params=["clickhouse", "influxdb"])
def backend(request: pytest.FixtureRequest) -> StorageBackend:
    instance: StorageBackend = request.getfixturevalue(request.param)
    return instance


async def count(backend: StorageBackend, **kw: Any) -> int:
    return len(await backend.query("upf_usage", RecordQuery(limit=10_000, **kw)))


async def test_write_read_back_and_redeliver_without_duplicates(backend: StorageBackend) -> None:
    rows = [point(i) for i in range(5)]
    for _ in range(3):
        await backend.write("upf_usage", rows, "nwdaf.upf.ee-notifications/envelope-1")
    got = await backend.query("upf_usage", RecordQuery(supi="imsi-001010000000001", limit=100))
    assert len(got) == 5
    assert [r["ul_bytes"] for r in got] == [100, 101, 102, 103, 104]  # newest first
    assert got[0]["ts"] == pytest.approx(NOW, abs=1e-6)
    assert (got[0]["snssai"], got[0]["ul_throughput_bps"], got[0]["dl_packets"]) == ("1-000001", 1.5, None)


async def test_filters_by_slice_and_time(backend: StorageBackend) -> None:
    await backend.write("upf_usage", [point(0), point(0, supi="imsi-2", snssai="2"), point(0, age_s=7200)], "b")
    assert await count(backend, snssai="2") == 1
    assert await count(backend, supi="imsi-001010000000001") == 2
    start = datetime.fromtimestamp(NOW - 60, UTC)
    assert await count(backend, start=start) == 2
    assert await count(backend, supi="imsi-001010000000001", end=start) == 1
    assert await count(backend, supi="x' OR ''='") == 0


async def test_points_of_different_flows_at_one_time_are_distinct(backend: StorageBackend) -> None:
    flows = [point(0, flow=f"permit out 6 from 1.1.1.{i} 443 to 10.45.0.2 5000{i}") for i in range(3)]
    await backend.write("upf_usage", flows, "b")
    assert await count(backend) == 3


async def test_clickhouse_is_the_debian_server_without_ttl(clickhouse: MergeTreeBackend) -> None:
    assert clickhouse.server_version
    assert clickhouse.uses_ttl is (tuple(int(x) for x in clickhouse.server_version.split(".")[:2]) >= (19, 6))


Opener = Callable[[str], Awaitable[StorageBackend]]


async def test_clickhouse_schema_reconciliation_is_idempotent(clickhouse_server: ServerInfo, test_database: str,
                                                              open_started: Opener) -> None:
    url = clickhouse_server.url_for(test_database)
    first = await open_started(url)
    second = await open_started(url)  # a second instance (or a restart) migrates the same database again
    try:
        assert isinstance(second, MergeTreeBackend)
        assert second.schema_version() == SCHEMA_VERSION
        rows = second._engine.execute(f"SELECT count() FROM {test_database}.schema_version")
        assert rows == [(1,)]
        tables = {r[0] for r in second._engine.execute(f"SHOW TABLES FROM {test_database}")}
        assert tables >= {"upf_usage", "upf_usage_reports", "flow_records", "ue_features", "analytics_results"}
    finally:
        await second.close()
        await first.drop_database()  # type: ignore[attr-defined]
        await first.close()


async def test_clickhouse_retention_counts_from_ingestion(clickhouse_server: ServerInfo, test_database: str,
                                                          open_started: Opener) -> None:
    """Old rows just written are kept (a recording); rows ingested before the cutoff are deleted."""
    backend = await open_started(clickhouse_server.url_for(test_database, "retention_days=3"))
    assert isinstance(backend, MergeTreeBackend)
    try:
        await backend.write("flow_records", [
            {"start_ts": NOW, "proto": "tcp", "src_ip": "a", "dst_ip": "b"},
            {"start_ts": NOW - 10 * 86400, "proto": "tcp", "src_ip": "a", "dst_ip": "c"},
        ], "b")
        assert len(await backend.query("flow_records", RecordQuery())) == 2
        if backend.uses_ttl:
            pytest.fail("expected the Debian ClickHouse 18.16 (no TTL); this server enforces retention by TTL")
        await backend.maintain()
        assert len(await backend.query("flow_records", RecordQuery())) == 2
        backend._engine.execute(  # a row stored ten days ago
            f"INSERT INTO {test_database}.flow_records (start_ts, proto, src_ip, dst_ip, record_id, ingested_at) "
            f"SELECT {NOW}, 'tcp', 'a', 'd', 7, toDateTime({int(NOW) - 10 * 86400})")
        assert len(await backend.query("flow_records", RecordQuery())) == 3
        await backend.maintain()
        await wait_until(lambda: len(backend._engine.execute(
            f"SELECT 1 FROM {test_database}.flow_records WHERE dst_ip = 'd'")) == 0, message="the delete mutation")
        assert sorted(r["dst_ip"] for r in await backend.query("flow_records", RecordQuery())) == ["b", "c"]
    finally:
        await backend.drop_database()
        await backend.close()


async def test_influxdb_retention_policy_follows_the_url(influxdb_server: ServerInfo, test_database: str,
                                                        open_started: Opener) -> None:
    backend = await open_started(influxdb_server.url_for(test_database, "retention_days=3"))
    assert isinstance(backend, InfluxDbBackend)
    try:
        async with httpx.AsyncClient(base_url=influxdb_server.http_url) as client:
            resp = await client.get("/query", params={"q": f'SHOW RETENTION POLICIES ON "{test_database}"'})
        policies = {v[0]: v for v in resp.json()["results"][0]["series"][0]["values"]}
        assert policies["nwdaf"][1] == "72h0m0s"
        assert policies["nwdaf"][4] is True  # default policy
        await backend.write("upf_usage", [point(0), point(0, age_s=10 * 86400)], "b")
        assert backend.dropped_beyond_retention == 1
        assert await count(backend) == 1
        assert await backend.schema_version() == SCHEMA_VERSION
        longer = await open_started(influxdb_server.url_for(test_database, "retention_days=5"))
        await longer.close()
        async with httpx.AsyncClient(base_url=influxdb_server.http_url) as client:
            resp = await client.get("/query", params={"q": f'SHOW RETENTION POLICIES ON "{test_database}"'})
        policies = {v[0]: v for v in resp.json()["results"][0]["series"][0]["values"]}
        assert policies["nwdaf"][1] == "120h0m0s"  # altered in place on restart, data kept
        assert await count(backend) == 1
    finally:
        await backend.drop_database()
        await backend.close()


async def test_influxdb_holds_time_series_only(influxdb: InfluxDbBackend) -> None:
    assert not influxdb.supports("flow_records")
    with pytest.raises(RowError, match="time-series tables"):
        await influxdb.write("flow_records", [{"start_ts": NOW}], "b")


async def test_unreachable_server_is_a_storage_error() -> None:
    from nwdaf.lib.storage.backends import StorageError, open_backend

    for url in ("clickhouse://127.0.0.1:9/db", "influxdb://127.0.0.1:9/db"):
        with pytest.raises(StorageError, match=r"127\.0\.0\.1:9\b"):
            await open_backend(url).start()
