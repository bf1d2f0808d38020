"""Processor: UPF per-flow notifications → flow records → per-UE features, on the in-process bus."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
from tests.support.polling import wait_until

from nwdaf.lib.features.host import recent_host_features, unanswered_out_share
from nwdaf.lib.flows.convert import (
    FlowDescriptionError,
    aggregate_flows,
    notification_rows,
    parse_flow_description,
    rows_frame,
)
from nwdaf.nf.processor.config import ProcessorSettings
from nwdaf.nf.processor.processor import Processor, ue_features
from nwdaf.nf.processor.windows import SlidingWindows
from nwdaf.platform.bus import InMemoryBus, Message, decode, encode, topics
from nwdaf.platform.events import (
    NF_NOTIFICATION,
    SLICE_FEATURE_BATCH,
    FlowRecordBatch,
    NfNotification,
    SliceFeatureBatch,
    UeFeatureBatch,
)

pytestmark = pytest.mark.unit


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def _item(ue: str, supi: str, t: float, flows: list[tuple[str, int, int, int, int, int]]) -> dict[str, Any]:
    """flows: (flowDescription, ulBytes, dlBytes, ulPkts, dlPkts, unused)."""
    return {
        "eventType": "USER_DATA_USAGE_MEASURES", "ueIpv4Addr": ue, "supi": supi, "dnn": "internet",
        "snssai": {"sst": 1, "sd": "000001"}, "startTime": _iso(t - 2), "timeStamp": _iso(t),
        "userDataUsageMeasurements": [
            {"flowInfo": {"flowDescription": d},
             "volumeMeasurement": {"ulVolume": f"{ub} B", "dlVolume": f"{db} B", "totalVolume": f"{ub + db} B",
                                   "ulNbOfPackets": up, "dlNbOfPackets": dp, "totalNbOfPackets": up + dp}}
            for d, ub, db, up, dp, _ in flows
        ],
    }


def test_flow_description_both_orientations() -> None:
    assert parse_flow_description("permit out 17 from 10.45.0.2 5000 to 8.8.8.8 53") == (
        "udp", "10.45.0.2", 5000, "8.8.8.8", 53)
    assert parse_flow_description("permit out ip from 10.0.0.0/8 to 1.2.3.4") == ("ip", "10.0.0.0", 0, "1.2.3.4", 0)
    with pytest.raises(FlowDescriptionError):
        parse_flow_description("deny everything")


def test_rows_put_the_ue_first_and_parse_volumes() -> None:
    body = {"notificationItems": [_item("10.45.0.2", "imsi-001010000000001", 100.0, [
        ("permit out 6 from 93.184.216.34 443 to 10.45.0.2 51000", 1500, 30000, 10, 25, 0),
        ("permit out 17 from 10.45.0.2 5353 to 10.45.0.9 53", 100, 200, 1, 1, 0),
    ])]}
    rows = notification_rows(body)
    assert [(r["src_ip"], r["src_port"], r["dst_ip"], r["dst_port"]) for r in rows] == [
        ("10.45.0.2", 51000, "93.184.216.34", 443), ("10.45.0.2", 5353, "10.45.0.9", 53)]
    assert rows[0]["bytes_fwd"] == 1500
    assert rows[0]["bytes_bwd"] == 30000
    assert rows[0]["duration_s"] == pytest.approx(2.0)
    assert rows[0]["snssai"] == "1-000001"


def test_per_session_items_give_no_flow_rows() -> None:
    body = {"notificationItems": [{"eventType": "USER_DATA_USAGE_MEASURES", "ueIpv4Addr": "10.45.0.2",
                                   "timeStamp": _iso(10), "userDataUsageMeasurements": [
                                       {"volumeMeasurement": {"totalVolume": "10 B"}}]}]}
    assert notification_rows(body) == []


def test_aggregate_merges_periods_of_one_flow() -> None:
    f = "permit out 6 from 10.45.0.2 40000 to 1.1.1.1 80"
    rows = rows_frame(notification_rows({"notificationItems": [
        _item("10.45.0.2", "imsi-1", 102.0, [(f, 10, 20, 1, 2, 0)]),
        _item("10.45.0.2", "imsi-1", 104.0, [(f, 5, 5, 1, 1, 0)]),
    ]}))
    flows = aggregate_flows(rows, 95.0)
    assert flows.height == 1
    rec = flows.row(0, named=True)
    assert (rec["bytes_fwd"], rec["bytes_bwd"], rec["pkts_total"]) == (15, 25, 5)
    assert rec["start_ts"] == 95.0
    assert rec["duration_s"] == pytest.approx(4.0)
    assert rec["supi"] == "imsi-1"


def _part(ue: str, supi: str, end: float, flow: str) -> pl.DataFrame:
    return rows_frame(notification_rows({"notificationItems": [_item(ue, supi, end, [(flow, 1, 1, 1, 1, 0)])]}))


def test_window_closes_per_report_time_and_later_parts_of_a_period_update_it() -> None:
    win = SlidingWindows(window_s=4.0)
    f = "permit out 6 from 10.45.0.2 40000 to 1.1.1.1 80"
    g = "permit out 6 from 10.45.0.3 40001 to 1.1.1.1 80"
    first = win.add(_part("10.45.0.2", "s", 102.0, f))
    assert first is not None
    assert (first.start, first.end, first.update) == (98.0, 102.0, False)
    same_time = win.add(_part("10.45.0.3", "t", 102.0, g))  # the second notification of that report period
    assert same_time is not None
    assert (same_time.start, same_time.end) == (98.0, 102.0)
    assert same_time.update
    assert sorted(same_time.flows["src_ip"]) == ["10.45.0.2", "10.45.0.3"]  # features see the whole period
    later = win.add(_part("10.45.0.2", "s", 108.0, f))
    assert later is not None
    assert not later.update
    assert later.flows.height == 1  # the rows ending at 102 fell out of (104, 108]
    assert win.add(_part("10.45.0.2", "s", 107.0, f)) is None  # a late part of an older period: no window


def test_parts_of_one_period_at_epoch_times_update_one_window() -> None:
    win = SlidingWindows(window_s=10.0)
    t = 1_750_000_000.0
    closed = [win.add(_part(f"10.45.0.{i}", f"imsi-{i}", t + period,
                            f"permit out 6 from 10.45.0.{i} 40000 to 1.1.1.1 80"))
              for period in (0.0, 1.0) for i in range(2, 5)]
    assert all(w is not None for w in closed)
    windows = [w for w in closed if w is not None]
    assert [w.update for w in windows] == [False, True, True, False, True, True]
    assert [w.flows.height for w in windows] == [1, 2, 3, 3, 3, 3]


async def _collect(bus: InMemoryBus) -> tuple[list[FlowRecordBatch], list[UeFeatureBatch]]:
    """Lists that fill with the processor's flow-record and UE-feature batches as they are published."""
    flows: list[FlowRecordBatch] = []
    feats: list[UeFeatureBatch] = []

    async def on_flows(m: Message) -> None:
        flows.append(decode(m.value, FlowRecordBatch).payload)

    async def on_feats(m: Message) -> None:
        feats.append(decode(m.value, UeFeatureBatch).payload)

    await bus.subscribe([topics.FLOW_RECORDS], "t1", on_flows)
    await bus.subscribe([topics.UE_FEATURES], "t2", on_feats)
    return flows, feats


def _scan_and_web_message() -> Message:
    """One UPF notification: a bot scanning 59 ports of 20 servers and a web UE with one flow (60 flows)."""
    scan = [(f"permit out 6 from 10.45.0.66 {40000 + p} to 10.61.0.{p % 20 + 1} {p}", 60, 0, 1, 0, 0)
            for p in range(1, 60)]
    body = {"notificationItems": [
        _item("10.45.0.66", "imsi-bot", 200.0, scan),
        _item("10.45.0.2", "imsi-web", 200.0, [("permit out 6 from 10.45.0.2 50000 to 1.1.1.1 443",
                                                 2000, 90000, 30, 70, 0)]),
    ]}
    note = NfNotification(source="upf-ee", received_at=datetime.now(UTC), body=body)
    return Message(topics.UPF_EE_NOTIFICATIONS, encode(note, type_=NF_NOTIFICATION))


async def test_a_window_flow_records_go_out_in_bounded_messages() -> None:
    bus = InMemoryBus()
    proc = Processor(bus, ProcessorSettings(window_s=10, flow_records_per_message=7))
    flows, _ = await _collect(bus)
    await proc.on_message(_scan_and_web_message())
    await wait_until(lambda: sum(b.rows for b in flows) >= 60, message="the window's 60 flow records")
    await bus.close()
    assert sorted(b.rows for b in flows) == [4] + [7] * 8
    ports = [p for b in flows for p in b.columns["dst_port"]]
    assert sorted(ports) == sorted([*range(1, 60), 443])
    assert {(b.window_start, b.window_end) for b in flows} == {(flows[0].window_start, flows[0].window_end)}
    assert proc.stats.flow_records == 60


async def test_a_report_split_over_notifications_updates_the_features_and_stores_flows_once() -> None:
    bus = InMemoryBus()
    proc = Processor(bus, ProcessorSettings(window_s=10))
    flows, feats = await _collect(bus)
    t = 1_750_000_000.0
    for part, ue in enumerate(("10.45.0.2", "10.45.0.3")):  # one report period, two notifications
        body = {"notificationItems": [_item(ue, f"imsi-{part}", t, [(f"permit out 6 from {ue} 4000 to 1.1.1.1 443",
                                                                    10, 10, 1, 1, 0)])]}
        note = NfNotification(source="upf-ee", received_at=datetime.now(UTC), body=body)
        await proc.on_message(Message(topics.UPF_EE_NOTIFICATIONS, encode(note, type_=NF_NOTIFICATION)))
    await wait_until(lambda: len(feats) == 2 and flows, message="two feature batches and the flow records")
    await bus.close()
    assert [sorted(f.columns["supi"]) for f in feats] == [["imsi-0"], ["imsi-0", "imsi-1"]]
    assert [b.rows for b in flows] == [1]  # the window's records went out when it closed; no second copy
    assert proc.stats.flow_records == 1


async def test_processor_publishes_flows_and_ue_features_once() -> None:
    bus = InMemoryBus()
    proc = Processor(bus, ProcessorSettings(window_s=10))
    flows, feats = await _collect(bus)
    msg = _scan_and_web_message()
    await proc.on_message(msg)
    await proc.on_message(msg)  # redelivery of the same envelope
    await wait_until(lambda: flows and feats, message="flow records and features")
    await bus.close()
    assert proc.stats.duplicates == 1
    assert flows[0].rows == 60
    table = pl.DataFrame(feats[0].columns)
    assert set(table["supi"]) == {"imsi-bot", "imsi-web"}
    bot = table.filter(pl.col("supi") == "imsi-bot").row(0, named=True)
    web = table.filter(pl.col("supi") == "imsi-web").row(0, named=True)
    assert bot["distinct_dst_ports"] == 59
    assert web["distinct_dst_ports"] == 1
    assert bot["out_degree"] == 20
    assert web["out_degree"] == 1


def test_ue_features_keep_the_pdu_session_slice_and_dnn() -> None:
    win = SlidingWindows(window_s=10.0)
    item = _item("10.45.0.2", "imsi-1", 102.0, [("permit out 6 from 1.1.1.1 443 to 10.45.0.2 40000", 9, 9, 1, 1, 0)])
    closed = win.add(rows_frame(notification_rows({"notificationItems": [{**item, "snssai": {"sst": 1,
                                                                                               "sd": "0000AB"}}]})))
    assert closed is not None
    row = ue_features(closed, 10.0).row(0, named=True)
    assert (row["host"], row["supi"], row["snssai"], row["dnn"]) == ("10.45.0.2", "imsi-1", "1-0000ab", "internet")


def test_window_carries_the_newest_period_alone() -> None:
    win = SlidingWindows(window_s=10.0)
    web = "permit out 6 from 10.45.0.2 40000 to 1.1.1.1 443"
    flood = [(f"permit out 17 from 10.45.0.2 {5000 + i} to 9.9.9.9 {i + 1}", 512, 0, 1, 0, 0) for i in range(4)]
    win.add(rows_frame(notification_rows({"notificationItems": [_item("10.45.0.2", "s", 102.0,
                                                                      [(web, 100, 900, 2, 6, 0)])]})))
    closed = win.add(rows_frame(notification_rows({"notificationItems": [_item("10.45.0.2", "s", 104.0,
                                                                              [(web, 50, 450, 1, 3, 0), *flood])]})))
    assert closed is not None
    assert closed.flows.height == 5  # the web flow merged over both periods + 4 flood flows
    assert closed.recent is not None
    assert closed.recent_start == 102.0  # the newest report covers (102, 104]
    assert closed.recent.height == 5
    web_recent = closed.recent.filter(pl.col("dst_port") == 443).row(0, named=True)
    assert (web_recent["pkts_fwd"], web_recent["pkts_bwd"]) == (1, 3)  # this period's counters only


def test_unanswered_share_and_recent_features_by_hand() -> None:
    flows = pl.DataFrame({
        "src_ip": ["10.45.0.2"] * 3 + ["10.45.0.3"], "dst_ip": ["9.9.9.9", "9.9.9.9", "1.1.1.1", "1.1.1.1"],
        "pkts_fwd": [300, 100, 100, 10], "pkts_bwd": [0, 0, 50, 10],
    })
    share = dict(unanswered_out_share(flows).iter_rows())
    assert share == {"10.45.0.2": pytest.approx(400 / 500), "10.45.0.3": 0.0}
    period = aggregate_flows(rows_frame(notification_rows({"notificationItems": [_item("10.45.0.2", "s", 104.0, [
        ("permit out 17 from 10.45.0.2 5000 to 9.9.9.9 1", 512, 0, 600, 0, 0),
        ("permit out 6 from 10.45.0.2 40000 to 1.1.1.1 443", 60, 900, 1, 3, 0)])]})), 102.0)
    recent = recent_host_features(period, 2.0).filter(pl.col("host") == "10.45.0.2").row(0, named=True)
    assert recent["recent_s"] == 2.0
    assert (recent["recent_pkts_out"], recent["recent_pkts_in"]) == (601.0, 3.0)
    assert recent["recent_flow_rate"] == 1.0  # 2 flows initiated in 2 s
    assert recent["recent_unanswered_out_share"] == pytest.approx(600 / 601)


async def _slice_batches(settings: ProcessorSettings, bodies: list[dict[str, Any]]) -> tuple[Processor, list[Any]]:
    """Run ``bodies`` through a processor; every envelope it published on the slice-features topic."""
    bus = InMemoryBus()
    proc = Processor(bus, settings)
    got: list[Any] = []

    async def on_slices(m: Message) -> None:
        got.append(decode(m.value, SliceFeatureBatch, type_=SLICE_FEATURE_BATCH))

    await bus.subscribe([topics.SLICE_FEATURES], "t", on_slices)
    for body in bodies:
        note = NfNotification(source="upf-ee", received_at=datetime.now(UTC), body=body)
        await proc.on_message(Message(topics.UPF_EE_NOTIFICATIONS, encode(note, type_=NF_NOTIFICATION)))
    if settings.slice_features:
        await wait_until(lambda: len(got) >= proc.stats.windows, message="slice features of every window")
    else:
        await asyncio.sleep(1.0)  # room for a batch published against the settings to show up
    await bus.close()
    return proc, sorted(got, key=lambda env: env.payload.window_start)  # unkeyed: partitions do not keep order


async def test_processor_publishes_slice_and_dnn_features_each_window() -> None:
    ims = dict(_item("10.45.0.3", "imsi-voice", 200.0, [("permit out 17 from 10.45.0.3 5060 to 10.70.0.1 5060",
                                                           300, 700, 3, 7, 0)]), dnn="ims",
               snssai={"sst": 1, "sd": "000001"})
    body = {"notificationItems": [
        _item("10.45.0.2", "imsi-web", 200.0, [("permit out 6 from 10.45.0.2 50000 to 1.1.1.1 443", 2000, 90000,
                                                 30, 70, 0)]),
        _item("10.45.0.4", "imsi-mail", 200.0, [("permit out 6 from 10.45.0.4 50001 to 2.2.2.2 993", 1000, 1000,
                                                  10, 10, 0)]),
        ims,
    ]}
    later = {"notificationItems": [_item("10.45.0.2", "imsi-web", 202.0, [
        ("permit out 6 from 10.45.0.2 50000 to 1.1.1.1 443", 10, 10, 1, 1, 0)])]}
    proc, got = await _slice_batches(ProcessorSettings(window_s=10), [body, later])
    assert len(got) == proc.stats.windows == 2
    first = got[0].payload
    assert (first.window_start, first.window_end) == (190.0, 200.0)
    table = pl.DataFrame(first.columns)
    assert "window_start" not in table.columns  # the batch carries the window's bounds
    rows = {(r["scope"], r["snssai"], r["dnn"]): r for r in table.iter_rows(named=True)}
    assert set(rows) == {("snssai", "1-000001", None), ("dnn", None, "internet"), ("dnn", None, "ims"),
                         ("snssai_dnn", "1-000001", "internet"), ("snssai_dnn", "1-000001", "ims")}
    slice1 = rows[("snssai", "1-000001", None)]
    assert (slice1["flows"], slice1["active_ues"], slice1["total_bytes"]) == (3, 3, 92000 + 2000 + 1000)
    assert (slice1["ul_bytes"], slice1["dl_bytes"]) == (3300, 91700)
    internet = rows[("dnn", None, "internet")]
    assert (internet["flows"], internet["active_ues"], internet["ul_bps"]) == (2, 2, 3000 * 8 / 10)
    assert rows[("snssai_dnn", "1-000001", "ims")]["active_ues"] == 1
    assert proc.stats.slice_feature_rows == table.height + pl.DataFrame(got[1].payload.columns).height


async def test_slice_features_can_be_switched_off() -> None:
    body = {"notificationItems": [_item("10.45.0.2", "imsi-web", 200.0, [
        ("permit out 6 from 10.45.0.2 50000 to 1.1.1.1 443", 2000, 90000, 30, 70, 0)])]}
    proc, got = await _slice_batches(ProcessorSettings(window_s=10, slice_features=False), [body])
    assert proc.stats.windows == 1
    assert got == []
    assert proc.stats.slice_feature_rows == 0


async def test_beaconing_is_seen_live_across_windows_and_a_persistent_connection_is_not() -> None:
    """Report periods of 2 s for 5 minutes: UE .7 opens a new small connection to one server every 30 s (C&C),
    UE .8 keeps one MQTT connection with a keep-alive every 10 s. The processor's contact history (bounded) gives
    the engine UE .7's beaconing once it has persisted two minutes, and never UE .8."""
    from nwdaf.nf.engines import AbnormalBehaviourEngine

    bus = InMemoryBus()
    proc = Processor(bus, ProcessorSettings(window_s=10))
    _, feats = await _collect(bus)
    t0 = 1_750_000_000.0
    for k in range(150):
        t = t0 + 2.0 * k
        rows = [("permit out 6 from 10.45.0.9 41000 to 93.184.216.34 443", 900, 9000, 8, 9, 0)]
        items = [_item("10.45.0.9", "imsi-9", t, rows)]  # a web session, always there
        if k % 15 == 0:
            items.append(_item("10.45.0.7", "imsi-7", t, [(f"permit out 6 from 10.45.0.7 {42000 + k} to "
                                                            "192.0.2.66 6667", 120, 80, 3, 2, 0)]))
        if k % 5 == 0:
            items.append(_item("10.45.0.8", "imsi-8", t, [("permit out 6 from 10.45.0.8 50008 to 192.0.2.18 1883",
                                                            60, 40, 1, 1, 0)]))
        note = NfNotification(source="upf-ee", received_at=datetime.now(UTC), body={"notificationItems": items})
        await proc.on_message(Message(topics.UPF_EE_NOTIFICATIONS, encode(note, type_=NF_NOTIFICATION)))
    await wait_until(lambda: len(feats) >= 149, message="a feature batch per report period")
    await bus.close()
    engine = AbnormalBehaviourEngine()
    wakeups = [(b.window_end - t0, r.supi) for b in feats for r in engine.evaluate(b)
               if r.abnormal is not None and r.abnormal.excep_id == "UNEXPECTED_WAKEUP"]
    assert {supi for _, supi in wakeups} == {"imsi-7"}
    assert min(t for t, _ in wakeups) <= 160.0  # six contacts 30 s apart: the sixth at 150 s
    assert proc.contacts.contacts.height <= 64 * 3


async def test_unreadable_measurements_are_counted_and_logged_and_the_rest_used(
        caplog: pytest.LogCaptureFixture) -> None:
    bus = InMemoryBus()
    proc = Processor(bus, ProcessorSettings(window_s=10))
    flows, _ = await _collect(bus)
    item = _item("10.45.0.2", "imsi-1", 200.0, [("permit out 6 from 10.45.0.2 4000 to 1.1.1.1 443", 9, 9, 1, 1, 0),
                                                ("permit everything", 1, 1, 1, 1, 0),
                                                ("permit out 6 from 10.45.0.2 4001 to 1.1.1.1 443", 9, 9, 1, 1, 0)])
    item["userDataUsageMeasurements"][2]["volumeMeasurement"]["ulVolume"] = "9 bytes"
    note = NfNotification(source="upf-ee", received_at=datetime.now(UTC), body={"notificationItems": [item]})
    with caplog.at_level("WARNING", logger="nwdaf.processor"):
        await proc.on_message(Message(topics.UPF_EE_NOTIFICATIONS, encode(note, type_=NF_NOTIFICATION)))
    await wait_until(lambda: flows, message="the readable flow's record")
    await bus.close()
    assert proc.stats.bad_rows == 2
    assert [b.columns["src_port"] for b in flows] == [[4000]]
    assert "2 usage measurement(s) left out, 1 used" in caplog.text
    assert "flowDescription" in caplog.text


def test_a_report_over_a_few_milliseconds_counts_as_recent_min_s_for_its_rates() -> None:
    """A replay's UPF on a busy machine can close a report over 20 ms of data time: its three flows are no burst of
    150 flows/s, and the engine must not read them as one (TOO_FREQUENT_SERVICE_ACCESS)."""
    win = SlidingWindows(window_s=10.0)
    flows = [(f"permit out 6 from 93.184.216.34 443 to 10.45.0.2 {40000 + i}", 90, 900, 2, 2, 0) for i in range(3)]
    item = {**_item("10.45.0.2", "imsi-1", 104.0, flows), "startTime": _iso(103.98)}
    closed = win.add(rows_frame(notification_rows({"notificationItems": [item]})))
    assert closed is not None
    assert ue_features(closed, 10.0).row(0, named=True)["recent_flow_rate"] == pytest.approx(150.0, rel=0.01)
    assert ue_features(closed, 10.0, recent_min_s=1.0).row(0, named=True)["recent_flow_rate"] == 3.0
    assert ProcessorSettings().recent_min_s == 1.0
