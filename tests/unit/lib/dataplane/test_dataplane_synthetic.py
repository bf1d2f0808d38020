"""Synthetic scenarios, the pcap writer round trip, dpkt cross-check, walker equivalence, replay pacing."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import dpkt
import numpy as np
import pytest
from tests.support.datasets import datasets_dir

from nwdaf.lib.dataplane import (
    ATTACKS,
    AccountingConfig,
    PacketBatch,
    PcapError,
    PcapReader,
    Scenario,
    SessionTable,
    UsageAccounting,
    format_ip,
    read_pcap,
    replay,
)
from nwdaf.lib.dataplane._walk import walk_pcap_py, walk_pcapng_py
from nwdaf.lib.dataplane._walkers import numba_available

pytestmark = pytest.mark.unit
ALL_ATTACKS = dict.fromkeys(ATTACKS, 1)


def _columns(batch: PacketBatch) -> dict[str, list[int]]:
    names = ("ts_ns", "src", "sport", "dport", "proto", "length", "tcp_flags", "teid")
    return {n: getattr(batch, n).tolist() for n in names}


def test_scenario_is_deterministic_and_independent_of_window_boundaries() -> None:
    a = Scenario.build(benign=6, attackers=ALL_ATTACKS, attack_start_s=1, seed=11)
    b = Scenario.build(benign=6, attackers=ALL_ATTACKS, attack_start_s=1, seed=11)
    whole = a.window(0, 3)
    pieces = list(b.batches(0, 3, step_s=0.5))
    assert _columns(whole) == _columns(PacketBatch.concat(pieces))
    assert np.all(np.diff(whole.ts_ns) >= 0)
    assert _columns(Scenario.build(benign=6, seed=12).window(0, 1)) != _columns(Scenario.build(benign=6,
                                                                                                  seed=11).window(0, 1))


def test_attackers_are_labelled_and_attack_only_after_start() -> None:
    sc = Scenario.build(benign=3, attackers={"udp_flood": 1}, attack_start_s=2, seed=1)
    flooder = next(ue for ue in sc.ues if ue.attack == "udp_flood")
    assert sc.labels() == {**{ue.supi: "benign" for ue in sc.ues[:3]}, flooder.supi: "udp_flood"}
    table = SessionTable()
    sc.establish(table)
    rates = []
    for second in range(4):
        acc = UsageAccounting(table)
        acc.process(sc.window(second, second + 1))
        r = acc.snapshot_and_reset_period(sc.start_ns + (second + 1) * 10**9)
        rates.append(int(r.sessions.measures.ul_packets[r.sessions.session == flooder.index].sum()))
    assert max(rates[:2]) < 100 < 1000 < min(rates[2:])


def test_scan_bot_probes_the_twenty_dn_servers_on_proxy_ports() -> None:
    sc = Scenario.build(benign=0, attackers={"scan": 1}, seed=3)
    batch = sc.window(0, 5)
    dn = (batch.dst[:, 1] & np.uint64(0xFFFFFF00)) == np.uint64(0xC6336400)  # 198.51.100.0/24
    syn = batch.take(np.flatnonzero((batch.tcp_flags == 0x02) & dn))
    assert set(syn.dport.tolist()) == {80, 3128, 8080}
    targets = {format_ip(int(h), int(lo)) for h, lo in syn.dst.tolist()}
    assert targets == {f"198.51.100.{10 + i}" for i in range(20)}
    assert len(syn) > 100


def test_scenario_pcap_round_trip_and_dpkt_agree(tmp_path: Path) -> None:
    sc = Scenario.build(benign=6, attackers=ALL_ATTACKS, attack_start_s=0, seed=5)
    path = tmp_path / "s.pcap"
    n = sc.write_pcap(path, 0, 2)
    batch, stats = read_pcap(path)
    assert stats.records == n == len(batch)
    assert _columns(batch) == _columns(sc.window(0, 2))
    with open(path, "rb") as fh:
        for i, (ts, frame) in enumerate(dpkt.pcap.Reader(fh)):
            ip = dpkt.ethernet.Ethernet(frame).data
            assert int(ts * 10**9) == int(batch.ts_ns[i])
            assert (ip.len, ip.p, ip.src) == (int(batch.length[i]), int(batch.proto[i]),
                                              int(batch.src[i, 1] & 0xFFFFFFFF).to_bytes(4, "big"))
            if ip.p in (6, 17):
                assert (ip.data.sport, ip.data.dport) == (int(batch.sport[i]), int(batch.dport[i]))


def test_gtp_scenario_sessions_match_by_teid(tmp_path: Path) -> None:
    sc = Scenario.build(benign=4, attackers={"cnc": 1}, seed=2, gtp=True)
    path = tmp_path / "n3.pcap"
    sc.write_pcap(path, 0, 2)
    batch, _ = read_pcap(path)
    assert np.all(batch.teid != 0)
    table = SessionTable()
    sc.establish(table)
    acc = UsageAccounting(table, AccountingConfig())
    match = acc.process(batch)
    assert match.forwarded.all()
    expected = [sc.ues[s].teid if d == 1 else sc.ues[s].dl_teid for s, d in zip(match.session, match.direction,
                                                                                  strict=True)]
    assert batch.teid.tolist() == expected


@pytest.mark.skipif(not numba_available(), reason="numba not installed")
def test_walkers_agree_on_valid_truncated_and_corrupted_buffers() -> None:
    from nwdaf.lib.dataplane._walk_numba import walk_pcap_nb, walk_pcapng_nb

    sc = Scenario.build(benign=3, attackers={"cnc": 1}, seed=9)
    f = io.BytesIO()
    from nwdaf.lib.dataplane import write_pcapng

    batch = sc.window(0, 1)
    frames = [(0, int(t), bytes(64)) for t in batch.ts_ns[:200]]
    write_pcapng(f, frames, [(1, 9)])
    ng = np.frombuffer(f.getvalue(), np.uint8)
    pc = np.frombuffer(_pcap_bytes(sc), np.uint8)
    rng = np.random.default_rng(0)
    for trial in range(40):
        cut = int(rng.integers(24, len(pc)))
        data = pc[:cut].copy()
        if trial % 2:
            data[int(rng.integers(24, cut))] ^= 0xFF
        py = walk_pcap_py(data.tobytes(), 24, cut, False, 10_000)
        nb = walk_pcap_nb(data, 24, cut, False, 10_000)
        assert (py[0].tolist(), py[1:]) == (nb[0].tolist(), nb[1:])
        data = ng.copy()
        data[int(rng.integers(0, len(ng)))] ^= 0xFF
        start = 28 + 40  # after the SHB and the IDB
        py_ng = walk_pcapng_py(data.tobytes(), start, len(data), False, 10_000, 0)
        nb_ng = walk_pcapng_nb(data, start, len(data), False, 10_000, 0)
        assert [c.tolist() for c in py_ng[:5]] == [c.tolist() for c in nb_ng[:5]]
        assert py_ng[5:] == nb_ng[5:]


def _pcap_bytes(sc: Scenario) -> bytes:
    from nwdaf.lib.dataplane import write_pcap

    f = io.BytesIO()
    write_pcap(f, sc.window(0, 1))
    return f.getvalue()


def test_replay_paces_by_recorded_time(tmp_path: Path) -> None:
    from nwdaf.lib.dataplane import write_pcap

    path = tmp_path / "r.pcap"
    t0 = 1_700_000_000 * 10**9
    write_pcap(path, PacketBatch.from_lists(ts_ns=[t0, t0 + 10**9, t0 + 3 * 10**9], src=["10.0.0.1"] * 3,
                                            dst=["10.0.0.2"] * 3, sport=[1, 2, 3], dport=[9] * 3, proto=[17] * 3,
                                            length=[28] * 3))
    now = [0.0]
    sleeps: list[float] = []

    def sleep(d: float) -> None:
        sleeps.append(round(d, 6))
        now[0] += d

    out = list(replay(path, speed=2.0, clock=lambda: now[0], sleep=sleep))
    assert [b.sport.tolist() for b in out] == [[1], [2], [3]]
    assert sleeps == [0.5, 1.0]
    assert [b.sport.tolist() for b in replay(path, None)] == [[1, 2, 3]]
    with pytest.raises(ValueError, match="speed"):
        list(replay(path, speed=0))


def _datasets_dir() -> Path:
    return datasets_dir()


SLIPS = {
    "test-cc__test-cc-capture-1.pcap": 7931, "test-cc__test-cc-capture-2.pcap": 1084,
    "test12-icmp-portscan.pcap": 37, "test19-malicious-ssh__malicious-ssh-bruteforce.pcap": 1178,
    "test7-malicious.pcap": 2000, "test8-malicious.pcap": 534,
}


@pytest.mark.parametrize(("name", "count"), SLIPS.items())
def test_real_slips_pcaps_parse_with_readme_counts(name: str, count: int) -> None:
    path = _datasets_dir() / "slips_test_pcaps" / name
    if not path.exists():
        pytest.skip(f"dataset absent: {path} (set NWDAF_DATASETS_DIR)")
    batch, stats = read_pcap(path)
    assert stats.records == count
    assert stats.packets + stats.skipped_total == count
    assert set(stats.skipped) <= {"non_ip"}
    with open(path, "rb") as fh:
        ip_frames = sum(isinstance(dpkt.ethernet.Ethernet(b).data, dpkt.ip.IP | dpkt.ip6.IP6)
                        for _, b in dpkt.pcap.Reader(fh))
    assert len(batch) == ip_frames


def test_reader_accepts_any_binary_stream_and_rejects_bad_sizes() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        PcapReader(io.BytesIO(), batch_size=0)
    data = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    assert list(PcapReader(io.BytesIO(data))) == []
    with pytest.raises(PcapError, match="truncated pcap global header"):
        read_pcap(io.BytesIO(data[:20]))


def test_benchmark_contenders_count_the_same_packets(tmp_path: Path) -> None:
    from benchmarks.support.tap import dpkt_baseline, ours, scapy_baseline

    path = tmp_path / "b.pcap"
    n = Scenario.build(benign=3, attackers={"spam": 1}, seed=4).write_pcap(path, 0, 1)
    assert ours(path)[0] == n
    assert dpkt_baseline(path)[0] == n
    assert scapy_baseline(path, limit=50)[0] == min(50, n)
