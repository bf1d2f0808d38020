"""pcapng sections (draft-ietf-opsawg-pcapng): SHB/IDB handling around the packet-block walker.

Packet blocks (EPB, SPB, obsolete PB) are walked in bulk; any other block stops the walker and is
handled here: a Section Header Block resets byte order and interfaces, an Interface Description
Block adds an interface with its own link type, snap length and timestamp resolution/offset.
Other blocks (name resolution, statistics, custom, DSB) are skipped.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from nwdaf.lib.dataplane._buffer import I64, Buffer, Frames, PcapError, ReaderStats
from nwdaf.lib.dataplane._walk import CORRUPT, FULL, MAX_BLOCK, NEED_MORE, OTHER_BLOCK
from nwdaf.lib.dataplane._walkers import Walkers
from nwdaf.lib.dataplane.batch import PacketBatch


class PcapReader(Protocol):
    """What the pcapng parser needs of :class:`nwdaf.lib.dataplane.reader.PcapReader`."""

    walk: Walkers
    batch_size: int
    stats: ReaderStats
    last_ts_ns: int
    """Timestamp of the last packet decoded (fills a packet block without one, the obsolete SPB)."""

    def decode(self, buf: Buffer, frames: Frames) -> PacketBatch: ...

SHB = 0x0A0D0D0A
IDB = 1
BYTE_ORDER_MAGIC = 0x1A2B3C4D
OPT_IF_TSRESOL = 9
OPT_IF_TSOFFSET = 14


@dataclass
class Interface:
    """One IDB: link type, snap length, timestamp units (``ts_num/ts_den`` seconds) and offset."""

    linktype: int
    snaplen: int
    tsresol: int = 6
    tsoffset_s: int = 0

    def to_ns(self, raw: I64) -> I64:
        """Convert raw timestamps in this interface's resolution to Unix nanoseconds."""
        if self.tsresol & 0x80:
            shift = self.tsresol & 0x7F
            secs = raw >> shift
            frac = ((raw - (secs << shift)).astype(np.float64) * 1e9 / float(1 << shift)).astype(np.int64)
            ns = secs * 1_000_000_000 + frac
        elif self.tsresol <= 9:
            ns = raw * 10 ** (9 - self.tsresol)
        else:
            ns = raw // 10 ** (self.tsresol - 9)
        return ns + self.tsoffset_s * 1_000_000_000


@dataclass
class Section:
    big_endian: bool = False
    interfaces: list[Interface] = field(default_factory=list)

    @property
    def fmt(self) -> str:
        return ">" if self.big_endian else "<"


def iter_pcapng(reader: PcapReader, buf: Buffer) -> Iterator[PacketBatch]:
    """Yield decoded batches from a pcapng stream whose first block starts at ``buf`` offset 0."""
    sec, pos, parts, count = Section(), 0, [], 0
    while True:
        snap0 = sec.interfaces[0].snaplen if sec.interfaces else 0
        cols = reader.walk.pcapng(buf.walk_arg(reader.walk), pos, buf.size, sec.big_endian,
                                  reader.batch_size - count, snap0)
        pos, status = cols[5], cols[6]
        if len(cols[0]):
            parts.append(_frames(reader, sec, *cols[:5]))
            count += len(cols[0])
        flush = status in (FULL, CORRUPT) or (status == NEED_MORE and buf.eof)
        if flush and parts:
            batch = reader.decode(buf, Frames.concat(parts))
            parts, count = [], 0
            if len(batch):
                yield batch
        if status == CORRUPT:
            raise _block_fault(buf, pos, sec, "corrupt packet block")
        if status == OTHER_BLOCK:
            pos = _control_block(buf, pos, sec, parts)
        elif status == NEED_MORE:
            if buf.eof:
                if pos < buf.size:
                    raise _block_fault(buf, pos, sec, "truncated block")
                return
            keep = _keep_from(pos, parts)
            shift = buf.fill(keep, _block_need(buf, pos, sec) - (buf.size - keep))
            for p in parts:
                p.data_off -= shift
            pos -= shift


def _frames(reader: PcapReader, sec: Section, data_off: I64, caplen: I64, wirelen: I64, iface: I64,
            ts_raw: I64) -> Frames:
    """Map interface ids to link types and timestamps; bad interface ids are counted and dropped."""
    n_if = len(sec.interfaces)
    bad = (iface < 0) | (iface >= n_if)
    if bad.any():
        reader.stats.skipped["bad_interface"] += int(bad.sum())
        reader.stats.records += int(bad.sum())
        keep = ~bad
        data_off, caplen, iface, ts_raw = data_off[keep], caplen[keep], iface[keep], ts_raw[keep]
    linktype = np.zeros(len(iface), np.int64)
    ts_ns = np.zeros(len(iface), np.int64)
    for i in np.unique(iface):
        sel = iface == i
        itf = sec.interfaces[int(i)]
        linktype[sel] = itf.linktype
        ts_ns[sel] = itf.to_ns(np.maximum(ts_raw[sel], 0))
    return Frames(data_off, caplen, linktype, _fill_missing_ts(ts_ns, ts_raw < 0, reader))


def _fill_missing_ts(ts_ns: I64, missing: np.ndarray, reader: PcapReader) -> I64:
    """Simple Packet Blocks have no timestamp: carry the previous packet's timestamp forward."""
    if not missing.any():
        return ts_ns
    last = np.where(~missing, np.arange(len(ts_ns)), -1)
    last = np.maximum.accumulate(last)
    prev = int(reader.last_ts_ns)
    return np.where(last >= 0, ts_ns[np.maximum(last, 0)], prev)


def _keep_from(pos: int, parts: list[Frames]) -> int:
    """First buffer byte still needed: the next block or the data of a pending frame."""
    return min([pos] + [int(p.data_off.min()) for p in parts if len(p.data_off)])


def _block_need(buf: Buffer, pos: int, sec: Section) -> int:
    if pos + 8 > buf.size:
        return 12
    return max(12, int(struct.unpack_from(sec.fmt + "I", buf.data, pos + 4)[0]))


def _block_fault(buf: Buffer, pos: int, sec: Section, what: str) -> PcapError:
    offset = buf.base + pos
    left = buf.size - pos
    if left < 12:
        return PcapError(f"truncated block header at offset {offset}: 12 bytes needed, {left} left", offset)
    btype, blen = struct.unpack_from(sec.fmt + "II", buf.data, pos)
    if what == "truncated block" and blen <= MAX_BLOCK:
        return PcapError(f"truncated block at offset {offset}: block length {blen} > {left} bytes left", offset)
    return PcapError(f"{what} at offset {offset}: type 0x{btype:x}, block length {blen}", offset)


def _control_block(buf: Buffer, pos: int, sec: Section, parts: list[Frames]) -> int:
    """Handle one non-packet block at ``pos`` (reading more input if needed); returns the next pos."""
    while True:
        if pos + 12 <= buf.size:
            if struct.unpack_from("<I", buf.data, pos)[0] == SHB:
                _section_header(buf, pos, sec)
            blen = struct.unpack_from(sec.fmt + "I", buf.data, pos + 4)[0]
            if blen < 12 or blen % 4 or blen > MAX_BLOCK:
                raise _block_fault(buf, pos, sec, "corrupt block")
            if pos + blen <= buf.size:
                break
        if buf.eof:
            raise _block_fault(buf, pos, sec, "truncated block")
        keep = _keep_from(pos, parts)
        shift = buf.fill(keep, _block_need(buf, pos, sec) - (buf.size - keep))
        for p in parts:
            p.data_off -= shift
        pos -= shift
    btype, blen = struct.unpack_from(sec.fmt + "II", buf.data, pos)
    if struct.unpack_from(sec.fmt + "I", buf.data, pos + blen - 4)[0] != blen:
        raise _block_fault(buf, pos, sec, "corrupt block (trailing length mismatch)")
    if btype == SHB:
        sec.interfaces.clear()
    elif btype == IDB:
        sec.interfaces.append(_interface(buf, pos, blen, sec))
    return int(pos + blen)


def _section_header(buf: Buffer, pos: int, sec: Section) -> None:
    magic = struct.unpack_from("<I", buf.data, pos + 8)[0]
    if magic == BYTE_ORDER_MAGIC:
        sec.big_endian = False
    elif magic == struct.unpack("<I", struct.pack(">I", BYTE_ORDER_MAGIC))[0]:
        sec.big_endian = True
    else:
        offset = buf.base + pos
        raise PcapError(f"corrupt section header at offset {offset}: byte-order magic 0x{magic:08x}", offset)


def _interface(buf: Buffer, pos: int, blen: int, sec: Section) -> Interface:
    if blen < 20:
        raise _block_fault(buf, pos, sec, "corrupt interface description block")
    linktype, _, snaplen = struct.unpack_from(sec.fmt + "HHI", buf.data, pos + 8)
    itf = Interface(linktype=linktype, snaplen=snaplen)
    opt, end = pos + 16, pos + blen - 4
    while opt + 4 <= end:
        code, length = struct.unpack_from(sec.fmt + "HH", buf.data, opt)
        if code == 0:
            break
        if code == OPT_IF_TSRESOL and length >= 1:
            itf.tsresol = int(buf.data[opt + 4])
        elif code == OPT_IF_TSOFFSET and length >= 8:
            itf.tsoffset_s = struct.unpack_from(sec.fmt + "q", buf.data, opt + 4)[0]
        opt += 4 + (length + 3) // 4 * 4
    return itf
