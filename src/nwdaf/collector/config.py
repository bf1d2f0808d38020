"""Collector settings: which UPFs to subscribe to, and how."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class UpfEeTarget(BaseModel):
    """One Nupf_EventExposure subscription the collector keeps alive."""

    model_config = ConfigDict(extra="forbid")

    api_root: str = ""
    """UPF API root (``http://host:port``); empty = the UPF served by this process (``nwdaf run all``)."""
    rep_period_s: int = Field(2, ge=1)
    """Reporting period (``repPeriod``); seed 003 used 1, 3 and 5 s."""
    event_types: list[Literal["USER_DATA_USAGE_MEASURES", "USER_DATA_USAGE_TRENDS"]] = ["USER_DATA_USAGE_MEASURES"]
    measurement_types: list[Literal["VOLUME_MEASUREMENT", "THROUGHPUT_MEASUREMENT"]] = ["VOLUME_MEASUREMENT"]
    granularity: Literal["PER_FLOW", "PER_SESSION", "PER_APPLICATION"] = "PER_FLOW"


class CollectorSettings(BaseModel):
    """Data collection: UPF event exposure subscriptions (the Data Receiver needs no settings)."""

    model_config = ConfigDict(extra="forbid")

    upf_ee: list[UpfEeTarget] = []
    resubscribe_after_periods: float = Field(3.0, gt=1)
    """Re-subscribe when a subscription has been silent this many periods (e.g. the UPF restarted and forgot it)."""
