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


class EngineSettings(BaseModel):
    """Analytics engines (AnLF)."""

    model_config = ConfigDict(extra="forbid")

    abnormal_behaviour: AbnormalBehaviourSettings = AbnormalBehaviourSettings()
    mtlf_api_root: str = ""
    """Where Nnwdaf_MLModelProvision is served; empty = this process's NWDAF (``nwdaf run all``)."""
    model_exception_ids: list[str] = ["SUSPICION_OF_DDOS_ATTACK"]
    """ExceptionIds the requested model must serve (``mLEventFilter.excepIds``)."""
    subscribe_retry_s: float = Field(2.0, gt=0)
