"""One conversion of UPF per-flow usage to rows: the processor's rows of the UPF's NotificationData and the
offline rows of the data plane's own report (pcap detection, training) agree, S-NSSAI and DNN included."""

from __future__ import annotations

import polars as pl
import pytest

from nwdaf.lib.dataplane import PacketBatch, SessionTable, Snssai, UsageAccounting, UsageReport
from nwdaf.lib.flows.convert import notification_frame, notification_rows, ue_identity
from nwdaf.lib.flows.upf_usage import report_rows
from nwdaf.nf.upf.reports import EventSpec, ReportContext, event_items, pack
from nwdaf.nf.upf.usage import Level, level_usage
from nwdaf.platform.models import EventType, MeasurementType
from nwdaf.platform.models.upf_ee import NotificationItem

pytestmark = pytest.mark.unit

T0 = 1_700_000_000 * 10**9
V4_UE, V6_UE = "10.45.0.2", "2001:db8:5::7"


def _report() -> tuple[SessionTable, UsageReport]:
    sessions = SessionTable()
    sessions.establish("imsi-001010000000001", 1, ue_ipv4=V4_UE, snssai=Snssai(1, "0000AB"), dnn="internet")
    sessions.establish("imsi-001010000000002", 1, ue_ipv6_prefix="2001:db8:5::/64", snssai=Snssai(2), dnn="ims")
    flows = [  # (src, dst, sport, dport, proto, length, packets)
        (V4_UE, "93.184.216.34", 40000, 443, 6, 1000, 4), ("93.184.216.34", V4_UE, 443, 40000, 6, 500, 2),
        (V4_UE, "8.8.8.8", 5353, 53, 17, 100, 1),
        (V6_UE, "2606:4700::1111", 41000, 443, 6, 1000, 3), ("2606:4700::1111", V6_UE, 443, 41000, 6, 1000, 5),
    ]
    rows = [(f, i) for f in flows for i in range(f[6])]
    batch = PacketBatch.from_lists(
        ts_ns=[T0 + k * 1_000_000 for k in range(len(rows))], src=[f[0] for f, _ in rows],
        dst=[f[1] for f, _ in rows], sport=[f[2] for f, _ in rows], dport=[f[3] for f, _ in rows],
        proto=[f[4] for f, _ in rows], length=[f[5] for f, _ in rows])
    acct = UsageAccounting(sessions, start_ns=T0)
    acct.process(batch)
    return sessions, acct.snapshot_and_reset_period(T0 + 10**9)


def _upf_notification(sessions: SessionTable, report: UsageReport) -> dict[str, object]:
    """What the UPF sends for this report to a PER_FLOW volume subscription (its own report builder)."""
    spec = EventSpec(EventType.USER_DATA_USAGE_MEASURES, frozenset({MeasurementType.VOLUME_MEASUREMENT}), Level.FLOW)
    ctx = ReportContext(report.start_ns, report.end_ns, sessions.sessions, frozenset())
    items = event_items(spec, level_usage(report, Level.FLOW), ctx, 100)
    (note,) = pack(items, "corr-1", 1000)
    return note


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("src_ip", "src_port", "dst_ip", "dst_port")


def test_processor_and_offline_rows_of_one_report_agree() -> None:
    sessions, report = _report()
    live = _sorted(notification_frame(_upf_notification(sessions, report)))
    offline = _sorted(report_rows(report, sessions))
    assert live.schema == offline.schema
    identity = ["src_ip", "src_port", "dst_ip", "dst_port", "proto", "supi", "snssai", "dnn"]
    assert live.select(identity).rows() == offline.select(identity).rows()
    assert live.select("snssai", "dnn").rows() == [("1-0000ab", "internet"), ("1-0000ab", "internet"),
                                                   ("2", "ims")]
    counts = ["pkts_fwd", "pkts_bwd", "bytes_fwd", "bytes_bwd", "start_ts", "end_ts"]
    assert live.select(counts).rows() == offline.select(counts).rows()
    assert offline.filter(pl.col("src_ip") == V6_UE).select("pkts_fwd", "pkts_bwd").row(0) == (3, 5)


def test_a_flow_written_downlink_wise_in_an_ipv6_prefix_puts_the_ue_first() -> None:
    body = {"notificationItems": [{
        "eventType": "USER_DATA_USAGE_MEASURES", "ueIpv6Prefix": "2001:db8:5::/64", "supi": "imsi-2",
        "snssai": {"sst": 2}, "dnn": "ims", "timeStamp": "2025-01-01T00:00:10Z", "startTime": "2025-01-01T00:00:00Z",
        "userDataUsageMeasurements": [{
            "flowInfo": {"flowDescription": f"permit out 6 from 2606:4700::1111 443 to {V6_UE} 41000"},
            "volumeMeasurement": {"ulVolume": "3 kB", "dlVolume": "5 kB", "ulNbOfPackets": 3, "dlNbOfPackets": 5}}],
    }]}
    (row,) = notification_rows(body)
    assert (row["src_ip"], row["src_port"], row["dst_ip"], row["dst_port"]) == (V6_UE, 41000, "2606:4700::1111", 443)
    assert (row["bytes_fwd"], row["pkts_bwd"], row["snssai"], row["dnn"]) == (3000, 5, "2", "ims")


def test_ue_identity_is_the_same_from_the_wire_and_from_the_model() -> None:
    wire = {"eventType": "USER_DATA_USAGE_MEASURES", "ueIpv4Addr": V4_UE, "supi": "imsi-1", "dnn": "internet",
            "snssai": {"sst": 1, "sd": "0000AB"}, "timeStamp": "2025-01-01T00:00:10Z"}
    expected = {"supi": "imsi-1", "gpsi": None, "ue_ip": V4_UE, "snssai": "1-0000ab", "dnn": "internet"}
    assert ue_identity(wire) == expected
    assert ue_identity(NotificationItem.model_validate(wire)) == expected
