"""Row filters of a subscribed event: ``appIds`` and ``trafficFilters`` (TS 29.564 ``UpfEvent``), vectorised.

A traffic filter is a TS 29.512 ``FlowInformation`` whose ``flowDescription`` is written downlink-wise
(``permit out <proto> from <remote> [ports] to <UE> [ports]``); a flow matches when protocol, remote address and
ports agree, and the UE side is ``assigned``/``any`` or the UE's address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from nwdaf.lib.dataplane.apps import APP_ID, APPLICATIONS
from nwdaf.lib.dataplane.batch import ip_to_pair
from nwdaf.lib.dataplane.flows import FLOW_KEY_WIDTH, FlowKeys
from nwdaf.nf.upf.usage import Level, Usage
from nwdaf.platform.models.flows import FlowDescriptionError, FlowInformation, parse_flow_description

Mask = NDArray[np.bool_]
U64 = NDArray[np.uint64]
_ALL = 0xFFFF_FFFF_FFFF_FFFF


class FilterError(ValueError):
    """A filter the UPF cannot apply; ``pointer`` names the offending attribute (JSON pointer)."""

    def __init__(self, pointer: str, reason: str) -> None:
        super().__init__(f"{pointer}: {reason}")
        self.pointer = pointer
        self.reason = reason


def app_id_set(app_ids: Sequence[str], pointer: str) -> frozenset[int]:
    """Application names (as reported in ``appId``) to data plane application ids."""
    unknown = [a for a in app_ids if a not in APP_ID]
    if unknown:
        raise FilterError(pointer, f"unknown application(s) {unknown}; this UPF detects {list(APPLICATIONS)}")
    return frozenset(APP_ID[a] for a in app_ids)


@dataclass(frozen=True, slots=True)
class _Net:
    hi: int
    lo: int
    mask_hi: int
    mask_lo: int

    @classmethod
    def parse(cls, text: str) -> _Net | None:
        if text in ("any", "assigned"):
            return None
        net = ipaddress.ip_network(text, strict=False)
        hi, lo = ip_to_pair(net.network_address)
        bits = net.prefixlen + (96 if net.version == 4 else 0)
        mask = (_ALL << 64 | _ALL) ^ ((1 << (128 - bits)) - 1)
        return cls(hi, lo, mask >> 64, mask & _ALL)

    def match(self, hi: U64, lo: U64) -> Mask:
        out: Mask = ((hi & np.uint64(self.mask_hi)) == np.uint64(self.hi)) & (
            (lo & np.uint64(self.mask_lo)) == np.uint64(self.lo))
        return out


def _ports(text: str | None) -> tuple[tuple[int, int], ...] | None:
    if text is None:
        return None
    ranges = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        ranges.append((int(lo), int(hi or lo)))
    return tuple(ranges)


def _port_match(ports: NDArray[np.uint64], ranges: tuple[tuple[int, int], ...] | None) -> Mask:
    if ranges is None:
        return np.ones(len(ports), np.bool_)
    out = np.zeros(len(ports), np.bool_)
    for lo, hi in ranges:
        out |= (ports >= np.uint64(lo)) & (ports <= np.uint64(hi))
    return out


@dataclass(frozen=True, slots=True)
class FlowFilter:
    """One compiled flow description."""

    protocol: int | None
    remote: _Net | None
    ue: _Net | None
    remote_ports: tuple[tuple[int, int], ...] | None
    ue_ports: tuple[tuple[int, int], ...] | None

    def match(self, keys: U64) -> Mask:
        """Which rows of packed flow keys (:meth:`FlowKeys.packed`, extra columns ignored) the filter selects."""
        k = FlowKeys.unpack(keys)
        ok = np.ones(len(k), np.bool_)
        if self.protocol is not None:
            ok &= k.proto == np.uint8(self.protocol)
        if self.remote is not None:
            ok &= self.remote.match(k.remote_addr[:, 0], k.remote_addr[:, 1])
        if self.ue is not None:
            ok &= self.ue.match(k.ue_addr[:, 0], k.ue_addr[:, 1])
        ok &= _port_match(k.remote_port.astype(np.uint64), self.remote_ports)
        ok &= _port_match(k.ue_port.astype(np.uint64), self.ue_ports)
        return ok


def compile_traffic_filters(filters: Sequence[FlowInformation], pointer: str) -> tuple[FlowFilter, ...]:
    """Compile ``trafficFilters``; each needs a ``flowDescription`` (Ethernet flows do not exist on this UPF)."""
    compiled = []
    for i, info in enumerate(filters):
        where = f"{pointer}/{i}/flowDescription"
        if info.flowDescription is None:
            raise FilterError(where, "a traffic filter needs a flowDescription (IP flows only)")
        try:
            flow = parse_flow_description(info.flowDescription)
            compiled.append(FlowFilter(flow.protocol, _Net.parse(flow.src), _Net.parse(flow.dst),
                                       _ports(flow.src_ports), _ports(flow.dst_ports)))
        except (FlowDescriptionError, ValueError) as exc:
            raise FilterError(where, str(exc)) from None
    return tuple(compiled)


@dataclass(frozen=True, slots=True)
class RowFilter:
    """The rows of one event: application ids and flow filters (None = no restriction)."""

    app_ids: frozenset[int] | None = None
    flows: tuple[FlowFilter, ...] | None = None

    def apply(self, usage: Usage, level: Level) -> Usage:
        if len(usage) == 0 or (self.app_ids is None and self.flows is None):
            return usage
        keep = np.ones(len(usage), np.bool_)
        if self.app_ids is not None:
            column = usage.keys[:, FLOW_KEY_WIDTH] if level is Level.FLOW else usage.keys[:, 1]
            keep &= np.isin(column, np.array(sorted(self.app_ids), np.uint64))
        if self.flows is not None:
            any_flow = np.zeros(len(usage), np.bool_)
            for flow in self.flows:
                any_flow |= flow.match(usage.keys)
            keep &= any_flow
        return usage.take(np.flatnonzero(keep))
