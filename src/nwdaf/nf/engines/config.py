"""Engine settings: rule thresholds and where the models come from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AbnormalBehaviourSettings(BaseModel):
    """Thresholds of the statistical rules and of the model."""

    model_config = ConfigDict(extra="forbid")

    model_threshold: float | None = Field(None, gt=0, lt=1)
    """Override of the model's own operating threshold (stored in the model bundle, chosen at training for a
    target false-positive rate per window); None = the model's."""
    scan_distinct_ports: float = Field(20, gt=0)
    scan_distinct_destinations: float = Field(15, gt=0)
    scan_short_fraction: float = Field(0.6, gt=0, le=1)
    flood_packets_per_s: float = Field(300, gt=0)
    flood_unanswered_share: float = Field(0.8, gt=0, le=1)
    """A flood: at least ``flood_packets_per_s`` out, and almost nothing back (< 10 % of the packets) or at least
    this share of the packets out on flows that got no answer."""
    large_rate_bps: float = Field(50e6, gt=0)
    frequent_flows_per_s: float = Field(20, gt=0)
    frequent_max_destinations: float = Field(3, gt=0)
    population_min_ues: int = Field(20, ge=3)
    """Fewest UEs in a window for the window-relative bounds; below it, the floors alone apply."""
    population_mad_k: float = Field(5.0, gt=0)
    """Window-relative bound of the peer rules: a count must reach median + k x MAD-sigma of the window's UEs (and
    the rule's floor below)."""
    scan_unanswered_destinations: float = Field(10, gt=0)
    """Floor: distinct destinations of unanswered flows (horizontal scan)."""
    icmp_sweep_destinations: float = Field(10, gt=0)
    scan_ports_per_destination: float = Field(10, gt=0)
    """Floor: distinct unanswered/failed ports on one destination (vertical scan)."""
    flood_min_contribution: float = Field(0.1, gt=0)
    """A UE takes part in a distributed flood when it sends a flood target at least this fraction of the mean
    per-source packets the target receives."""
    flood_flows_per_s: float = Field(2, gt=0)
    """A flood of flows: at least this many new flows per second to one service, at least
    ``flood_unanswered_share`` of them unanswered."""
    brute_force_per_min: float = Field(20, gt=0)
    brute_force_min_flows: float = Field(10, gt=0)
    regular_size_cv: float = Field(0.2, gt=0)
    """Flows to one service are "near-identical" when the robust CV (1.4826 MAD / median) of their byte counts is
    at most this."""
    beacon_min_contacts: float = Field(6, gt=0)
    """Beaconing (across windows, :mod:`nwdaf.lib.features.beacons`): fewest new contacts with one peer service
    over the lookback."""
    beacon_gap_cv: float = Field(0.25, gt=0)
    """Beaconing: largest robust CV (1.4826 MAD / median) of the gaps between contacts."""
    beacon_min_gap_s: float = Field(2.0, ge=0)
    """Beaconing: shortest median gap (a burst of connections is not a timer)."""
    beacon_min_span_s: float = Field(120.0, ge=0)
    """Beaconing must persist: first to last contact at least this long (two windows of 60 s)."""
    spam_smtp_peers: float = Field(10, gt=0)


class EngineSettings(BaseModel):
    """Analytics engines (AnLF)."""

    model_config = ConfigDict(extra="forbid")

    abnormal_behaviour: AbnormalBehaviourSettings = AbnormalBehaviourSettings()
    mtlf_api_root: str = ""
    """Where Nnwdaf_MLModelProvision is served; empty = this process's NWDAF (``nwdaf run all``)."""
    model_exception_ids: list[str] = ["SUSPICION_OF_DDOS_ATTACK"]
    """ExceptionIds the requested model must serve (``mLEventFilter.excepIds``)."""
    subscribe_retry_s: float = Field(2.0, gt=0)
