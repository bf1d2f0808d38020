"""Per-slice / per-DNN features: normalised to ``slice_features`` rows, stored by the sink on chdb and read back;
and the whole path from a UPF notification through the processor and the sink."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.support.polling import wait_until

from nwdaf.lib.storage.backends import RecordQuery
from nwdaf.lib.storage.backends.mergetree import MergeTreeBackend
from nwdaf.lib.storage.schema import SLICE_FEATURES, encode_row
from nwdaf.nf.processor.config import ProcessorSettings
from nwdaf.nf.processor.processor import Processor
from nwdaf.nf.storage.config import SinkSettings
from nwdaf.nf.storage.normalise import slice_feature_rows
from nwdaf.nf.storage.sink import StorageSink
from nwdaf.platform.bus import InMemoryBus, Message, encode, topics
from nwdaf.platform.events import NF_NOTIFICATION, SLICE_FEATURE_BATCH, NfNotification, SliceFeatureBatch

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC).timestamp()


def _batch(**columns: list[Any]) -> SliceFeatureBatch:
    base: dict[str, list[Any]] = {
        "scope": ["snssai", "dnn", "snssai_dnn"], "snssai": ["1-00000A", None, "1-00000A"],
        "dnn": [None, "internet", "internet"], "flows": [3.0, 2.0, 2.0], "active_ues": [2.0, 2.0, 2.0],
        "ul_pkts": [17.0, None, math.nan],
    }
    return SliceFeatureBatch(window_start=T0, window_end=T0 + 10, columns={**base, **columns})


def test_rows_carry_the_window_scope_keys_and_feature_map() -> None:
    rows = slice_feature_rows(_batch())
    assert [(r["scope"], r["snssai"], r["dnn"]) for r in rows] == [
        ("snssai", "1-00000a", None), ("dnn", None, "internet"), ("snssai_dnn", "1-00000a", "internet")]
    assert rows[0]["features"] == {"flows": 3.0, "active_ues": 2.0, "ul_pkts": 17.0}
    assert rows[2]["features"]["ul_pkts"] is None  # NaN is stored as null
    assert all((r["window_start"], r["window_end"]) == (T0, T0 + 10) for r in rows)
    for i, row in enumerate(rows):
        encode_row(SLICE_FEATURES, {**row, "record_id": i})


def test_rows_without_scope_or_with_text_features_are_refused() -> None:
    with pytest.raises(ValueError, match="has no scope"):
        slice_feature_rows(_batch(scope=["snssai", None, "dnn"]))
    with pytest.raises(ValueError, match=r"'flows' .* is not numeric"):
        slice_feature_rows(_batch(flows=["3", 2.0, 2.0]))


async def test_sink_stores_slice_features_once_and_reads_them_back(chdb: MergeTreeBackend) -> None:
    bus = InMemoryBus()
    await bus.start()
    sink = StorageSink(bus, chdb, chdb, SinkSettings(consumers=1, max_delay_s=0.05))
    raw = encode(_batch(), type_=SLICE_FEATURE_BATCH, source="processor")
    await sink.handle(Message(topics.SLICE_FEATURES, raw, partition=0, offset=3))
    await sink.handle(Message(topics.SLICE_FEATURES, raw, partition=0, offset=3))  # redelivered
    await bus.close()
    stored = await chdb.query("slice_features", RecordQuery(limit=100))
    assert len(stored) == 3
    assert sink.stats.messages == 2
    (slice1,) = [r for r in stored if r["scope"] == "snssai"]
    assert (slice1["snssai"], slice1["dnn"], slice1["window_end"]) == ("1-00000a", None, T0 + 10)
    assert slice1["features"] == {"flows": 3.0, "active_ues": 2.0, "ul_pkts": 17.0}
    by_slice = await chdb.query("slice_features", RecordQuery(snssai="1-00000a", limit=100))
    assert sorted(r["scope"] for r in by_slice) == ["snssai", "snssai_dnn"]


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def _notification(t: float) -> dict[str, Any]:
    def item(ue: str, supi: str, dnn: str, flow: str, ul: int, dl: int) -> dict[str, Any]:
        return {"eventType": "USER_DATA_USAGE_MEASURES", "ueIpv4Addr": ue, "supi": supi, "dnn": dnn,
                "snssai": {"sst": 1, "sd": "000001"}, "startTime": _iso(t - 2), "timeStamp": _iso(t),
                "userDataUsageMeasurements": [{"flowInfo": {"flowDescription": flow}, "volumeMeasurement": {
                    "ulVolume": f"{ul} B", "dlVolume": f"{dl} B", "totalVolume": f"{ul + dl} B",
                    "ulNbOfPackets": 10, "dlNbOfPackets": 10, "totalNbOfPackets": 20}}]}

    return {"notificationItems": [
        item("10.45.0.2", "imsi-001010000000002", "internet", "permit out 6 from 10.45.0.2 50000 to 1.1.1.1 443",
             1000, 9000),
        item("10.45.0.3", "imsi-001010000000003", "ims", "permit out 17 from 10.45.0.3 5060 to 10.70.0.1 5060",
             400, 600),
    ]}


async def test_processor_to_warehouse(chdb: MergeTreeBackend) -> None:
    bus = InMemoryBus()
    await bus.start()
    sink = StorageSink(bus, chdb, chdb, SinkSettings(consumers=1, max_delay_s=0.05))
    await sink.start()
    proc = Processor(bus, ProcessorSettings(window_s=10))
    note = NfNotification(source="upf-ee", received_at=datetime.now(UTC), body=_notification(T0))
    await proc.on_message(Message(topics.UPF_EE_NOTIFICATIONS, encode(note, type_=NF_NOTIFICATION)))

    async def stored() -> bool:
        return sink.stats.rows.get("slice_features", 0) == proc.stats.slice_feature_rows > 0

    await wait_until(stored, interval_s=0.02, message="the window's slice features in the warehouse")
    await sink.stop()
    await bus.close()
    rows = {(r["scope"], r["dnn"]): r for r in await chdb.query("slice_features", RecordQuery(limit=100))}
    assert set(rows) == {("snssai", None), ("dnn", "internet"), ("dnn", "ims"), ("snssai_dnn", "internet"),
                         ("snssai_dnn", "ims")}
    slice1 = rows[("snssai", None)]
    assert slice1["snssai"] == "1-000001"
    assert (slice1["window_start"], slice1["window_end"]) == (T0 - 10, T0)
    assert slice1["features"]["active_ues"] == 2.0
    assert slice1["features"]["total_bytes"] == 11000.0
    assert rows[("dnn", "ims")]["features"]["ul_bytes"] == 400.0
