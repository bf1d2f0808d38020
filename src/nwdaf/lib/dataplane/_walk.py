"""Record walkers: find packet records in a pcap / pcapng byte buffer.

Walking record headers is inherently sequential (each record's length gives the next offset).
These are the pure-Python walkers; :mod:`._walk_numba` holds numba twins with the same contract,
picked by :func:`._walkers.walkers` (tests check both give identical results).

Contract of every walker: it consumes records from ``pos`` while they fit entirely before ``end``
and returns ``(arrays, stop_pos, status)`` where ``status`` says why it stopped.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

NEED_MORE = 0
FULL = 1
CORRUPT = 2
OTHER_BLOCK = 3

# Larger than any link MTU, jumbo frame or TSO/GRO super-packet; a bigger length means corruption.
MAX_CAPLEN = 16 * 1024 * 1024
MAX_BLOCK = MAX_CAPLEN + 4096

PCAPNG_EPB = 6
PCAPNG_SPB = 3
PCAPNG_OPB = 2

I64 = NDArray[np.int64]
PcapWalk = tuple[I64, int, int]
NgWalk = tuple[I64, I64, I64, I64, I64, int, int]


def walk_pcap_py(buf: Any, pos: int, end: int, big_endian: bool, max_records: int) -> PcapWalk:
    """Offsets of classic pcap record headers from ``pos`` (at most ``max_records``)."""
    unpack = struct.Struct(">I" if big_endian else "<I").unpack_from
    offsets: list[int] = []
    append = offsets.append
    status = FULL
    for _ in range(max_records):
        if pos + 16 > end:
            status = NEED_MORE
            break
        caplen = unpack(buf, pos + 8)[0]
        if caplen > MAX_CAPLEN:
            status = CORRUPT
            break
        nxt = pos + 16 + caplen
        if nxt > end:
            status = NEED_MORE
            break
        append(pos)
        pos = nxt
    return np.array(offsets, dtype=np.int64), pos, status


def _ng_packet(unpack: Callable[[Any, int], tuple[Any, ...]], buf: Any, pos: int, btype: int, blen: int,
               snaplen0: int) -> tuple[int, int, int, int, int] | None:
    """(data_off, caplen, wirelen, iface, ts) of one packet block, None when malformed."""
    if btype == PCAPNG_SPB:
        if blen < 16:
            return None
        wirelen = unpack(buf, pos + 8)[0]
        caplen = min(wirelen, blen - 16)
        if snaplen0:
            caplen = min(caplen, snaplen0)
        return pos + 12, caplen, wirelen, 0, -1
    if blen < 32:
        return None
    if btype == PCAPNG_EPB:
        iface, ts_hi, ts_lo, caplen, wirelen = (unpack(buf, pos + 8 + 4 * i)[0] for i in range(5))
    else:
        word = unpack(buf, pos + 8)[0]
        iface = word >> 16 if unpack is _BE_UNPACK else word & 0xFFFF
        ts_hi, ts_lo, caplen, wirelen = (unpack(buf, pos + 12 + 4 * i)[0] for i in range(4))
    if caplen > blen - 32:
        return None
    return pos + 28, caplen, wirelen, iface, ((ts_hi << 32) | ts_lo) & 0x7FFF_FFFF_FFFF_FFFF


_BE_UNPACK = struct.Struct(">I").unpack_from
_LE_UNPACK = struct.Struct("<I").unpack_from


def walk_pcapng_py(buf: Any, pos: int, end: int, big_endian: bool, max_records: int, snaplen0: int) -> NgWalk:
    """Consecutive packet blocks (EPB/SPB/OPB) from ``pos``; stops at any other block type.

    Returns ``(data_off, caplen, wirelen, iface, ts_raw, stop_pos, status)``; ``ts_raw`` is -1 for
    simple packet blocks, which carry no timestamp.
    """
    unpack = _BE_UNPACK if big_endian else _LE_UNPACK
    rows: list[tuple[int, int, int, int, int]] = []
    status = FULL
    for _ in range(max_records):
        if pos + 12 > end:
            status = NEED_MORE
            break
        btype, blen = unpack(buf, pos)[0], unpack(buf, pos + 4)[0]
        if btype not in (PCAPNG_EPB, PCAPNG_SPB, PCAPNG_OPB):
            status = OTHER_BLOCK
            break
        if blen < 12 or blen % 4 or blen > MAX_BLOCK:
            status = CORRUPT
            break
        if pos + blen > end:
            status = NEED_MORE
            break
        row = _ng_packet(unpack, buf, pos, btype, blen, snaplen0)
        if row is None:
            status = CORRUPT
            break
        rows.append(row)
        pos += blen
    cols = np.array(rows, dtype=np.int64).reshape(-1, 5)
    return cols[:, 0], cols[:, 1], cols[:, 2], cols[:, 3], cols[:, 4], pos, status
