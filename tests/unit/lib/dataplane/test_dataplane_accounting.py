"""Usage accounting: flows, sessions, applications, throughput trends, expiry, eviction, collisions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from nwdaf.lib.dataplane import (
    APPLICATIONS,
    AccountingConfig,
    FlowEnd,
    PacketBatch,
    SessionTable,
    UsageAccounting,
    format_ips,
)
from nwdaf.lib.dataplane.flows import FlowKeys

pytestmark = pytest.mark.unit
S = 1_000_000_000
UE = "10.45.0.2"


def _pkts(rows: list[tuple[float, str, str, int, int, int, int, int]]) -> PacketBatch:
    """rows: (t_s, src, dst, sport, dport, proto, length, flags)."""
    return PacketBatch.from_lists(
        ts_ns=[int(r[0] * S) for r in rows], src=[r[1] for r in rows], dst=[r[2] for r in rows],
        sport=[r[3] for r in rows], dport=[r[4] for r in rows], proto=[r[5] for r in rows],
        length=[r[6] for r in rows], tcp_flags=[r[7] for r in rows])


def _setup(hash_fn: Any = None, **cfg: Any) -> tuple[SessionTable, UsageAccounting]:
    table = SessionTable()
    table.establish("imsi-001010000000001", ue_ipv4=UE)
    table.establish("imsi-001010000000002", ue_ipv4="10.45.0.3")
    return table, UsageAccounting(table, AccountingConfig(**cfg), start_ns=0, hash_fn=hash_fn)


def test_bidirectional_flow_volumes_and_application() -> None:
    _, acc = _setup()
    acc.process(_pkts([(0.1, UE, "93.184.216.34", 40000, 443, 6, 100, 0x02),
                       (0.2, "93.184.216.34", UE, 443, 40000, 6, 1500, 0x12),
                       (0.3, UE, "93.184.216.34", 40000, 443, 6, 52, 0x10),
                       (0.4, UE, "8.8.8.8", 5555, 53, 17, 60, 0),
                       (0.5, "8.8.8.8", UE, 53, 5555, 17, 120, 0)]))
    r = acc.snapshot_and_reset_period(2 * S)
    f = r.flows
    assert len(f) == 2
    order = np.argsort(f.remote_port)
    assert [APPLICATIONS[a] for a in f.app_id[order]] == ["dns", "https"]
    assert format_ips(f.remote_addr[order]) == ["8.8.8.8", "93.184.216.34"]
    assert f.ue_port[order].tolist() == [5555, 40000]
    m = f.measures
    assert m.ul_bytes[order].tolist() == [60, 152]
    assert m.dl_bytes[order].tolist() == [120, 1500]
    assert m.ul_packets[order].tolist() == [1, 2]
    assert m.dl_packets[order].tolist() == [1, 1]
    assert f.tcp_flags[order].tolist() == [0, 0x12]
    assert f.end.tolist() == [FlowEnd.ACTIVE, FlowEnd.ACTIVE]
    s = r.sessions
    assert s.session.tolist() == [0]
    assert (s.measures.ul_bytes[0], s.measures.dl_bytes[0]) == (212, 1620)
    assert s.measures.ul_bps[0] == pytest.approx(212 * 8 / 2)
    assert sorted(APPLICATIONS[a] for a in r.applications.app_id) == ["dns", "https"]


def test_throughput_average_and_peak_over_one_second_bins() -> None:
    _, acc = _setup(bin_s=1.0)
    rows = [(0.5, UE, "1.1.1.1", 1, 9000, 17, 1000, 0)] * 3 + [(1.5, UE, "1.1.1.1", 1, 9000, 17, 1000, 0)]
    rows += [(3.5, "1.1.1.1", UE, 9000, 1, 17, 500, 0)]
    acc.process(_pkts(rows[:2]))
    acc.process(_pkts(rows[2:]))
    r = acc.snapshot_and_reset_period(4 * S)
    m = r.sessions.measures
    assert m.ul_bytes[0] == 4000
    assert m.ul_bps[0] == pytest.approx(4000 * 8 / 4)
    assert m.ul_peak_bps[0] == pytest.approx(3000 * 8)
    assert m.ul_peak_pps[0] == pytest.approx(3)
    assert m.ul_avg_bps[0] == pytest.approx(4000 * 8 / 4)  # active from bin 0 to bin 3
    assert m.dl_peak_bps[0] == pytest.approx(500 * 8)
    r2 = acc.snapshot_and_reset_period(5 * S)
    assert len(r2.sessions.session) == 0
    assert r2.start_ns == 4 * S


def test_released_session_traffic_is_not_accounted() -> None:
    table, acc = _setup()
    table.release(supi="imsi-001010000000001")
    acc.process(_pkts([(0.1, UE, "1.1.1.1", 1, 2, 17, 100, 0), (0.2, "10.45.0.3", "1.1.1.1", 1, 2, 17, 70, 0)]))
    r = acc.snapshot_and_reset_period(S)
    assert r.sessions.session.tolist() == [1]
    assert r.counters["dropped_packets"] == 1
    assert r.counters["dropped_bytes"] == 100
    assert r.counters["packets"] == 1


def test_tcp_close_and_idle_timeout_expire_flows_but_they_are_reported() -> None:
    _, acc = _setup(idle_timeout_s=5.0, sweep_interval_s=0.5)
    acc.process(_pkts([(0.0, UE, "1.1.1.1", 1000, 80, 6, 60, 0x02), (0.1, "1.1.1.1", UE, 80, 1000, 6, 60, 0x11),
                       (0.2, UE, "1.1.1.1", 1000, 80, 6, 52, 0x11), (0.3, UE, "2.2.2.2", 1001, 80, 6, 60, 0x02),
                       (0.4, "2.2.2.2", UE, 80, 1001, 6, 40, 0x14), (0.5, UE, "3.3.3.3", 7, 7, 17, 40, 0)]))
    acc.process(_pkts([(1.0, UE, "4.4.4.4", 9, 9, 17, 40, 0)]))
    assert acc.flows.live_count == 2
    acc.process(_pkts([(6.0, UE, "4.4.4.4", 9, 9, 17, 40, 0)]))
    assert acc.flows.live_count == 1
    r = acc.snapshot_and_reset_period(7 * S)
    ends = dict(zip(format_ips(r.flows.remote_addr), r.flows.end.tolist(), strict=True))
    assert ends == {"1.1.1.1": FlowEnd.TCP_FIN, "2.2.2.2": FlowEnd.TCP_RST, "3.3.3.3": FlowEnd.IDLE,
                    "4.4.4.4": FlowEnd.ACTIVE}
    assert r.counters["expired_flows"] == 3
    assert int(r.flows.measures.ul_packets.sum() + r.flows.measures.dl_packets.sum()) == 8
    r2 = acc.snapshot_and_reset_period(8 * S)
    assert len(r2.flows) == 0


def test_flow_cap_evicts_least_recent_and_still_reports_them() -> None:
    _, acc = _setup(max_flows=4)
    for i in range(10):
        acc.process(_pkts([(0.1 * i, UE, f"1.1.1.{i}", 1000 + i, 80, 6, 100, 0x10)]))
    assert acc.flows.live_count == 4
    r = acc.snapshot_and_reset_period(2 * S)
    assert len(r.flows) == 10
    assert int((r.flows.end == FlowEnd.EVICTED).sum()) == 6 == r.counters["evicted_flows"]
    assert sorted(format_ips(r.flows.remote_addr[r.flows.end == FlowEnd.ACTIVE])) == [
        f"1.1.1.{i}" for i in range(6, 10)]
    assert int(r.sessions.measures.ul_bytes[0]) == 1000


def _random_traffic(n: int, seed: int) -> PacketBatch:
    rng = np.random.default_rng(seed)
    ul = rng.random(n) < 0.5
    ue = np.array(["10.45.0.2", "10.45.0.3"])[rng.integers(0, 2, n)]
    remote = np.array([f"203.0.113.{i}" for i in range(6)])[rng.integers(0, 6, n)]
    port = rng.integers(1, 5, n)
    return PacketBatch.from_lists(
        ts_ns=np.sort(rng.integers(0, 3 * S, n)).tolist(), src=np.where(ul, ue, remote).tolist(),
        dst=np.where(ul, remote, ue).tolist(), sport=np.where(ul, port, 80).tolist(),
        dport=np.where(ul, 80, port).tolist(), proto=[6] * n, length=rng.integers(40, 1500, n).tolist(),
        tcp_flags=[0x10] * n)


def _flow_table(r: Any) -> dict[tuple[Any, ...], tuple[int, ...]]:
    m = r.flows.measures
    keys = zip(r.flows.session.tolist(), format_ips(r.flows.remote_addr), r.flows.ue_port.tolist(), strict=True)
    vals = zip(m.ul_bytes.tolist(), m.dl_bytes.tolist(), m.ul_packets.tolist(), m.dl_packets.tolist(), strict=True)
    return dict(zip(keys, vals, strict=True))


def test_flows_match_a_per_packet_reference_and_survive_hash_collisions() -> None:
    batch = _random_traffic(3000, seed=1)
    expected: dict[tuple[Any, ...], list[int]] = {}
    for row in batch.rows():
        ul = row["src"].startswith("10.45.")
        key = (0 if (row["src"] if ul else row["dst"]) == "10.45.0.2" else 1, row["dst"] if ul else row["src"],
               row["sport"] if ul else row["dport"])
        acc_row = expected.setdefault(key, [0, 0, 0, 0])
        acc_row[0 if ul else 1] += row["length"]
        acc_row[2 if ul else 3] += 1
    results = []
    for hash_fn in (None, lambda keys: (keys.ue_port.astype(np.uint64) % np.uint64(2))):
        _, acc = _setup(hash_fn)
        for part in np.array_split(np.arange(len(batch)), 7):
            acc.process(batch.take(part))
        results.append(acc.snapshot_and_reset_period(3 * S))
    assert results[0].counters["hash_collisions"] == 0
    assert results[1].counters["hash_collisions"] > 0
    for r in results:
        assert _flow_table(r) == {k: tuple(v) for k, v in expected.items()}


def test_flow_keys_hash_depends_on_every_field() -> None:
    base = FlowKeys(np.array([1], np.int32), np.array([6], np.uint8), np.array([[0, 5]], np.uint64),
                    np.array([10], np.uint16), np.array([[0, 7]], np.uint64), np.array([80], np.uint16))
    variants = [base.hash()[0]]
    for field, value in (("session", [2]), ("proto", [17]), ("ue_port", [11]), ("remote_port", [81])):
        k = FlowKeys(**{**vars(base), field: np.array(value, getattr(base, field).dtype)})
        variants.append(k.hash()[0])
    assert len(set(variants)) == len(variants)


def test_snapshot_before_period_start_is_rejected() -> None:
    _, acc = _setup()
    with pytest.raises(ValueError, match="before the period start"):
        acc.snapshot_and_reset_period(-1)


def test_ue_to_ue_packets_are_the_senders_uplink_and_the_receivers_downlink() -> None:
    """A conversation between two UEs of the UPF: each session's flow carries both directions (the receiver's
    answers are not lost to its peer), and a released receiver drops what is sent to it."""
    table, acc = _setup()
    peer = "10.45.0.3"
    match = acc.process(_pkts([(0.1, peer, UE, 41000, 5060, 6, 60, 0x02),
                               (0.2, UE, peer, 5060, 41000, 6, 60, 0x12),
                               (0.3, peer, UE, 41000, 5060, 6, 500, 0x18)]))
    assert match.delivered.tolist() == [True, True, True]
    r = acc.snapshot_and_reset_period(1 * S)
    assert r.counters["packets"] == 3, "a packet is counted once, accounted to both sessions"
    f, m = r.flows, r.flows.measures
    by_session = {int(s): i for i, s in enumerate(f.session)}
    assert sorted(by_session) == [0, 1]
    assert len(f) == 2
    ue, caller = by_session[0], by_session[1]
    assert (int(f.ue_port[ue]), int(f.remote_port[ue])) == (5060, 41000)
    assert (int(m.ul_packets[ue]), int(m.dl_packets[ue]), int(m.dl_bytes[ue])) == (1, 2, 560)
    assert (int(m.ul_packets[caller]), int(m.dl_packets[caller]), int(m.ul_bytes[caller])) == (2, 1, 560)
    table.release(ip=UE)
    match = acc.process(_pkts([(1.1, peer, UE, 41000, 5060, 6, 60, 0x10)]))
    assert match.forwarded.tolist() == [True]
    assert match.delivered.tolist() == [False]
    assert table.sessions[0].dropped_packets == 1
    r = acc.snapshot_and_reset_period(2 * S)
    assert r.flows.session.tolist() == [1]  # the sender's uplink is counted, nothing reaches the released UE
