"""The embedded chdb backend: write, read back, idempotent redelivery, filters, schema reconciliation, retention."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nwdaf.lib.storage.backends import RecordQuery, StorageConfigError, open_backend
from nwdaf.lib.storage.backends.mergetree import MergeTreeBackend
from nwdaf.lib.storage.schema import SCHEMA_VERSION, RowError

pytestmark = pytest.mark.unit

NOW = time.time()


def usage(i: int, *, supi: str = "imsi-1", snssai: str = "1-000001", age_s: float = 0.0) -> dict[str, object]:
    return {"ts": NOW - age_s - i, "supi": supi, "ue_ip": "10.0.0.1", "snssai": snssai, "dnn": "internet",
            "app_id": "web", "granularity": "PER_APPLICATION", "ul_bytes": 100 + i, "reports": 1}


async def count(backend: MergeTreeBackend, table: str, **kw: object) -> int:
    return len(await backend.query(table, RecordQuery(limit=10_000, **kw)))  # type: ignore[arg-type]


async def test_write_then_read_back_newest_first(chdb: MergeTreeBackend) -> None:
    rows = [usage(i) for i in range(5)]
    assert await chdb.write("upf_usage", rows, "batch-1") == 5
    got = await chdb.query("upf_usage", RecordQuery(supi="imsi-1", limit=3))
    assert [r["ul_bytes"] for r in got] == [100, 101, 102]
    assert got[0]["ts"] == pytest.approx(NOW)
    assert got[0]["flow"] is None  # absent tag comes back as None
    assert got[0]["dl_bytes"] is None


async def test_redelivered_batch_adds_no_duplicates(chdb: MergeTreeBackend) -> None:
    rows = [{k: v for k, v in usage(i).items() if k != "reports"} for i in range(4)]
    for _ in range(3):
        await chdb.write("upf_usage_reports", rows, "topic/envelope-1")
    assert await count(chdb, "upf_usage_reports") == 4
    await chdb.write("upf_usage_reports", rows, "topic/envelope-2")  # a different batch is new data
    assert await count(chdb, "upf_usage_reports") == 8


async def test_count_sees_each_record_once(chdb: MergeTreeBackend) -> None:
    rows = [{k: v for k, v in usage(i).items() if k != "reports"} for i in range(3)]
    assert await chdb.count("upf_usage_reports") == 0
    for _ in range(2):
        await chdb.write("upf_usage_reports", rows, "topic/envelope-1")
    assert await chdb.count("upf_usage_reports") == 3


async def test_filters_by_supi_slice_and_time(chdb: MergeTreeBackend) -> None:
    await chdb.write("upf_usage", [usage(0, supi="imsi-1"), usage(1, supi="imsi-2", snssai="2"),
                                   usage(0, supi="imsi-1", age_s=3600)], "b")
    assert await count(chdb, "upf_usage", supi="imsi-2") == 1
    assert await count(chdb, "upf_usage", snssai="1-000001") == 2
    start = datetime.fromtimestamp(NOW - 60, UTC)
    assert await count(chdb, "upf_usage", start=start) == 2
    assert await count(chdb, "upf_usage", end=start) == 1
    assert await count(chdb, "upf_usage", supi="imsi-1", start=start, end=start + timedelta(seconds=120)) == 1


async def test_supi_with_quotes_is_a_parameter_not_sql(chdb: MergeTreeBackend) -> None:
    await chdb.write("upf_usage", [usage(0, supi="nai-o'brien")], "b")
    assert await count(chdb, "upf_usage", supi="nai-o'brien") == 1
    assert await count(chdb, "upf_usage", supi="x' OR '1'='1") == 0


async def test_every_warehouse_table_round_trips(chdb: MergeTreeBackend) -> None:
    await chdb.write("ue_features", [{"window_start": NOW, "window_end": NOW + 60, "host": "10.0.0.1",
                                      "supi": "imsi-1", "features": {"flows": 2.0, "syn": None}}], "f")
    await chdb.write("flow_records", [{"start_ts": NOW, "proto": "udp", "src_ip": "a", "dst_ip": "b",
                                       "dst_port": 53, "bytes_total": 99}], "r")
    await chdb.write("analytics_results", [{"ts": NOW, "event": "ABNORMAL_BEHAVIOUR", "supi": "imsi-1",
                                            "window_start": NOW - 60, "window_end": NOW, "score": 0.5}], "a")
    (features,) = await chdb.query("ue_features", RecordQuery(supi="imsi-1"))
    assert features["features"] == {"flows": 2.0, "syn": None}
    (flow,) = await chdb.query("flow_records", RecordQuery())
    assert (flow["proto"], flow["dst_port"], flow["bytes_total"], flow["src_port"]) == ("udp", 53, 99, None)
    (result,) = await chdb.query("analytics_results", RecordQuery(supi="imsi-1"))
    assert (result["event"], result["score"], result["ratio"]) == ("ABNORMAL_BEHAVIOUR", 0.5, None)


async def test_bad_row_is_refused_before_anything_is_written(chdb: MergeTreeBackend) -> None:
    with pytest.raises(RowError, match="ul_bytes"):
        await chdb.write("upf_usage", [usage(0), {**usage(1), "ul_bytes": -1}], "b")
    assert await count(chdb, "upf_usage") == 0
    with pytest.raises(RowError, match="unknown table"):
        await chdb.write("nope", [usage(0)], "b")


async def test_migration_is_idempotent_and_adds_missing_columns(chdb: MergeTreeBackend) -> None:
    assert chdb.uses_ttl
    chdb.reconcile_schema()
    chdb.reconcile_schema()
    versions = chdb._engine.execute(f"SELECT count() FROM {chdb.database}.schema_version")
    assert versions == [(1,)]
    assert chdb.schema_version() == SCHEMA_VERSION
    chdb._engine.execute(f"ALTER TABLE {chdb.database}.flow_records DROP COLUMN label_detail")
    chdb.reconcile_schema()
    columns = {r[0] for r in chdb._engine.execute(
        f"SELECT name FROM system.columns WHERE database = '{chdb.database}' AND table = 'flow_records'")}
    assert "label_detail" in columns


async def test_ttl_follows_the_configured_retention(chdb: MergeTreeBackend) -> None:
    def ttl() -> str:
        return str(chdb._engine.execute(
            f"SELECT engine_full FROM system.tables WHERE database = '{chdb.database}' AND name = 'upf_usage'")[0][0])

    assert "toIntervalDay(30)" in ttl()
    chdb.retention_days = 7
    chdb.reconcile_schema()
    assert "toIntervalDay(7)" in ttl()


async def test_retention_counts_from_ingestion_so_old_rows_are_stored(chdb: MergeTreeBackend) -> None:
    """A recording from 2011 written today is kept: the TTL is on ``ingested_at``, not on the row's time."""
    old = 1_313_000_000.0
    rows = [{"start_ts": old + i, "proto": "tcp", "src_ip": "147.32.84.165", "dst_ip": "a"} for i in range(50)]
    assert await chdb.write("flow_records", rows, "b") == 50
    chdb._engine.execute(f"OPTIMIZE TABLE {chdb.database}.flow_records FINAL")  # a merge applies the TTL
    assert await chdb.count("flow_records") == 50
    ttl = str(chdb._engine.execute(f"SELECT engine_full FROM system.tables WHERE database = '{chdb.database}' "
                                   "AND name = 'flow_records'")[0][0])
    assert "TTL ingested_at + toIntervalDay(30)" in ttl


async def test_a_table_of_schema_1_moves_its_ttl_to_ingestion(chdb: MergeTreeBackend) -> None:
    db = chdb.database
    chdb._engine.execute(f"DROP TABLE {db}.upf_usage")
    chdb._engine.execute(f"CREATE TABLE {db}.upf_usage (ts Float64, supi String, ul_bytes UInt64, record_id UInt64) "
                         "ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMMDD(toDateTime(toUInt32(ts))) "
                         "ORDER BY (supi, ts, record_id) TTL toDateTime(toUInt32(ts)) + INTERVAL 30 DAY")
    chdb.reconcile_schema()
    engine = str(chdb._engine.execute(
        f"SELECT engine_full FROM system.tables WHERE database = '{db}' AND name = 'upf_usage'")[0][0])
    assert "TTL ingested_at + toIntervalDay(30)" in engine
    columns = {r[0] for r in chdb._engine.execute(
        f"SELECT name FROM system.columns WHERE database = '{db}' AND table = 'upf_usage'")}
    assert "ingested_at" in columns


async def test_a_newer_schema_is_refused(chdb: MergeTreeBackend) -> None:
    chdb._engine.execute(f"INSERT INTO {chdb.database}.schema_version SELECT 99, now(), 'future'")
    with pytest.raises(Exception, match="newer than this build"):
        chdb.reconcile_schema()


async def test_second_chdb_path_in_one_process_is_a_clear_error(chdb: MergeTreeBackend, tmp_path: Path) -> None:
    other = open_backend(f"chdb://{tmp_path / 'other'}")
    with pytest.raises(StorageConfigError, match="one embedded database per process"):
        await other.start()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///x.db", "unknown storage url scheme"),
        ("chdb://", "names no path"),
        ("chdb:///tmp/x?retention_days=0", "retention_days must be >= 1"),
        ("chdb:///tmp/x?retention_days=abc", "not a whole number"),
        ("chdb:///tmp/x?database=drop;table", "letters, digits"),
        ("clickhouse:///db", "names no host"),
        ("clickhouse://h:notaport/db", "Port"),
        ("influxdb://:8086/db", "names no host"),
    ],
)
def test_bad_urls_name_the_problem(url: str, message: str) -> None:
    with pytest.raises(StorageConfigError, match=message):
        open_backend(url)


def test_passwords_and_tokens_stay_out_of_the_backend_url() -> None:
    assert open_backend("clickhouse://nwdaf:s3cret@127.0.0.1:9000/db").url == "clickhouse://nwdaf@127.0.0.1:9000/db"
    assert open_backend("influxdb://127.0.0.1:8086/db?token=tok&rp=x").url == "influxdb://127.0.0.1:8086/db?token=***&rp=x"
    assert open_backend("chdb:///var/lib/nwdaf").url == "chdb:///var/lib/nwdaf"


def test_query_rejects_naive_times_reversed_ranges_and_huge_limits() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        RecordQuery(start=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="before end"):
        RecordQuery(start=datetime(2025, 1, 2, tzinfo=UTC), end=datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="limit"):
        RecordQuery(limit=0)
