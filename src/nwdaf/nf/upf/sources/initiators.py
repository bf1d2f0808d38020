"""Flow initiators of a capture: who sent the first packet of each conversation.

A pcap replay with ``learn_sessions`` makes every initiator a UE (as a flow dataset's records name theirs), so a
public attacker in a recording is a UE too, while the hosts it reached stay on the DN side. A conversation is the
protocol and the two endpoints (address, port) either way round; ports are 0 where the protocol has none (ICMP),
so an ICMP sweep is one conversation per target, each started by the scanner.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numpy.typing import NDArray

from nwdaf.lib.dataplane.batch import Addr, PacketBatch


def _conversations(batch: PacketBatch) -> NDArray[np.uint64]:
    """``(n, 7)`` conversation keys: the lower endpoint (hi, lo, port), the higher one, the protocol."""
    a = np.column_stack([batch.src, batch.sport.astype(np.uint64)])
    b = np.column_stack([batch.dst, batch.dport.astype(np.uint64)])
    a_first = (a[:, 0] < b[:, 0]) | ((a[:, 0] == b[:, 0]) & (
        (a[:, 1] < b[:, 1]) | ((a[:, 1] == b[:, 1]) & (a[:, 2] <= b[:, 2]))))
    low = np.where(a_first[:, None], a, b)
    high = np.where(a_first[:, None], b, a)
    return np.column_stack([low, high, batch.proto.astype(np.uint64)])


def flow_initiators(batches: Iterable[PacketBatch]) -> tuple[Addr, NDArray[np.int64]]:
    """Initiator addresses and the time of their first conversation, in order of first appearance (packets in
    time order, as a capture holds them)."""
    seen: set[bytes] = set()
    addresses: list[NDArray[np.uint64]] = []
    times: list[int] = []
    for batch in batches:
        if not len(batch):
            continue
        keys = _conversations(batch)
        _, first = np.unique(keys, axis=0, return_index=True)
        for row in np.sort(first):
            key = keys[row].tobytes()
            if key in seen:
                continue
            seen.add(key)
            addresses.append(batch.src[row])
            times.append(int(batch.ts_ns[row]))
    if not addresses:
        return np.zeros((0, 2), np.uint64), np.zeros(0, np.int64)
    return np.vstack(addresses).astype(np.uint64), np.array(times, np.int64)
