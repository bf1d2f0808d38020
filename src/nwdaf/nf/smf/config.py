"""Settings of the SMF policy consumer: the ``smf`` section of :class:`nwdaf.app.config.Settings` (YAML ``smf:``,
environment ``NWDAF_SMF__*``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nwdaf.platform.models import ExceptionId


class SmfSettings(BaseModel):
    """Subscription to the NWDAF and the guardrails around releasing PDU sessions."""

    model_config = ConfigDict(extra="forbid")

    nwdaf_api_root: str = ""
    """``{apiRoot}`` of the NWDAF; empty = the NWDAF of this deployment (``nwdaf_sbi``)."""
    upf_api_root: str = ""
    """``{apiRoot}`` of the UPF's N4-like API; empty = the UPF of this deployment (``upf_sbi``)."""
    callback_api_root: str = ""
    """``{apiRoot}`` the NWDAF reaches this SMF at; empty = this SMF's own SBI address."""
    exception_ids: list[ExceptionId] = Field(default_factory=lambda: [ExceptionId.SUSPICION_OF_DDOS_ATTACK],
                                             min_length=1)
    """ExceptionIds subscribed to (``excepRequs``) and acted on."""
    notification_method: Literal["ON_EVENT_DETECTION", "PERIODIC"] = "ON_EVENT_DETECTION"
    """How the NWDAF reports: ON_EVENT_DETECTION (``evtReq.notifMethod`` ON_EVENT_DETECTION, the event's
    ``notificationMethod`` THRESHOLD) notifies a finding as soon as the NWDAF has it; PERIODIC (both levels
    PERIODIC, ``repPeriod`` = ``repetitionPeriod`` = ``repetition_period_s``) every period, findings or not, so a
    finding waits up to a period. ``THRESHOLD``, the value of earlier releases, is read as ON_EVENT_DETECTION."""
    repetition_period_s: int = Field(1, ge=1)
    """``repetitionPeriod`` when ``notification_method`` is PERIODIC."""
    immediate_report: bool = True
    """Ask for the current analytics in the subscription response (``evtReq.immRep``)."""
    resubscribe_check_s: float = Field(30.0, gt=0)
    """How often the subscription is refreshed with PUT; a 404 means the NWDAF lost it, so it is recreated."""
    subscribe_retry_s: float = Field(2.0, gt=0)
    """Wait between attempts while the NWDAF cannot be reached."""
    allowlist: list[str] = Field(default_factory=list)
    """SUPIs whose sessions are never released."""
    max_releases_per_minute: int = Field(60, ge=0)
    """UEs released per sliding minute at most; 0 releases none."""
    dry_run: bool = False
    """Decide and audit, but never release."""
    min_confidence: int = Field(0, ge=0, le=100)
    """Findings below this confidence (0..100) are not acted on; a finding without confidence counts as 0."""
    audit_file: str = "smf-audit.jsonl"
    """JSON-lines audit file under ``settings.data_dir``; empty = in memory only."""
    audit_memory: int = Field(10_000, ge=1)
    """Audit entries kept in memory for ``GET /audit``."""
    queue_size: int = Field(10_000, ge=1)
    """Notifications accepted but not yet acted on; beyond that the callback answers 503 (the NWDAF retries)."""

    @field_validator("notification_method", mode="before")
    @classmethod
    def _threshold_is_on_detection(cls, v: object) -> object:
        # TS 29.520 names reports on detection THRESHOLD per event, TS 29.523 ON_EVENT_DETECTION in evtReq.
        return "ON_EVENT_DETECTION" if v == "THRESHOLD" else v

    @field_validator("allowlist")
    @classmethod
    def _no_blank(cls, v: list[str]) -> list[str]:
        if any(not s.strip() for s in v):
            raise ValueError("allowlist entries must be non-empty SUPIs")
        return v
