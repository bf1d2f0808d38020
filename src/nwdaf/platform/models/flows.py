"""Flow descriptions used by Nupf_EventExposure reports and NWDAF analytics: ``FlowInformation`` (TS 29.512),
``EthFlowDescription`` (TS 29.514) and helpers for the ``FlowDescription`` string (an IPFilterRule as profiled
by TS 29.212 clause 5.4.2, e.g. ``"permit out 17 from 142.250.1.1 443 to 10.42.0.2 50000"``)."""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Annotated, NamedTuple

from pydantic import Field

from nwdaf.platform.models.common import FlowDescription, MacAddr48, WireModel


class FlowDirection(StrEnum):
    """Direction(s) a flow description applies to (TS 29.512)."""

    DOWNLINK = "DOWNLINK"
    UPLINK = "UPLINK"
    BIDIRECTIONAL = "BIDIRECTIONAL"
    UNSPECIFIED = "UNSPECIFIED"


class EthFlowDescription(WireModel):
    """An Ethernet flow (TS 29.514); ``fDir`` is its direction, ``fDesc`` an optional IP filter inside it."""

    destMacAddr: MacAddr48 | None = None
    ethType: str
    fDesc: FlowDescription | None = None
    fDir: FlowDirection | None = None
    sourceMacAddr: MacAddr48 | None = None
    vlanTags: Annotated[list[str], Field(min_length=1, max_length=2)] | None = None
    srcMacAddrEnd: MacAddr48 | None = None
    destMacAddrEnd: MacAddr48 | None = None


class FlowInformation(WireModel):
    """One service data flow (TS 29.512). The direction attribute is ``flowDirection`` (``fDir`` belongs to
    :class:`EthFlowDescription`); ``packFiltId`` is a string identifier, not a 5-tuple."""

    flowDescription: FlowDescription | None = None
    ethFlowDescription: EthFlowDescription | None = None
    packFiltId: str | None = None
    packetFilterUsage: bool | None = None
    tosTrafficClass: str | None = None
    spi: str | None = None
    flowLabel: str | None = None
    flowDirection: FlowDirection | None = None


class IpFlow(NamedTuple):
    """The parts of a flow description. TS 29.212 writes every filter downlink-wise ("permit out"): ``src`` is
    the remote peer and ``dst`` the UE; :class:`FlowInformation.flowDirection` says which directions apply.
    Addresses are an address, a CIDR prefix, ``any`` or (UE side) ``assigned``; ports a port, a range
    ``"8000-8080"`` or a comma-separated list of those. ``protocol`` None means any IP protocol."""

    protocol: int | None
    src: str
    dst: str
    src_ports: str | None = None
    dst_ports: str | None = None


class FlowDescriptionError(ValueError):
    """A flow description string or part that TS 29.212 clause 5.4.2 does not allow."""


_PROTOCOL_NAMES = {"icmp": 1, "tcp": 6, "udp": 17, "ipv6-icmp": 58}
_PORTS = re.compile(r"^[0-9]{1,5}(-[0-9]{1,5})?(,[0-9]{1,5}(-[0-9]{1,5})?)*$")
_RULE = re.compile(r"^permit out (\S+) from (\S+)(?: (\S+))? to (\S+)(?: (\S+))?$")


def _address(value: str, side: str) -> str:
    if value == "any" or (value == "assigned" and side == "dst"):
        return value
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise FlowDescriptionError(f"{side} {value!r} is not an IP address, prefix, 'any' or 'assigned'") from None
    return value


def _ports(value: str | None, side: str) -> str | None:
    if value is None:
        return None
    if not _PORTS.fullmatch(value) or any(int(p) > 65535 for p in re.split(r"[-,]", value)):
        raise FlowDescriptionError(f"{side} ports {value!r} are not port[-port][,port[-port]...] in 0..65535")
    return value


def format_flow_description(flow: IpFlow) -> str:
    """:class:`IpFlow` -> ``"permit out <proto> from <src> [ports] to <dst> [ports]"``."""
    if flow.protocol is not None and not 0 <= flow.protocol <= 255:
        raise FlowDescriptionError(f"protocol {flow.protocol} is not 0..255")
    parts = ["permit out", "ip" if flow.protocol is None else str(flow.protocol), "from", _address(flow.src, "src")]
    if _ports(flow.src_ports, "src") is not None:
        parts.append(str(flow.src_ports))
    parts += ["to", _address(flow.dst, "dst")]
    if _ports(flow.dst_ports, "dst") is not None:
        parts.append(str(flow.dst_ports))
    return " ".join(parts)


def parse_flow_description(text: str) -> IpFlow:
    """``"permit out 17 from 142.250.1.1 443 to 10.42.0.2 50000"`` -> :class:`IpFlow`. Accepts the protocol
    names icmp/tcp/udp/ipv6-icmp that some peers send; rejects IPFilterRule options TS 29.212 does not use."""
    match = _RULE.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise FlowDescriptionError(
            f"{text!r} is not 'permit out <proto> from <src> [ports] to <dst> [ports]' (TS 29.212 clause 5.4.2)"
        )
    proto, src, src_ports, dst, dst_ports = match.groups()
    if proto == "ip":
        protocol = None
    elif proto.isdigit() and int(proto) <= 255:
        protocol = int(proto)
    elif proto in _PROTOCOL_NAMES:
        protocol = _PROTOCOL_NAMES[proto]
    else:
        raise FlowDescriptionError(f"protocol {proto!r} is not 'ip', a number 0..255 or a known name")
    return IpFlow(
        protocol, _address(src, "src"), _address(dst, "dst"), _ports(src_ports, "src"), _ports(dst_ports, "dst")
    )
