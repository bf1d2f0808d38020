"""Flow records replayed as packets: exact counters per direction, interleaving, time order, bounded batches."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from nwdaf.lib.dataplane import PacketBatch, parse_ips
from nwdaf.lib.dataplane.flowreplay import FlowRecords, replay_records

pytestmark = pytest.mark.unit

S = 10**9
T0 = 1_700_000_000 * S


def _records(rows: list[tuple[int, int, int, int, int, int, str, int, str, int, int]]) -> FlowRecords:
    """rows: (start_ns, duration_ns, fwd_pkts, bwd_pkts, fwd_bytes, bwd_bytes, src, sport, dst, dport, proto)."""
    col = list(zip(*rows, strict=True))
    return FlowRecords.build(
        start_ns=np.array(col[0]), duration_ns=np.array(col[1]), fwd_packets=np.array(col[2]),
        bwd_packets=np.array(col[3]), fwd_bytes=np.array(col[4]), bwd_bytes=np.array(col[5]), src=parse_ips(col[6]),
        sport=np.array(col[7]), dst=parse_ips(col[8]), dport=np.array(col[9]), proto=np.array(col[10]))


def _all(records: FlowRecords, **kw: Any) -> PacketBatch:
    return PacketBatch.concat(list(replay_records(records, **kw)))


def test_a_record_becomes_its_packets_over_its_duration_opening_with_its_answer() -> None:
    rec = _records([(T0, 4 * S, 3, 2, 1000, 101, "10.45.0.2", 40000, "93.184.216.34", 443, 6)])
    rows = [(r["ts_ns"] - T0, r["src"], r["sport"], r["length"]) for r in _all(rec).rows()]
    # The answer 1 ms after the first packet, then 3 packets evenly to the end (forward ones take ceil(2 * k / 3)
    # of the first k); 1000 B = 334 + 333 + 333, 101 = 51 + 50.
    ms, step = 10**6, (4 * S - 10**6) // 3
    assert rows == [(0, "10.45.0.2", 40000, 334), (ms, "93.184.216.34", 443, 51),
                    (ms + step, "10.45.0.2", 40000, 333), (ms + 2 * step, "10.45.0.2", 40000, 333),
                    (ms + 3 * step, "93.184.216.34", 443, 50)]


def test_a_one_way_record_is_spaced_evenly_from_its_start() -> None:
    rec = _records([(T0, 4 * S, 5, 0, 500, 0, "10.45.0.2", 40000, "93.184.216.34", 443, 6)])
    assert [r["ts_ns"] - T0 for r in _all(rec).rows()] == [0, S, 2 * S, 3 * S, 4 * S]


def test_short_records_keep_one_packet_per_nanosecond_and_the_initiator_first() -> None:
    rec = _records([(T0, 0, 1, 3, 60, 300, "10.45.0.2", 5000, "8.8.8.8", 53, 17),
                    (T0 + 5, 0, 1, 0, 28, 0, "10.45.0.3", 0, "1.1.1.1", 0, 1)])
    rows = [(r["ts_ns"] - T0, r["src"], r["length"]) for r in _all(rec).rows()]
    assert rows == [(0, "10.45.0.2", 60), (1, "8.8.8.8", 100), (2, "8.8.8.8", 100), (3, "8.8.8.8", 100),
                    (5, "10.45.0.3", 28)]


def _random_records(n: int, seed: int = 1) -> FlowRecords:
    rng = np.random.default_rng(seed)
    nf, nb = rng.integers(0, 40, n), rng.integers(0, 40, n)
    nf[nf + nb == 0] = 1
    return FlowRecords.build(
        start_ns=T0 + rng.integers(0, 100 * S, n), duration_ns=rng.integers(0, 30 * S, n), fwd_packets=nf,
        bwd_packets=nb, fwd_bytes=np.where(nf > 0, rng.integers(0, 90_000, n), 0),
        bwd_bytes=np.where(nb > 0, rng.integers(0, 90_000, n), 0),
        src=parse_ips([f"10.45.{i // 200}.{i % 200 + 1}" for i in range(n)]), sport=np.arange(n) + 1024,
        dst=parse_ips(["8.8.8.8"] * n), dport=np.full(n, 53), proto=np.full(n, 17))


@pytest.mark.parametrize(("batch_size", "slice_ns"), [(1 << 20, 600 * S), (50, S), (5, S // 100)])
def test_every_packet_and_byte_per_direction_in_time_order_within_the_batch_bound(
    batch_size: int, slice_ns: int
) -> None:
    rec = _random_records(500)
    batches = list(replay_records(rec, batch_size=batch_size, slice_ns=slice_ns))
    assert all(len(b) <= batch_size for b in batches)
    out = PacketBatch.concat(batches)
    assert np.all(np.diff(out.ts_ns) >= 0), "one time-ordered stream across batches"
    fwd = out.dport == 53
    # Each record has its own port; ``position`` maps a packet to the record's row in ``rec`` (sorted by start).
    position = np.argsort(rec.sport)[np.where(fwd, out.sport, out.dport).astype(np.int64) - 1024]
    assert np.bincount(position[fwd], minlength=500).tolist() == rec.fwd_packets.tolist()
    assert np.bincount(position[~fwd], minlength=500).tolist() == rec.bwd_packets.tolist()
    fwd_bytes = np.bincount(position[fwd], weights=out.length[fwd], minlength=500)
    bwd_bytes = np.bincount(position[~fwd], weights=out.length[~fwd], minlength=500)
    assert (fwd_bytes.tolist(), bwd_bytes.tolist()) == (rec.fwd_bytes.tolist(), rec.bwd_bytes.tolist())
    first, last = np.full(500, np.iinfo(np.int64).max), np.zeros(500, np.int64)
    np.minimum.at(first, position, out.ts_ns)
    np.maximum.at(last, position, out.ts_ns)
    assert (first.tolist(), last.tolist()) == (rec.start_ns.tolist(), rec.end_ns.tolist())


def test_stretches_without_packets_are_skipped_not_walked() -> None:
    day = 86_400 * S
    rec = _records([(T0, 0, 1, 1, 60, 60, "10.45.0.2", 1, "8.8.8.8", 53, 17),
                    (T0 + day, day, 2, 0, 120, 0, "10.45.0.2", 2, "8.8.8.8", 53, 17)])
    batches = list(replay_records(rec, slice_ns=S // 100))
    assert [len(b) for b in batches] == [2, 1, 1], "a day apart, then a day-long record: three slices with packets"


@pytest.mark.parametrize(("change", "needle"), [
    ({"fwd_packets": 0, "bwd_packets": 0}, "1..2147483648 packets"),
    ({"bwd_packets": 0, "bwd_bytes": 10}, "needs at least one packet"),
    ({"fwd_bytes": -1}, ">= 0"),
    ({"fwd_packets": 1, "fwd_bytes": 2**33}, r"exceed 2\^32-1"),
])
def test_counters_no_packet_can_carry_are_refused(change: dict[str, int], needle: str) -> None:
    values = {"fwd_packets": 2, "bwd_packets": 1, "fwd_bytes": 100, "bwd_bytes": 50, **change}
    with pytest.raises(ValueError, match=needle):
        FlowRecords.build(start_ns=np.array([T0]), duration_ns=np.array([S]), src=parse_ips(["10.45.0.2"]),
                          dst=parse_ips(["8.8.8.8"]), sport=np.array([1]), dport=np.array([53]), proto=np.array([17]),
                          **{k: np.array([v]) for k, v in values.items()})
