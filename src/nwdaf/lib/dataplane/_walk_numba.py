"""numba twins of the record walkers in :mod:`._walk` (same contract, same results).

The buffer is passed as a ``uint8`` array; kernels fill preallocated output arrays and the thin
wrappers slice them. Compiled lazily on first use.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from nwdaf.lib.dataplane._walk import (
    CORRUPT,
    FULL,
    MAX_BLOCK,
    MAX_CAPLEN,
    NEED_MORE,
    OTHER_BLOCK,
    PCAPNG_EPB,
    PCAPNG_OPB,
    PCAPNG_SPB,
    NgWalk,
    PcapWalk,
)


@numba.njit(cache=False, nogil=True)
def _u32(buf: NDArray[np.uint8], p: int, big: bool) -> int:
    b0, b1, b2, b3 = int(buf[p]), int(buf[p + 1]), int(buf[p + 2]), int(buf[p + 3])
    if big:
        return (b0 << 24) | (b1 << 16) | (b2 << 8) | b3
    return (b3 << 24) | (b2 << 16) | (b1 << 8) | b0


@numba.njit(cache=False, nogil=True)
def _pcap_kernel(buf: Any, pos: int, end: int, big: bool, max_records: int, out: Any) -> tuple[int, int, int]:
    n = 0
    while n < max_records:
        if pos + 16 > end:
            return n, pos, NEED_MORE
        caplen = _u32(buf, pos + 8, big)
        if caplen > MAX_CAPLEN:
            return n, pos, CORRUPT
        if pos + 16 + caplen > end:
            return n, pos, NEED_MORE
        out[n] = pos
        n += 1
        pos += 16 + caplen
    return n, pos, FULL


@numba.njit(cache=False, nogil=True)
def _ng_row(buf: Any, pos: int, btype: int, blen: int, big: bool, snaplen0: int, out: Any, n: int) -> bool:
    if btype == PCAPNG_SPB:
        if blen < 16:
            return False
        wirelen = _u32(buf, pos + 8, big)
        caplen = min(wirelen, blen - 16)
        if snaplen0 > 0:
            caplen = min(caplen, snaplen0)
        out[n, 0], out[n, 1], out[n, 2], out[n, 3], out[n, 4] = pos + 12, caplen, wirelen, 0, -1
        return True
    if blen < 32:
        return False
    if btype == PCAPNG_EPB:
        iface = _u32(buf, pos + 8, big)
    else:
        word = _u32(buf, pos + 8, big)
        iface = word >> 16 if big else word & 0xFFFF
    ts_hi, ts_lo = _u32(buf, pos + 12, big), _u32(buf, pos + 16, big)
    caplen, wirelen = _u32(buf, pos + 20, big), _u32(buf, pos + 24, big)
    if caplen > blen - 32:
        return False
    ts = ((ts_hi & 0x7FFF_FFFF) << 32) | ts_lo
    out[n, 0], out[n, 1], out[n, 2], out[n, 3], out[n, 4] = pos + 28, caplen, wirelen, iface, ts
    return True


@numba.njit(cache=False, nogil=True)
def _pcapng_kernel(buf: Any, pos: int, end: int, big: bool, max_records: int, snaplen0: int,
                   out: Any) -> tuple[int, int, int]:
    n = 0
    while n < max_records:
        if pos + 12 > end:
            return n, pos, NEED_MORE
        btype, blen = _u32(buf, pos, big), _u32(buf, pos + 4, big)
        if btype != PCAPNG_EPB and btype != PCAPNG_SPB and btype != PCAPNG_OPB:
            return n, pos, OTHER_BLOCK
        if blen < 12 or blen % 4 != 0 or blen > MAX_BLOCK:
            return n, pos, CORRUPT
        if pos + blen > end:
            return n, pos, NEED_MORE
        if not _ng_row(buf, pos, btype, blen, big, snaplen0, out, n):
            return n, pos, CORRUPT
        n += 1
        pos += blen
    return n, pos, FULL


def _as_u8(buf: Any) -> NDArray[np.uint8]:
    return buf if isinstance(buf, np.ndarray) else np.frombuffer(buf, dtype=np.uint8)


def walk_pcap_nb(buf: Any, pos: int, end: int, big_endian: bool, max_records: int) -> PcapWalk:
    """numba version of :func:`._walk.walk_pcap_py`."""
    data = _as_u8(buf)
    cap = max(0, min(max_records, (end - pos) // 16 + 1))
    out = np.empty(cap, dtype=np.int64)
    n, stop, status = _pcap_kernel(data, pos, end, big_endian, max_records, out)
    return out[:n], int(stop), int(status)


def walk_pcapng_nb(buf: Any, pos: int, end: int, big_endian: bool, max_records: int, snaplen0: int) -> NgWalk:
    """numba version of :func:`._walk.walk_pcapng_py`."""
    data = _as_u8(buf)
    cap = max(0, min(max_records, (end - pos) // 12 + 1))
    out = np.empty((cap, 5), dtype=np.int64)
    n, stop, status = _pcapng_kernel(data, pos, end, big_endian, max_records, snaplen0, out)
    rows = out[:n]
    return rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3], rows[:, 4], int(stop), int(status)
