"""Processor settings."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ProcessorSettings(BaseModel):
    """Windowing of UPF usage data into flows, per-UE and per-slice/DNN features."""

    model_config = ConfigDict(extra="forbid")

    window_s: float = Field(10.0, gt=0)
    """Length of the sliding window the features are computed over (the closed-loop benchmark uses
    ``max(10, 3 x repPeriod)`` s, so that a window spans at least three reports)."""
    hop_s: float = Field(0.0, ge=0)
    """Minimum report-time advance between two windows; 0 = a window per report period (fastest reaction)."""
    slice_features: bool = True
    """Publish per-slice / per-DNN features of every window on ``nwdaf.processor.slice-features``."""
    flow_records_per_message: int = Field(2000, ge=1)
    """A window's flow records go out in messages of at most this many rows (about 160 B each), so a busy window
    stays under Kafka's default 1 MB message limit (``message.max.bytes``)."""
    dedup_ids: int = Field(10_000, ge=0)
    """How many recent bus message ids to remember so a redelivered notification is not counted twice."""
    recent_min_s: float = Field(1.0, gt=0)
    """The newest report period counts as at least this long for its ``recent_*`` rates. A UPF replaying a
    recording fast on a busy machine can close a report over a few data milliseconds (its clock stalls behind its
    ticks); two flows in 50 ms are not 40 flows per second."""
    beacon_lookback_s: float = Field(900.0, gt=0)
    """How far back the per-host contact history for beaconing reaches (:mod:`nwdaf.lib.features.beacons`); its
    memory is bounded (contacts per service and in all)."""
