"""``dataset:FORMAT:PATH`` sources: crafted flow files replayed through the real pump, session table, accounting and
reporting; Nupf_EventExposure notifications built from the records (per flow, session, application), the flow
initiators learned as UEs, the labels kept by the source and never sent."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.unit.nf.upf.helpers import Subscriber, subscription

from nwdaf.lib.dataplane import SessionTable, UsageAccounting
from nwdaf.nf.upf.appinfo import AppDetectionError
from nwdaf.nf.upf.config import UpfConfig, parse_source
from nwdaf.nf.upf.processor import create_subscription
from nwdaf.nf.upf.reporting import reporting_tick
from nwdaf.nf.upf.service import UpfService, pump
from nwdaf.nf.upf.sources import DatasetSource, open_source
from nwdaf.nf.upf.state import DataClock
from nwdaf.platform.models.upf_ee import CreateEventSubscription

pytestmark = pytest.mark.unit

ZEEK_FIELDS = ("ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "duration", "conn_state",
               "orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes", "label", "detailed-label")
ZEEK_ROWS = [  # not in time order, as Zeek writes a connection when it ends
    ("1700000000.0", "192.168.1.10", "5000", "8.8.8.8", "53", "udp", "0.01", "SF", "1", "60", "1", "120",
     "Benign", "-"),
    ("1700000000.5", "192.168.1.10", "40000", "93.184.216.34", "443", "tcp", "0.4", "SF", "5", "500", "4", "4000",
     "Malicious", "C&C"),
    ("1700000000.2", "192.168.1.11", "41000", "10.0.0.5", "23", "tcp", "-", "S0", "2", "120", "0", "0",
     "Malicious", "PartOfAHorizontalPortScan"),
    ("1700000000.3", "192.168.1.10", "8", "1.1.1.1", "0", "icmp", "0.1", "OTH", "2", "168", "2", "168", "Benign", "-"),
    ("1700000000.6", "192.168.1.11", "41001", "10.0.0.6", "23", "tcp", "-", "OTH", "0", "0", "0", "0",
     "Malicious", "DDoS"),  # no packets: left out
    ("1700000000.7", "2001:db8:1::10", "6000", "2001:db8::123", "123", "udp", "0.2", "SF", "1", "96", "1", "96",
     "Benign", "-"),
]
UE_A, UE_B, UE_C = "192.168.1.10", "192.168.1.11", "2001:db8:1::/64"


@pytest.fixture
def conn_log(tmp_path: Path) -> Path:
    path = tmp_path / "conn.log"
    lines = ["#separator \\x09", "#unset_field\t-", "#fields\t" + "\t".join(ZEEK_FIELDS)]
    path.write_text("\n".join(lines + ["\t".join(row) for row in ZEEK_ROWS]) + "\n", encoding="utf-8")
    return path


async def _replay(upf: UpfService, subscriber: Subscriber, *levels: str) -> list[dict[str, Any]]:
    """Subscribe (any UE, volume) at ``levels``, run the real pump over the whole source, then one report."""
    events = [{"type": "USER_DATA_USAGE_MEASURES", "measurementTypes": ["VOLUME_MEASUREMENT"],
               "granularityOfMeasurement": level} for level in levels]
    await create_subscription(upf.ctx, CreateEventSubscription.model_validate(subscription(eventList=events)))
    assert upf.source is not None
    upf.source.prepare(upf.ctx.sessions)
    await pump(upf.ctx, upf.source, asyncio.Event())
    assert upf.ctx.pump.source_done
    assert await reporting_tick(upf.ctx)
    for channel in list(upf.ctx.notifier.channels.values()):
        await asyncio.wait_for(channel.wait_idle(), 5)
    return [item for note in subscriber.received for item in note["notificationItems"]]


def _ue(item: dict[str, Any]) -> str:
    return str(item.get("ueIpv4Addr") or item["ueIpv6Prefix"])


def _volumes(m: dict[str, Any]) -> tuple[str, str, int, int]:
    v = m["volumeMeasurement"]
    return v["ulVolume"], v["dlVolume"], v["ulNbOfPackets"], v["dlNbOfPackets"]


async def test_zeek_records_are_reported_per_flow_session_and_application(
    make_upf: Callable[..., UpfService], subscriber: Subscriber, conn_log: Path
) -> None:
    upf = make_upf(source=f"dataset:zeek:{conn_log}", learn_sessions=True, notify_backoff_s=0.0)
    items = await _replay(upf, subscriber, "PER_FLOW", "PER_SESSION", "PER_APPLICATION")
    assert [(s.supi, s.ue_ipv4 or s.ue_ipv6_prefix, s.learned) for s in upf.ctx.sessions.sessions] == [
        ("imsi-001010000000001", UE_A, True), ("imsi-001010000000002", UE_B, True),
        ("imsi-001010000000003", UE_C, True)], "the initiators, in order of their first record"
    assert (upf.ctx.pump.packets, upf.ctx.pump.forwarded) == (19, 19)
    rows: dict[str, dict[tuple[str, str], tuple[str, str, int, int]]] = {"flow": {}, "session": {}, "app": {}}
    for item in items:
        for m in item["userDataUsageMeasurements"]:
            kind, key = (("flow", m["flowInfo"]["flowDescription"]) if "flowInfo" in m else
                         ("app", m["appId"]) if "appId" in m else ("session", ""))
            rows[kind][(_ue(item), key)] = _volumes(m)
    assert rows["flow"] == {
        (UE_A, f"permit out 17 from 8.8.8.8 53 to {UE_A} 5000"): ("60 B", "120 B", 1, 1),
        (UE_A, f"permit out 6 from 93.184.216.34 443 to {UE_A} 40000"): ("500 B", "4 kB", 5, 4),
        (UE_A, f"permit out 1 from 1.1.1.1 to {UE_A}"): ("168 B", "168 B", 2, 2),
        (UE_B, f"permit out 6 from 10.0.0.5 23 to {UE_B} 41000"): ("120 B", "0 B", 2, 0),
        (UE_C, "permit out 17 from 2001:db8::123 123 to 2001:db8:1::10 6000"): ("96 B", "96 B", 1, 1),
    }
    assert rows["session"] == {(UE_A, ""): ("728 B", "4.288 kB", 8, 7), (UE_B, ""): ("120 B", "0 B", 2, 0),
                               (UE_C, ""): ("96 B", "96 B", 1, 1)}
    assert rows["app"] == {
        (UE_A, "dns"): ("60 B", "120 B", 1, 1), (UE_A, "https"): ("500 B", "4 kB", 5, 4),
        (UE_A, "icmp"): ("168 B", "168 B", 2, 2), (UE_B, "telnet"): ("120 B", "0 B", 2, 0),
        (UE_C, "ntp"): ("96 B", "96 B", 1, 1)}
    wire = orjson.dumps(subscriber.received).lower()
    assert not any(word in wire for word in (b"label", b"malicious", b"benign", b"c&c")), "labels stay off the wire"
    await upf.ctx.notifier.close_all()


def test_the_source_keeps_labels_per_flow_and_per_host(conn_log: Path) -> None:
    source = DatasetSource(parse_source(f"dataset:zeek:{conn_log}"), 65536, learn_hosts=True)
    assert (source.stats.rows, source.stats.records, source.stats.empty, source.stats.packets) == (6, 5, 1, 19)
    table = SessionTable()
    source.prepare(table)
    acc = UsageAccounting(table)
    for batch in source.batches():
        acc.process(batch)
    report = acc.snapshot_and_reset_period(1_700_000_001 * 10**9)
    labels = source.flow_labels(report.flows)
    by_port = dict(zip(report.flows.remote_port.tolist(), labels.iter_rows(), strict=True))
    assert by_port == {53: ("benign", "Benign"), 443: ("malicious", "C&C"), 0: ("benign", "Benign"),
                       23: ("malicious", "PartOfAHorizontalPortScan"), 123: ("benign", "Benign")}
    assert source.host_labels() == {UE_A: "malicious", UE_B: "malicious", "2001:db8:1::10": "benign"}


BINETFLOW = """StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes,Label
2011/08/18 10:19:13.000000,1.0,icmp,147.32.84.165,0x0008,  ->,8.8.8.8,0x0000,ECO,0,0,4,400,200,flow=From-Botnet-V42-ICMP
2011/08/18 10:19:14.000000,0.5,udp,147.32.84.165,1025,<->,1.2.3.4,53,CON,0,0,3,330,90,flow=From-Botnet-V42-UDP-DNS
2011/08/18 10:19:15.000000,0.0,tcp,147.32.84.191,1026,  ->,5.6.7.8,80,S_,0,0,1,62,62,flow=From-Botnet-V42-TCP-Attempt
2011/08/18 10:19:16.000000,0.0,arp,147.32.84.165,,who,147.32.84.1,,CON,0,,2,120,60,flow=Background-Arp
2011/08/18 10:19:17.000000,0.0,tcp,147.32.84.191,1027,  ->,5.6.7.8,80,S_,0,0,x,62,62,flow=From-Botnet-V42-TCP
"""


def test_binetflow_packets_are_split_by_bytes_and_public_initiators_become_ues(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "capture.binetflow"
    path.write_text(BINETFLOW, encoding="utf-8")
    with caplog.at_level(logging.WARNING, "nwdaf.upf"):
        source = open_source(UpfConfig(source=f"dataset:binetflow:{path}", learn_sessions=True))
    assert isinstance(source, DatasetSource)
    assert any("skipped 1 of 5 rows: column pkts_total: expected a packet count ×1 (line 6)" in r.getMessage()
               for r in caplog.records)
    st = source.stats
    assert (st.rows, st.rows_skipped, st.non_ip, st.records, st.split_estimated, st.packets) == (4, 1, 1, 3, 2, 8)
    assert st.skipped_by_reason == {"column pkts_total: expected a packet count": 1}
    table = SessionTable()
    source.prepare(table)
    assert [s.ue_ipv4 for s in table.sessions] == ["147.32.84.165", "147.32.84.191"]
    acc = UsageAccounting(table)
    for batch in source.batches():
        acc.process(batch)
    f = acc.snapshot_and_reset_period(1_313_662_800 * 10**9).flows
    m = f.measures
    got = {int(f.remote_port[i]): (int(m.ul_packets[i]), int(m.dl_packets[i]), int(m.ul_bytes[i]),
                                   int(m.dl_bytes[i])) for i in range(len(f))}
    # 4 packets, 200 of 400 bytes forward: 2 + 2; 3 packets, 90 of 330 bytes forward: round(0.82) = 1 + 2.
    assert got == {0: (2, 2, 200, 200), 53: (1, 2, 90, 240), 80: (1, 0, 62, 0)}


def test_dataset_source_strings_and_errors(tmp_path: Path) -> None:
    spec = parse_source("dataset:cicflow:/data/cic/*.csv.gz:4")
    assert (spec.kind, spec.flow_format, str(spec.path), spec.speed) == ("dataset", "cicflow", "/data/cic/*.csv.gz", 4)
    for text, needle in (("dataset:pcap:/x", "FORMAT one of binetflow, zeek, cicflow, nfstream"),
                         ("dataset:zeek:", "needs a path"), ("dataset:zeek:/x:0", "speed must be > 0")):
        with pytest.raises(ValueError, match=needle):
            parse_source(text)
    with pytest.raises(FileNotFoundError, match=r"missing\.log"):
        open_source(UpfConfig(source=f"dataset:zeek:{tmp_path / 'missing.log'}"))


def test_app_detection_refuses_a_dataset_source(make_upf: Callable[..., UpfService], conn_log: Path) -> None:
    with pytest.raises(AppDetectionError, match="needs a pcap source"):
        make_upf(source=f"dataset:zeek:{conn_log}", app_detection=True)


def test_a_paced_replay_yields_the_same_packets(conn_log: Path) -> None:
    unpaced = DatasetSource(parse_source(f"dataset:zeek:{conn_log}"), 65536)
    paced = DatasetSource(parse_source(f"dataset:zeek:{conn_log}:1000000"), 65536)
    rows = [sorted(tuple(r.values()) for b in s.batches() for r in b.rows()) for s in (unpaced, paced)]
    assert rows[0] == rows[1]
    assert len(rows[0]) == 19


NFSTREAM = """src_ip,dst_ip,src_port,dst_port,protocol,bidirectional_first_seen_ms,bidirectional_duration_ms,\
src2dst_packets,dst2src_packets,src2dst_bytes,dst2src_bytes,application_name,label
10.45.0.2,93.184.216.34,40000,80,6,1700000000000,1000,3,2,180,3000,HTTP,benign
10.45.0.2,8.8.8.8,5000,53,17,1700000000100,0,1,0,99999999999,0,DNS,dns-tunnel
10.45.0.3,10.45.0.2,6000,7000,17,1700000000200,0,1,1,50,50,Unknown,benign
"""


def test_nfstream_csv_and_records_no_packet_can_carry(tmp_path: Path) -> None:
    path = tmp_path / "flows.csv"
    path.write_text(NFSTREAM, encoding="utf-8")
    source = DatasetSource(parse_source(f"dataset:nfstream:{path}"), 65536, learn_hosts=True)
    st = source.stats
    assert (st.rows, st.records, st.implausible, st.packets, st.bytes) == (3, 2, 1, 7, 3280), \
        "99,999,999,999 bytes in one packet are left out"
    table = SessionTable()
    source.prepare(table)
    acc = UsageAccounting(table)
    for batch in source.batches():
        acc.process(batch)
    s = acc.snapshot_and_reset_period(1_700_000_002 * 10**9).sessions
    got = {table.sessions[int(i)].ue_ipv4: (int(s.measures.ul_packets[k]), int(s.measures.dl_packets[k]))
           for k, i in enumerate(s.session)}
    # 10.45.0.3 <-> 10.45.0.2: both are UEs, so each packet between them is its sender's uplink and its
    # receiver's downlink.
    assert got == {"10.45.0.2": (4, 3), "10.45.0.3": (1, 1)}


async def test_a_recording_waits_for_its_first_subscriber_then_replays_rebased(
    make_upf: Callable[..., UpfService], subscriber: Subscriber, conn_log: Path
) -> None:
    """``upf.replay_start: first_subscription`` holds the recording; ``replay_time: rebased`` moves it to now."""
    upf = make_upf(source=f"dataset:zeek:{conn_log}", learn_sessions=True, notify_backoff_s=0.0)
    upf.ctx.clock = DataClock(live=False, rebase=True)
    assert upf.source is not None
    upf.source.prepare(upf.ctx.sessions)
    stop = asyncio.Event()
    task = asyncio.get_running_loop().create_task(pump(upf.ctx, upf.source, stop))
    await asyncio.sleep(0.2)
    assert upf.ctx.pump.packets == 0  # nobody subscribed yet
    subscribed_at = time.time_ns()
    await create_subscription(upf.ctx, CreateEventSubscription.model_validate(subscription()))
    await asyncio.wait_for(task, 5)
    assert upf.ctx.pump.source_done
    offset = upf.ctx.clock.offset_ns
    assert offset is not None
    assert upf.ctx.clock.recording_ns(upf.ctx.clock.now_ns() or 0) // 10**9 == 1_700_000_000
    assert subscribed_at <= 1_700_000_000 * 10**9 + offset <= time.time_ns()  # the first record: now
