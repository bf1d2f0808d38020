"""Collector settings: which UPFs, SMFs and AMFs to subscribe to, and how."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class UpfEeTarget(BaseModel):
    """One Nupf_EventExposure subscription the collector keeps alive."""

    model_config = ConfigDict(extra="forbid")

    api_root: str = ""
    """UPF API root (``http://host:port``); empty = the UPF served by this process (``nwdaf run all``)."""
    rep_period_s: int = Field(2, ge=1)
    """Reporting period (``repPeriod``); the closed-loop benchmark runs 1, 3 and 5 s."""
    event_types: list[Literal["USER_DATA_USAGE_MEASURES", "USER_DATA_USAGE_TRENDS"]] = ["USER_DATA_USAGE_MEASURES"]
    measurement_types: list[Literal["VOLUME_MEASUREMENT", "THROUGHPUT_MEASUREMENT"]] = ["VOLUME_MEASUREMENT"]
    granularity: Literal["PER_FLOW", "PER_SESSION", "PER_APPLICATION"] = "PER_FLOW"


SmfEventName = Literal["PDU_SES_EST", "PDU_SES_REL", "UE_IP_CH", "QFI_ALLOC", "AC_TY_CH", "RAT_TY_CH", "PLMN_CH",
                       "UP_PATH_CH", "COMM_FAIL"]
"""TS 29.508 ``SmfEvent`` values the collector may subscribe to."""


class SmfEeTarget(BaseModel):
    """One Nsmf_EventExposure (TS 29.508) any-UE subscription, ON_EVENT_DETECTION."""

    model_config = ConfigDict(extra="forbid")

    api_root: str = Field(min_length=1)
    """SMF API root (``http://host:port``); the SMF of this project is a policy consumer, not an EE producer."""
    events: list[SmfEventName] = Field(["PDU_SES_EST", "PDU_SES_REL", "UE_IP_CH"], min_length=1)
    """Default: what ties a UE address to its SUPI, slice and DNN over the PDU session's life."""
    immediate_report: bool = True
    """``ImmeRep``: the SMF reports the current state (PDU sessions already up) right after subscribing."""
    check_interval_s: float = Field(30.0, gt=0)
    """How often the subscription is read back (GET); a 404 means the SMF lost it and it is re-created."""


AmfEventName = Literal["LOCATION_REPORT", "REGISTRATION_STATE_REPORT", "CONNECTIVITY_STATE_REPORT",
                       "REACHABILITY_REPORT", "ACCESS_TYPE_REPORT", "COMMUNICATION_FAILURE_REPORT",
                       "LOSS_OF_CONNECTIVITY"]
"""TS 29.518 ``AmfEventType`` values the collector may subscribe to."""


class AmfEeTarget(BaseModel):
    """One Namf_EventExposure (TS 29.518) any-UE subscription, CONTINUOUS, with an expiry it keeps refreshing."""

    model_config = ConfigDict(extra="forbid")

    api_root: str = Field(min_length=1)
    """AMF API root (``http://host:port``)."""
    events: list[AmfEventName] = Field(
        ["LOCATION_REPORT", "REGISTRATION_STATE_REPORT", "CONNECTIVITY_STATE_REPORT"], min_length=1)
    """Default: where each UE is, whether it is registered and whether it is connected."""
    immediate_report: bool = True
    """``immediateFlag`` of each event: the current state is reported with the subscription."""
    check_interval_s: float = Field(30.0, gt=0)
    """How often the expiry is pushed forward (PATCH ``/options/expiry``); a 404 means the AMF lost it."""
    expiry_s: float = Field(300.0, gt=0)
    """Lifetime of the subscription from the last refresh: an AMF drops it by itself if this NWDAF is gone."""

    @model_validator(mode="after")
    def _refresh_before_expiry(self) -> Self:
        if self.expiry_s <= self.check_interval_s:
            raise ValueError(f"expiry_s ({self.expiry_s}) must be longer than check_interval_s "
                             f"({self.check_interval_s}), or the subscription expires between refreshes")
        return self


class CollectorSettings(BaseModel):
    """Data collection: UPF, SMF and AMF event exposure subscriptions (the Data Receiver needs no settings)."""

    model_config = ConfigDict(extra="forbid")

    upf_ee: list[UpfEeTarget] = []
    resubscribe_after_periods: float = Field(3.0, gt=1)
    """Re-subscribe when a subscription has been silent this many periods (e.g. the UPF restarted and forgot it)."""
    smf_ee: list[SmfEeTarget] = []
    amf_ee: list[AmfEeTarget] = []
