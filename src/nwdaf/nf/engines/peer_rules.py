"""ABNORMAL_BEHAVIOUR rules over whom a UE talks to (:mod:`nwdaf.lib.features.peers`), with window-relative bounds.

Each count is compared with ``max(floor, median + k * 1.4826 * MAD)`` over the UEs of the same window
(:func:`population_bounds`): a threshold relative to the window's population, never below the configured floor,
so one busy network does not flag its ordinary hosts and a quiet one still catches a scanner. ExceptionIds (TS
29.520 ``ExceptionId``, the closest value for each behaviour):

* distributed flood (many UEs at one target, each possibly slow), or many unanswered flows per second from one
  UE to one service -> ``SUSPICION_OF_DDOS_ATTACK``;
* horizontal scan (unanswered flows to many destinations), ICMP sweep, vertical scan (many ports of one
  destination unanswered) -> ``WRONG_DESTINATION_ADDRESS``;
* brute force (many near-identical TCP connections per minute to one non-web host:port) and spam fan-out (many
  distinct SMTP peers) -> ``TOO_FREQUENT_SERVICE_ACCESS``;
* beaconing (new contacts with one peer service, not DNS/NTP/..., at regular intervals, persisting over several
  windows: :mod:`nwdaf.lib.features.beacons`) -> ``UNEXPECTED_WAKEUP`` (the UE wakes up on a timer to contact a
  peer).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from nwdaf.lib.features._common import INFRASTRUCTURE_PORTS
from nwdaf.nf.engines.config import AbnormalBehaviourSettings
from nwdaf.nf.engines.findings import Finding, rule_confidence
from nwdaf.nf.engines.measurements import circumstance

WEB_PORTS = frozenset({80, 443, 8080, 8443})
"""Browsers and apps open many near-identical connections per minute to one web server: not brute force here
(application-layer brute force over HTTP is not visible in flow records)."""
MAD_SCALE = 1.4826
"""MAD of a normal distribution's sample -> its standard deviation."""


def population_bounds(table: pl.DataFrame, s: AbnormalBehaviourSettings) -> dict[str, float]:
    """Per rule count: ``max(floor, median + k * MAD-sigma)`` over the window's rows (the floor alone when the
    column is absent or the window has fewer than ``population_min_ues`` rows)."""
    floors = {"unanswered_dsts": s.scan_unanswered_destinations, "icmp_dsts": s.icmp_sweep_destinations,
              "max_ports_per_dst": s.scan_ports_per_destination, "smtp_peers": s.spam_smtp_peers}
    return {col: robust_bound(table.get_column(col), floor, s) if col in table.columns else floor
            for col, floor in floors.items()}


def robust_bound(values: pl.Series, floor: float, s: AbnormalBehaviourSettings) -> float:
    """``max(floor, median + k * MAD-sigma)`` of ``values`` (nulls left out); the floor alone below
    ``population_min_ues`` values."""
    values = values.drop_nulls().cast(pl.Float64)
    if values.len() < s.population_min_ues:
        return floor
    med = float(values.median())  # type: ignore[arg-type]
    mad = float((values - med).abs().median()) * MAD_SCALE  # type: ignore[arg-type]
    return max(floor, med + s.population_mad_k * mad)


def _over(value: float, bound: float) -> float:
    return value / bound if bound > 0 else 0.0


def _scan(row: dict[str, Any], bounds: dict[str, float]) -> Finding | None:
    ratio = max(_over(row.get(c) or 0.0, bounds[c]) for c in ("unanswered_dsts", "icmp_dsts", "max_ports_per_dst"))
    if ratio < 1:
        return None
    return Finding("WRONG_DESTINATION_ADDRESS", min(ratio / 2, 1.0), rule_confidence(ratio, 1))


def _flood(row: dict[str, Any], window_s: float, s: AbnormalBehaviourSettings) -> Finding | None:
    """A distributed flood the UE takes part in, or a flood of unanswered flows from this UE to one service (the
    per-packet flood rule's counterpart where records carry no packet split, as Argus's)."""
    fan_in, contrib = row.get("flood_fan_in") or 0.0, row.get("flood_contrib") or 0.0
    if fan_in > 0 and contrib >= s.flood_min_contribution:
        return Finding("SUSPICION_OF_DDOS_ATTACK", min(0.5 + contrib / 4, 1.0), rule_confidence(min(contrib, 2), 1))
    rate = (row.get("svc_flows") or 0.0) / window_s
    if rate >= s.flood_flows_per_s and (row.get("svc_unanswered") or 0.0) >= s.flood_unanswered_share:
        ratio = rate / s.flood_flows_per_s
        return Finding("SUSPICION_OF_DDOS_ATTACK", min(ratio / 2, 1.0), rule_confidence(ratio, 1))
    return None


def _service(row: dict[str, Any], window_s: float, start: float, s: AbnormalBehaviourSettings,
             bounds: dict[str, float]) -> list[Finding]:
    out: list[Finding] = []
    flows = row.get("svc_flows") or 0.0
    size_cv = row.get("svc_size_cv")
    regular_size = size_cv is not None and size_cv <= s.regular_size_cv
    per_min = 60 * flows / window_s
    port = row.get("svc_port")
    service = row.get("svc_proto") == "tcp" and port not in WEB_PORTS and port not in INFRASTRUCTURE_PORTS
    if service and flows >= s.brute_force_min_flows and per_min >= s.brute_force_per_min and regular_size:
        ratio = per_min / s.brute_force_per_min
        out.append(Finding("TOO_FREQUENT_SERVICE_ACCESS", min(ratio / 2, 1.0), rule_confidence(ratio, 1),
                           circums=circumstance(flows / window_s, start, row.get("bytes_out"))))
    smtp = row.get("smtp_peers") or 0.0
    if smtp >= bounds["smtp_peers"]:
        ratio = smtp / bounds["smtp_peers"]
        out.append(Finding("TOO_FREQUENT_SERVICE_ACCESS", min(ratio / 2, 1.0), rule_confidence(ratio, 1),
                           circums=circumstance(smtp / window_s, start, row.get("bytes_out"))))
    return out


def _beacon(row: dict[str, Any], s: AbnormalBehaviourSettings) -> Finding | None:
    """Beaconing across windows (:mod:`nwdaf.lib.features.beacons`): at least ``beacon_min_contacts`` new
    contacts with one peer service (not DNS/NTP/...), gaps of at least ``beacon_min_gap_s`` with a robust CV of at
    most ``beacon_gap_cv``, near-identical sizes (robust CV at most ``regular_size_cv``), the pattern persisting
    over at least ``beacon_min_span_s``."""
    contacts, gap_cv = row.get("beacon_contacts") or 0.0, row.get("beacon_gap_cv")
    if contacts < s.beacon_min_contacts or gap_cv is None or gap_cv > s.beacon_gap_cv:
        return None
    if (row.get("beacon_gap_s") or 0.0) < s.beacon_min_gap_s:
        return None
    size_cv = row.get("beacon_size_cv")
    if size_cv is None or size_cv > s.regular_size_cv:  # a check-in repeats one exchange
        return None
    if (row.get("beacon_span_s") or 0.0) < s.beacon_min_span_s:
        return None
    regularity = 1 - gap_cv / s.beacon_gap_cv
    return Finding("UNEXPECTED_WAKEUP", 0.5 + 0.5 * regularity, rule_confidence(1 + regularity, 1))


def peer_rules(row: dict[str, Any], window_s: float, start: float, s: AbnormalBehaviourSettings,
               bounds: dict[str, float]) -> list[Finding]:
    """The findings of one UE's window row from its peer features (none when the row has no peer features)."""
    found = [f for f in (_scan(row, bounds), _flood(row, window_s, s), _beacon(row, s)) if f is not None]
    return found + _service(row, window_s, start, s, bounds)
