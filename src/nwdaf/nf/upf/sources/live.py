"""Live capture with an AF_PACKET socket, decoded into the data plane's :class:`PacketBatch`.

The socket is ``SOCK_DGRAM`` (the kernel strips the link header, so every interface type yields IP packets) with
kernel receive timestamps (``SO_TIMESTAMPNS``). Only the first ``snaplen`` bytes of a packet are copied: the data
plane needs headers, and the IP length field keeps the real size. Frames are gathered into one buffer and decoded
vectorised per batch, so the per-packet Python cost is one ``recvmsg_into``.

With ``netns`` the socket is created inside that network namespace (``/run/netns/NAME``, as ``ip netns`` makes
them) from a short-lived thread that enters it with ``setns(2)``: the UPF service keeps its SBI in its own
namespace while it captures the testbed's N3 side. A socket stays bound to the namespace it was created in.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from nwdaf.lib.dataplane.batch import PacketBatch
from nwdaf.lib.dataplane.decode import LINKTYPE_RAW, decode_frames

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_STATISTICS = 6
SO_TIMESTAMPNS = 35
CLONE_NEWNET = 0x40000000
_TS = struct.Struct("qq")
_ANC_SIZE = socket.CMSG_SPACE(_TS.size)


class CaptureError(OSError):
    """The capture socket cannot be opened (no such interface or namespace, not permitted)."""


@dataclass(slots=True)
class CaptureStats:
    """Packets received by this socket and the kernel's own counters (``PACKET_STATISTICS``)."""

    packets: int = 0
    batches: int = 0
    kernel_packets: int = 0
    kernel_drops: int = 0


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def _open_socket(iface: str, rcvbuf: int) -> socket.socket:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        try:
            sock.setsockopt(socket.SOL_SOCKET, 33, rcvbuf)  # SO_RCVBUFFORCE: beyond rmem_max, needs CAP_NET_ADMIN
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.bind((iface, ETH_P_ALL))
    except OSError:
        sock.close()
        raise
    return sock


def open_capture_socket(iface: str, netns: str | None = None, rcvbuf: int = 8 << 20) -> socket.socket:
    """An AF_PACKET socket bound to ``iface`` (in namespace ``netns`` when given); raises :class:`CaptureError`."""
    if netns is None:
        try:
            return _open_socket(iface, rcvbuf)
        except OSError as exc:
            raise CaptureError(exc.errno, f"cannot capture on {iface!r}: {exc.strerror}") from exc
    result: list[socket.socket | BaseException] = []

    def enter_and_open() -> None:
        # setns(2) switches only the calling thread; this thread ends right after, so nothing else changes.
        try:
            with open(f"/run/netns/{netns}", "rb") as ns:
                _setns(ns.fileno())
            result.append(_open_socket(iface, rcvbuf))
        except BaseException as exc:
            result.append(exc)

    worker = threading.Thread(target=enter_and_open, name=f"netns-{netns}")
    worker.start()
    worker.join()
    outcome = result[0]
    if isinstance(outcome, OSError):
        raise CaptureError(outcome.errno, f"cannot capture on {iface!r} in netns {netns!r}: {outcome}") from outcome
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


class LiveCapture:
    """Iterate over packets arriving on an interface as batches.

    A batch is yielded when ``batch_size`` packets are in or ``flush_s`` has passed since its first packet; when
    nothing arrives for ``flush_s`` an empty batch is yielded, so a consumer can check for shutdown. Iteration
    ends after :meth:`close`.
    """

    def __init__(self, iface: str, netns: str | None = None, *, snaplen: int = 192, batch_size: int = 4096,
                 flush_s: float = 0.05) -> None:
        if snaplen < 64 or batch_size < 1 or flush_s <= 0:
            raise ValueError("snaplen must be >= 64, batch_size >= 1 and flush_s > 0")
        self.iface, self.netns = iface, netns
        self.snaplen, self.batch_size, self.flush_s = snaplen, batch_size, flush_s
        self.stats = CaptureStats()
        self._sock = open_capture_socket(iface, netns)
        self._sock.settimeout(flush_s)
        self._closed = False

    @property
    def name(self) -> str:
        return f"live:{self.iface}" + (f"@{self.netns}" if self.netns else "")

    def close(self) -> None:
        self._closed = True
        self._sock.close()

    def kernel_counters(self) -> tuple[int, int]:
        """(packets, drops) since the last call, from the kernel (``PACKET_STATISTICS`` resets on read)."""
        raw = self._sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
        packets, drops = struct.unpack("II", raw)
        self.stats.kernel_packets += packets
        self.stats.kernel_drops += drops
        return packets, drops

    def __iter__(self) -> Iterator[PacketBatch]:
        while not self._closed:
            try:
                batch = self._collect()
            except OSError:
                if self._closed:
                    return
                raise
            yield batch

    def _collect(self) -> PacketBatch:
        buf = bytearray(self.batch_size * self.snaplen)
        view = memoryview(buf)
        offs = np.zeros(self.batch_size, np.int64)
        caps = np.zeros(self.batch_size, np.int64)
        stamps = np.zeros(self.batch_size, np.int64)
        n, deadline = 0, None
        while n < self.batch_size:
            if deadline is not None and time.monotonic() >= deadline:
                break
            try:
                size, anc, _flags, _addr = self._sock.recvmsg_into(
                    [view[n * self.snaplen:(n + 1) * self.snaplen]], _ANC_SIZE, socket.MSG_TRUNC)
            except TimeoutError:
                break
            offs[n], caps[n] = n * self.snaplen, min(size, self.snaplen)
            stamps[n] = _timestamp(anc)
            n += 1
            if deadline is None:
                deadline = time.monotonic() + self.flush_s
        if n == 0:
            return PacketBatch.empty()
        arr = np.frombuffer(buf, dtype=np.uint8)
        batch, _reasons = decode_frames(arr, offs[:n], caps[:n], np.full(n, LINKTYPE_RAW, np.int64), stamps[:n])
        self.stats.packets += len(batch)
        self.stats.batches += 1
        return batch


def _timestamp(ancillary: list[tuple[int, int, bytes]]) -> int:
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= _TS.size:
            sec, nsec = _TS.unpack_from(data)
            return int(sec) * 1_000_000_000 + int(nsec)
    return time.time_ns()
