"""Flow initiators of a capture: the sender of each conversation's first packet (pcap ``learn_sessions``)."""

from __future__ import annotations

import numpy as np
import pytest

from nwdaf.lib.dataplane.batch import PacketBatch, ip_to_pair
from nwdaf.nf.upf.sources.initiators import flow_initiators

pytestmark = pytest.mark.unit


def _batch(packets: list[tuple[int, str, int, str, int, int]]) -> PacketBatch:
    """(ts_ns, src, sport, dst, dport, proto) rows."""
    n = len(packets)
    return PacketBatch(np.array([p[0] for p in packets], np.int64),
                       np.array([ip_to_pair(p[1]) for p in packets], np.uint64).reshape(n, 2),
                       np.array([ip_to_pair(p[3]) for p in packets], np.uint64).reshape(n, 2),
                       np.array([p[2] for p in packets]), np.array([p[4] for p in packets]),
                       np.array([p[5] for p in packets]), np.full(n, 60), np.zeros(n), np.zeros(n), np.zeros(n))


def _hosts(addresses: np.ndarray) -> list[tuple[int, int]]:
    return [(int(a[0]), int(a[1])) for a in addresses]


def test_the_first_sender_of_each_conversation_initiates_it() -> None:
    attacker, server, scanned = "147.32.80.40", "147.32.80.37", ("147.32.80.1", "147.32.80.2")
    first = _batch([(10, attacker, 40000, server, 902, 6), (11, server, 902, attacker, 40000, 6),
                    (12, attacker, 0, scanned[0], 0, 1)])
    second = _batch([(20, scanned[0], 0, attacker, 0, 1),  # an ICMP reply: same conversation
                     (21, attacker, 0, scanned[1], 0, 1), (22, server, 5353, "224.0.0.251", 5353, 17)])
    addresses, times = flow_initiators([first, PacketBatch.empty(), second])
    assert _hosts(addresses) == [ip_to_pair(attacker), ip_to_pair(attacker), ip_to_pair(attacker),
                                 ip_to_pair(server)]
    assert times.tolist() == [10, 12, 21, 22]


def test_no_packets_no_initiators() -> None:
    addresses, times = flow_initiators([])
    assert addresses.shape == (0, 2)
    assert len(times) == 0
