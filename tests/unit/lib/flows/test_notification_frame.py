"""The columnar NotificationData decoder: the storage sink's row-by-row reading and the processor's flow rows come
out of it unchanged, and what it cannot read is listed with a reason, never dropped unsaid."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
from tests.support.upf_load import UpfLoad, measurement_count

from nwdaf.lib.flows.convert import flow_rows
from nwdaf.lib.flows.notification import MEASUREMENT_SCHEMA, NotificationDecoder, measurements_frame
from nwdaf.nf.storage.normalise import usage_rows
from nwdaf.platform.events import NfNotification

pytestmark = pytest.mark.unit

T = "2025-01-01T00:00:10Z"


def _mixed_body() -> dict[str, Any]:
    """Per-flow (IPv4, IPv6, port ranges, ``any``), per-application and per-session measurements, throughput and
    throughput statistics, an item without measurements."""
    flows = [
        {"flowInfo": {"flowDescription": "permit out 6 from 93.184.216.34 443 to 10.45.0.2 51000",
                      "flowDirection": "DOWNLINK"},
         "volumeMeasurement": {"ulVolume": "1.5 kB", "dlVolume": "30 kB", "totalVolume": "31.5 kB",
                               "ulNbOfPackets": 10, "dlNbOfPackets": 25, "totalNbOfPackets": 35},
         "throughputMeasurement": {"ulThroughput": "1.2 Kbps", "dlThroughput": "24 Kbps",
                                   "ulPacketThroughput": "10 pps", "dlPacketThroughput": "25 pps"}},
        {"flowInfo": {"flowDescription": "permit out ip from any 1000-2000 to 10.0.0.0/8"},
         "volumeMeasurement": {"totalVolume": "1.2345 kB"},
         "throughputStatisticsMeasurement": {"ulAverageThroughput": "1 Mbps", "dlAverageThroughput": "2.5 Mbps",
                                             "ulAveragePacketThroughput": "1 kpps"}},
        {"appId": "video", "volumeMeasurement": {"ulVolume": "2 MB", "dlVolume": "1 GB"}},
        {"volumeMeasurement": {"totalVolume": "10 B", "totalNbOfPackets": 1}},
    ]
    v6 = [{"flowInfo": {"flowDescription": "permit out 17 from 2606:4700::1111 53 to 2001:db8:5::7 41000"},
           "volumeMeasurement": {"ulVolume": "300 B", "dlVolume": "5 kB", "ulNbOfPackets": 3, "dlNbOfPackets": 5}}]
    return {"correlationId": "c-1", "notificationItems": [
        {"eventType": "USER_DATA_USAGE_MEASURES", "ueIpv4Addr": "10.45.0.2", "supi": "imsi-1", "gpsi": "msisdn-1",
         "dnn": "internet", "snssai": {"sst": 1, "sd": "0000AB"}, "timeStamp": T,
         "startTime": "2025-01-01T00:00:08Z", "userDataUsageMeasurements": flows},
        {"eventType": "QOS_MONITORING", "ueIpv4Addr": "10.45.0.3", "timeStamp": T},
        {"eventType": "USER_DATA_USAGE_MEASURES", "ueIpv6Prefix": "2001:db8:5::/64", "supi": "imsi-2",
         "snssai": {"sst": 2}, "dnn": "ims", "timeStamp": "2025-01-01T00:00:11.500+00:00",
         "userDataUsageMeasurements": v6},
    ]}


def _note(body: dict[str, Any]) -> NfNotification:
    return NfNotification(source="upf-ee", received_at=datetime.now(UTC), body=body)


def _bodies() -> list[dict[str, Any]]:
    return [_mixed_body(), *UpfLoad.build(30, 3).notifications(2, 1_750_000_000, 40)]


@pytest.mark.parametrize("index", range(4))
def test_the_columns_are_the_storage_sinks_rows(index: int) -> None:
    body = _bodies()[index]
    want = usage_rows(_note(body))
    got = measurements_frame(body)
    assert got.bad == []
    assert got.ignored_items == want.ignored_items
    rows = got.frame.to_dicts()
    assert len(rows) == len(want.reports)
    for row, expected in zip(rows, want.reports, strict=True):
        assert {k: row[k] for k in expected} == expected


def test_the_processor_flow_rows_are_the_ue_first_rows() -> None:
    rows = flow_rows(measurements_frame(_mixed_body()).frame).to_dicts()
    assert [(r["src_ip"], r["src_port"], r["dst_ip"], r["dst_port"], r["proto"]) for r in rows] == [
        ("10.45.0.2", 51000, "93.184.216.34", 443, "tcp"), ("any", 0, "10.0.0.0", 0, "ip"),
        ("2001:db8:5::7", 41000, "2606:4700::1111", 53, "udp")]
    assert [(r["bytes_fwd"], r["bytes_bwd"], r["pkts_fwd"], r["pkts_bwd"]) for r in rows] == [
        (1500, 30000, 10, 25), (0, 0, 0, 0), (300, 5000, 3, 5)]
    assert [(r["start_ts"], r["duration_s"], r["snssai"]) for r in rows] == [
        (1735689608.0, 2.0, "1-0000ab"), (1735689608.0, 2.0, "1-0000ab"), (1735689611.5, 0.0, "2")]


def test_upf_load_bodies_decode_whole() -> None:
    bodies = UpfLoad.build(20, 5).notifications(3, 1_750_000_000, 30)
    decoder = NotificationDecoder()
    frames = [decoder(b).frame for b in bodies]
    assert sum(f.height for f in frames) == measurement_count(bodies)
    assert all(f.schema == MEASUREMENT_SCHEMA for f in frames)


def test_unreadable_measurements_are_listed_and_the_rest_kept() -> None:
    body = _mixed_body()
    items = body["notificationItems"]
    flows = items[0]["userDataUsageMeasurements"]
    flows[0]["flowInfo"]["flowDescription"] = "deny all"
    flows[2]["volumeMeasurement"]["ulVolume"] = "2 XB"
    flows[3]["volumeMeasurement"]["totalNbOfPackets"] = "1"
    flows.append("not an object")
    items.append({"eventType": "USER_DATA_USAGE_MEASURES", "supi": "imsi-3", "timeStamp": "yesterday",
                  "userDataUsageMeasurements": [{"volumeMeasurement": {"totalVolume": "1 B"}}] * 2})
    items.append(["not", "an", "item"])
    got = measurements_frame(body)
    assert got.frame.height == 2  # the range flow of item 0 and the IPv6 flow of item 2
    where = {(b.item, b.measurement): b.reason for b in got.bad}
    assert set(where) == {(0, 0), (0, 2), (0, 3), (0, 4), (3, 0), (3, 1), (4, None)}
    assert where[(0, 0)].startswith("flowDescription")
    assert where[(0, 2)].startswith("ul_bytes")
    assert "totalNbOfPackets" in where[(0, 3)] or "total_packets" in where[(0, 3)]
    assert "timeStamp" in where[(3, 0)]
    assert got.frame["measurement"].to_list() == [1, 0]


def test_an_empty_or_odd_body_gives_an_empty_frame() -> None:
    assert measurements_frame({}).frame.schema == MEASUREMENT_SCHEMA
    odd = measurements_frame({"notificationItems": "x"})
    assert odd.frame.is_empty()
    assert len(odd.bad) == 1
    assert flow_rows(odd.frame).is_empty()
    assert isinstance(flow_rows(measurements_frame(_mixed_body()).frame), pl.DataFrame)
