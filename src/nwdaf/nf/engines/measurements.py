"""``AdditionalMeasurement`` (TS 29.520 clause 5.1.6.2.x, ``addtMeasInfo``) for abnormal-behaviour findings.

What each exception carries, from what the per-UE window features hold (``host`` = the UE's IP,
``top_destinations`` = its most-used peers in the window, most packets first):

* ``WRONG_DESTINATION_ADDRESS`` -> ``wrgDest``: the peers the UE tried to reach (an ``AddressList``).
* ``SUSPICION_OF_DDOS_ATTACK`` -> ``ddosAttack``: the peers it sent the attack traffic to, the victims.
* ``UNEXPECTED_LARGE_RATE_FLOW`` -> ``unexpFlowTeps``: one ``IpEthFlowDescription`` per top peer, an IP filter
  ``permit out ip from <peer> to <UE>`` (TS 29.212 clause 5.4.2 writes filters downlink-wise; the features keep
  no ports or protocol per peer, so the filter is address-only).
* ``TOO_FREQUENT_SERVICE_ACCESS`` -> ``circums``: one ``CircumstanceDescription`` with ``freq`` (new flows per
  second), ``tm`` (start of the period measured) and ``vol`` (uplink bytes the UE sent in it).

``unexpLoc`` and ``unexpWakes`` need location and paging data the UPF does not report, so they are never set.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from nwdaf.platform.models.common import format_datetime
from nwdaf.platform.models.flows import IpFlow, format_flow_description

ADDRESS_LIST_FIELDS = {"WRONG_DESTINATION_ADDRESS": "wrgDest", "SUSPICION_OF_DDOS_ATTACK": "ddosAttack"}
"""ExceptionIds whose evidence is an ``AddressList`` of the UE's peers, and the attribute it goes into."""


def _addresses(values: Iterable[Any]) -> tuple[list[str], list[str]]:
    """Valid IPv4 and IPv6 addresses among ``values``, in order, without duplicates."""
    v4: list[str] = []
    v6: list[str] = []
    for value in values:
        try:
            addr = ipaddress.ip_address(str(value))
        except ValueError:
            continue
        target = v4 if addr.version == 4 else v6
        if str(addr) not in target:
            target.append(str(addr))
    return v4, v6


def address_list(values: Iterable[Any]) -> dict[str, list[str]] | None:
    """TS 29.520 ``AddressList`` (``ipv4Addrs``/``ipv6Addrs``, each non-empty when present), None if empty."""
    v4, v6 = _addresses(values)
    out = ({"ipv4Addrs": v4} if v4 else {}) | ({"ipv6Addrs": v6} if v6 else {})
    return out or None


def flow_descriptions(ue_ip: Any, peers: Iterable[Any]) -> list[dict[str, str]] | None:
    """``unexpFlowTeps``: an address-only IP filter per peer of the UE, None without a valid UE address."""
    try:
        ue = ipaddress.ip_address(str(ue_ip))
    except ValueError:
        return None
    v4, v6 = _addresses(peers)
    same_family = v4 if ue.version == 4 else v6
    filters = [format_flow_description(IpFlow(None, peer, str(ue))) for peer in same_family]
    return [{"ipTrafficFilter": f} for f in filters] or None


def circumstance(freq: float, period_start: float, uplink_bytes: float | None) -> dict[str, Any]:
    """One ``CircumstanceDescription``: how often (flows/s), from when, and how much (uplink bytes)."""
    out: dict[str, Any] = {"freq": round(float(freq), 3),
                           "tm": format_datetime(datetime.fromtimestamp(period_start, UTC))}
    if uplink_bytes is not None:
        out["vol"] = max(int(uplink_bytes), 0)
    return out


def additional_measurement(
    excep_id: str, row: Mapping[str, Any], circums: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """``addtMeasInfo`` in wire form for one finding on one UE's feature row (None when nothing is known)."""
    peers = row.get("top_destinations") or []
    if excep_id in ADDRESS_LIST_FIELDS:
        addresses = address_list(peers)
        return {ADDRESS_LIST_FIELDS[excep_id]: addresses} if addresses else None
    if excep_id == "UNEXPECTED_LARGE_RATE_FLOW":
        teps = flow_descriptions(row.get("host"), peers)
        return {"unexpFlowTeps": teps} if teps else None
    if excep_id == "TOO_FREQUENT_SERVICE_ACCESS" and circums is not None:
        return {"circums": [circums]}
    return None
