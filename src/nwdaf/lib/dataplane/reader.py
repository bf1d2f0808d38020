"""Streaming pcap / pcapng reader yielding :class:`PacketBatch` objects of bounded size.

The file is read in chunks; record headers are walked by :mod:`._walk` (numba when installed)
and all header fields are decoded vectorised by :mod:`.decode`; pcapng blocks are parsed by :mod:`._pcapng`.
Faults raise :class:`PcapError` with the byte offset, after every packet before the fault has been yielded.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from nwdaf.lib.dataplane._buffer import I64, Buffer, Frames, PcapError, ReaderStats
from nwdaf.lib.dataplane._walk import CORRUPT, FULL, MAX_CAPLEN, NEED_MORE
from nwdaf.lib.dataplane._walkers import walkers
from nwdaf.lib.dataplane.batch import PacketBatch
from nwdaf.lib.dataplane.decode import SKIP_REASONS, decode_frames

__all__ = ["PcapError", "PcapReader", "ReaderStats", "read_pcap", "replay"]

PCAP_MAGIC_US = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D
PCAPNG_SHB = 0x0A0D0D0A
DEFAULT_BATCH = 65536
DEFAULT_CHUNK = 8 * 1024 * 1024

class PcapReader:
    """Iterate over a pcap or pcapng file as batches of at most ``batch_size`` decoded packets.

    ``accelerate``: ``None`` uses numba when installed, ``False`` forces the pure Python walker.
    ``stats`` is updated as batches are yielded.
    """

    def __init__(self, source: str | Path | IO[bytes], *, batch_size: int = DEFAULT_BATCH,
                 chunk_bytes: int = DEFAULT_CHUNK, accelerate: bool | None = None) -> None:
        if batch_size < 1 or chunk_bytes < 64:
            raise ValueError("batch_size must be >= 1 and chunk_bytes >= 64")
        self.source = source
        self.batch_size = batch_size
        self.chunk_bytes = chunk_bytes
        self.walk = walkers(accelerate)
        self.stats = ReaderStats(walker=self.walk.name)
        self.last_ts_ns = 0

    def __iter__(self) -> Iterator[PacketBatch]:
        if isinstance(self.source, str | Path):
            with open(self.source, "rb") as fh:
                yield from self._read(fh)
        else:
            yield from self._read(self.source)

    def _read(self, fh: IO[bytes]) -> Iterator[PacketBatch]:
        buf = Buffer(fh, self.chunk_bytes)
        buf.fill(0, 24)
        if buf.size < 4:
            raise PcapError(f"not a pcap file: {buf.size} bytes, no magic number at offset 0", 0)
        if struct.unpack_from("<I", buf.data)[0] == PCAPNG_SHB:
            from nwdaf.lib.dataplane._pcapng import iter_pcapng

            self.stats.format = "pcapng"
            yield from iter_pcapng(self, buf)
        else:
            self.stats.format = "pcap"
            yield from self._iter_classic(buf)

    def decode(self, buf: Buffer, frames: Frames) -> PacketBatch:
        """Decode located frames, update stats, remember the last timestamp."""
        batch, reasons = decode_frames(buf.arr, frames.data_off, frames.caplen, frames.linktype, frames.ts_ns)
        counts = np.bincount(reasons, minlength=len(SKIP_REASONS))
        for code in np.flatnonzero(counts[1:]) + 1:
            self.stats.skipped[SKIP_REASONS[code]] += int(counts[code])
        self.stats.records += len(frames.ts_ns)
        self.stats.packets += len(batch)
        if len(frames.ts_ns):
            self.last_ts_ns = int(frames.ts_ns[-1])
            self.stats.bytes_read = buf.base + int(frames.data_off[-1] + frames.caplen[-1])
        return batch

    def _iter_classic(self, buf: Buffer) -> Iterator[PacketBatch]:
        big, nano, linktype = _classic_header(buf)
        pos, pending = 24, np.zeros(0, np.int64)
        while True:
            want = self.batch_size - len(pending)
            offs, pos, status = self.walk.pcap(buf.walk_arg(self.walk), pos, buf.size, big, want)
            pending = np.concatenate([pending, offs]) if len(pending) else offs
            if status == FULL or ((status != NEED_MORE or buf.eof) and len(pending)):
                batch = self.decode(buf, _classic_frames(buf, pending, big, nano, linktype))
                pending = np.zeros(0, np.int64)
                if len(batch):
                    yield batch
            if status == CORRUPT:
                raise _classic_fault(buf, pos, big)
            if status == NEED_MORE:
                if buf.eof:
                    if pos < buf.size:
                        raise _classic_fault(buf, pos, big)
                    return
                keep = int(pending[0]) if len(pending) else pos
                shift = buf.fill(keep, _record_need(buf, pos, big) - (buf.size - keep))
                pending, pos = pending - shift, pos - shift


def _record_need(buf: Buffer, pos: int, big: bool) -> int:
    if pos + 16 > buf.size:
        return 16
    return 16 + int(struct.unpack_from(">I" if big else "<I", buf.data, pos + 8)[0])


def _classic_header(buf: Buffer) -> tuple[bool, bool, int]:
    """(big_endian, nanosecond, linktype) from the 24-byte global header."""
    magic_le = struct.unpack_from("<I", buf.data)[0]
    magic_be = struct.unpack_from(">I", buf.data)[0]
    if magic_le in (PCAP_MAGIC_US, PCAP_MAGIC_NS):
        big, magic = False, magic_le
    elif magic_be in (PCAP_MAGIC_US, PCAP_MAGIC_NS):
        big, magic = True, magic_be
    else:
        raise PcapError(f"not a pcap/pcapng file: bad magic 0x{magic_be:08x} at offset 0", 0)
    if buf.size < 24:
        raise PcapError(f"truncated pcap global header at offset 0: 24 bytes needed, {buf.size} present", 0)
    network = struct.unpack_from(">I" if big else "<I", buf.data, 20)[0]
    # The upper bits of the link-type field carry FCS information (pcap spec §4), not the type.
    return big, magic == PCAP_MAGIC_NS, network & 0xFFFF


def _classic_frames(buf: Buffer, offs: I64, big: bool, nano: bool, linktype: int) -> Frames:
    hdr = buf.arr[offs[:, None] + np.arange(16)]
    words = np.ascontiguousarray(hdr).view(">u4" if big else "<u4").astype(np.int64)
    ts_ns = words[:, 0] * 1_000_000_000 + words[:, 1] * (1 if nano else 1000)
    return Frames(offs + 16, words[:, 2], np.full(len(offs), linktype, np.int64), ts_ns)


def _classic_fault(buf: Buffer, pos: int, big: bool) -> PcapError:
    left = buf.size - pos
    offset = buf.base + pos
    if left < 16:
        return PcapError(f"truncated record header at offset {offset}: 16 bytes needed, {left} left", offset)
    caplen = struct.unpack_from(">I" if big else "<I", buf.data, pos + 8)[0]
    if caplen > MAX_CAPLEN:
        return PcapError(f"corrupt record at offset {offset}: caplen {caplen} exceeds {MAX_CAPLEN}", offset)
    return PcapError(f"truncated record at offset {offset}: caplen {caplen} > {left - 16} bytes left", offset)


def read_pcap(source: str | Path | IO[bytes], **kwargs: Any) -> tuple[PacketBatch, ReaderStats]:
    """Read a whole (small) file into one batch; see :class:`PcapReader` for ``kwargs``."""
    reader = PcapReader(source, **kwargs)
    batches = list(reader)
    return PacketBatch.concat(batches), reader.stats


def replay(
    path: str | Path,
    speed: float | None = None,
    *,
    tick_s: float = 0.01,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    **kwargs: Any,
) -> Iterator[PacketBatch]:
    """Yield a file's packets paced at ``speed`` x recorded speed (``None`` = as fast as possible).

    Paced output comes in slices of ``tick_s`` recorded-seconds/``speed``; each slice is yielded
    when its first packet is due.
    """
    if speed is not None and speed <= 0:
        raise ValueError(f"speed must be > 0 or None, got {speed}")
    reader = PcapReader(path, **kwargs)
    if speed is None:
        yield from reader
        return
    t0_ns: int | None = None
    wall0 = clock()
    tick_ns = int(tick_s * 1e9 * speed)
    for batch in reader:
        if t0_ns is None:
            t0_ns = int(batch.ts_ns[0])
        slot = (batch.ts_ns - t0_ns) // max(tick_ns, 1)
        bounds = np.flatnonzero(np.diff(slot)) + 1
        for part in np.split(np.arange(len(batch)), bounds):
            due = wall0 + (int(batch.ts_ns[part[0]]) - t0_ns) / 1e9 / speed
            delay = due - clock()
            if delay > 0:
                sleep(delay)
            yield batch.take(part)
