"""Bidirectional flow table: canonical 5-tuple + session -> slot, merged batch-wise with numpy.

A flow key is oriented from the UE: (session, protocol, UE address, UE port, remote address,
remote port), so both directions of a conversation share one flow. :meth:`FlowKeys.packed` and
:meth:`FlowKeys.unpack` are the one codec of its (k, 5) uint64 form, which the flow table stores and the UPF's
reports and filters read. Keys are hashed to 64 bits
and kept in a sorted array for vectorised lookup; every hit is verified against the stored key and
the (astronomically rare) colliding keys take a small exact dictionary path instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

I64 = NDArray[np.int64]
U64 = NDArray[np.uint64]

FLOW_KEY_WIDTH = 5
"""Columns of a packed flow key (:meth:`FlowKeys.packed`)."""
_SESSION_SHIFT = np.uint64(40)
_PROTO_SHIFT = np.uint64(32)
_UE_PORT_SHIFT = np.uint64(16)

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(h: U64) -> U64:
    h = (h ^ (h >> np.uint64(30))) * _M1
    h = (h ^ (h >> np.uint64(27))) * _M2
    out: U64 = h ^ (h >> np.uint64(31))
    return out


@dataclass
class FlowKeys:
    """Flow key columns (one row per packet or per flow)."""

    session: NDArray[np.int32]
    proto: NDArray[np.uint8]
    ue_addr: U64
    ue_port: NDArray[np.uint16]
    remote_addr: U64
    remote_port: NDArray[np.uint16]

    def __len__(self) -> int:
        return len(self.session)

    def take(self, index: I64) -> FlowKeys:
        return FlowKeys(self.session[index], self.proto[index], self.ue_addr[index], self.ue_port[index],
                        self.remote_addr[index], self.remote_port[index])

    def packed(self) -> NDArray[np.uint64]:
        """The key as a (k, 5) uint64 matrix (exact, for comparisons); :meth:`unpack` is its inverse.

        Columns: ``session << 40 | proto << 32 | ue_port << 16 | remote_port``, then the UE address and the
        remote address as (hi, lo) 64-bit halves (IPv4 as IPv4-mapped IPv6, see :func:`ip_to_pair`).
        """
        meta = (self.session.astype(np.int64).astype(np.uint64) << _SESSION_SHIFT) | (
            self.proto.astype(np.uint64) << _PROTO_SHIFT) | (
            self.ue_port.astype(np.uint64) << _UE_PORT_SHIFT) | self.remote_port.astype(np.uint64)
        return np.column_stack([meta, self.ue_addr, self.remote_addr])

    @classmethod
    def unpack(cls, packed: NDArray[np.uint64]) -> FlowKeys:
        """The keys of a (k, >= 5) matrix written by :meth:`packed` (further columns, such as an application id
        appended by a consumer, are ignored)."""
        packed = np.atleast_2d(np.asarray(packed, dtype=np.uint64))
        if packed.shape[1] < FLOW_KEY_WIDTH:
            raise ValueError(f"a packed flow key has {FLOW_KEY_WIDTH} columns, got {packed.shape[1]}")
        meta = packed[:, 0]
        return cls(
            session=(meta >> _SESSION_SHIFT).astype(np.int64).astype(np.int32),
            proto=((meta >> _PROTO_SHIFT) & np.uint64(0xFF)).astype(np.uint8),
            ue_addr=packed[:, 1:3], ue_port=((meta >> _UE_PORT_SHIFT) & np.uint64(0xFFFF)).astype(np.uint16),
            remote_addr=packed[:, 3:5], remote_port=(meta & np.uint64(0xFFFF)).astype(np.uint16),
        )

    def hash(self) -> U64:
        """64-bit splitmix-style hash of the packed key."""
        cols = self.packed()
        h = np.full(len(self), _GOLDEN, np.uint64)
        for c in range(cols.shape[1]):
            h = _mix(h ^ cols[:, c])
        return h


class KeyIndex:
    """uint64 key -> slot, stored as a sorted array; vectorised lookup, batch insert and delete."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, np.uint64)
        self.slots = np.zeros(0, np.int64)

    def __len__(self) -> int:
        return len(self.keys)

    def lookup(self, keys: U64) -> I64:
        if len(self.keys) == 0:
            return np.full(len(keys), -1, np.int64)
        pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        out: I64 = np.where(self.keys[pos] == keys, self.slots[pos], -1)
        return out

    def insert(self, keys: U64, slots: I64) -> None:
        """Insert new (absent, unique) keys."""
        order = np.argsort(keys, kind="stable")
        keys, slots = keys[order], slots[order]
        pos = np.searchsorted(self.keys, keys)
        self.keys = np.insert(self.keys, pos, keys)
        self.slots = np.insert(self.slots, pos, slots)

    def delete(self, keys: U64) -> None:
        pos = np.searchsorted(self.keys, keys)
        pos = pos[(pos < len(self.keys)) & (self.keys[np.minimum(pos, len(self.keys) - 1)] == keys)]
        keep = np.ones(len(self.keys), np.bool_)
        keep[pos] = False
        self.keys, self.slots = self.keys[keep], self.slots[keep]


class FlowIndex:
    """Flow key -> slot with slot allocation; ``resolve`` is the batch entry point."""

    def __init__(self, hash_fn: object = None) -> None:
        self.index = KeyIndex()
        self.overflow: dict[bytes, int] = {}
        self.collisions = 0
        self.hash = hash_fn if callable(hash_fn) else FlowKeys.hash
        self.stored: U64 = np.zeros((0, 5), np.uint64)
        self.hashes: U64 = np.zeros(0, np.uint64)
        self.in_overflow = np.zeros(0, np.bool_)

    def grow(self, capacity: int) -> None:
        if capacity > len(self.hashes):
            extra = capacity - len(self.hashes)
            self.stored = np.concatenate([self.stored, np.zeros((extra, 5), np.uint64)])
            self.hashes = np.concatenate([self.hashes, np.zeros(extra, np.uint64)])
            self.in_overflow = np.concatenate([self.in_overflow, np.zeros(extra, np.bool_)])

    def resolve(self, keys: FlowKeys) -> tuple[I64, I64, U64]:
        """Per-packet slot (-1 = new flow), the representative row of each new flow and its group."""
        packed = keys.packed()
        h = self.hash(keys)
        uniq, first, inv = np.unique(h, return_index=True, return_inverse=True)
        slot_of_group = self.index.lookup(uniq)
        rep = packed[first]
        pure = np.all(packed == rep[inv], axis=1)
        hit = slot_of_group >= 0
        hit_ok = np.zeros(len(uniq), np.bool_)
        hit_ok[hit] = np.all(self.stored[slot_of_group[hit]] == rep[hit], axis=1)
        slot = slot_of_group[inv]
        slot[(slot >= 0) & ~hit_ok[inv]] = -1
        slow = ~pure | (hit & ~hit_ok)[inv]
        return slot, np.flatnonzero(slow).astype(np.int64), h

    def add(self, slots: I64, packed: U64, hashes: U64, overflow: bool) -> None:
        """Register new flows at ``slots``."""
        self.stored[slots] = packed
        self.hashes[slots] = hashes
        self.in_overflow[slots] = overflow
        if overflow:
            for s, row in zip(slots.tolist(), packed, strict=True):
                self.overflow[row.tobytes()] = s
        else:
            self.index.insert(hashes, slots)

    def remove(self, slots: I64) -> None:
        ov = slots[self.in_overflow[slots]]
        for s in ov.tolist():
            self.overflow.pop(self.stored[s].tobytes(), None)
        self.index.delete(self.hashes[slots[~self.in_overflow[slots]]])
        self.in_overflow[slots] = False
