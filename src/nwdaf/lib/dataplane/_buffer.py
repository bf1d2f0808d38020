"""The reader's input window and the frames located in it, shared by the pcap and pcapng parsers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from nwdaf.lib.dataplane._walkers import Walkers

_PADDING = 128

I64 = NDArray[np.int64]


class PcapError(ValueError):
    """A pcap/pcapng file is malformed; ``offset`` is the byte offset of the fault."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass
class ReaderStats:
    """Counters of one read: frames seen, packets decoded, frames skipped by reason."""

    format: str = ""
    walker: str = ""
    records: int = 0
    packets: int = 0
    bytes_read: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


@dataclass
class Frames:
    """Frames located in the buffer, not yet decoded (one entry per record)."""

    data_off: I64
    caplen: I64
    linktype: I64
    ts_ns: I64

    @staticmethod
    def concat(parts: list[Frames]) -> Frames:
        cols = [np.concatenate([getattr(p, n) for p in parts]) for n in ("data_off", "caplen", "linktype", "ts_ns")]
        return Frames(*cols)


class Buffer:
    """A sliding window over the input: ``data[i]`` is file byte ``base + i``."""

    def __init__(self, fh: IO[bytes], chunk: int) -> None:
        self.fh = fh
        self.chunk = chunk
        self.size = 0
        self.base = 0
        self.eof = False
        self.arr: NDArray[np.uint8] = np.zeros(_PADDING, np.uint8)

    @property
    def data(self) -> memoryview:
        """The buffer (with zero padding after ``size``) for ``struct.unpack_from``."""
        return self.arr.data

    def fill(self, keep_from: int, want: int = 0) -> int:
        """Drop bytes before ``keep_from``, append at least one chunk; returns the shift applied."""
        keep = self.size - keep_from
        # Zero padding after the data lets header gathers near the end read whole fields.
        arr = np.zeros(keep + max(self.chunk, want) + _PADDING, np.uint8)
        arr[:keep] = self.arr[keep_from:self.size]
        got = self.fh.readinto(arr.data[keep:len(arr) - _PADDING])  # type: ignore[attr-defined]
        if not got:
            self.eof = True
        self.arr = arr
        self.size = keep + (got or 0)
        self.base += keep_from
        return keep_from

    def walk_arg(self, walk: Walkers) -> Any:
        return self.arr


