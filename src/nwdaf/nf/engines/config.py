"""Engine settings: rule thresholds and where the models come from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from nwdaf.nf.engines.abnormal_behaviour import AbnormalBehaviourSettings


class EngineSettings(BaseModel):
    """Analytics engines (AnLF)."""

    model_config = ConfigDict(extra="forbid")

    abnormal_behaviour: AbnormalBehaviourSettings = AbnormalBehaviourSettings()
    mtlf_api_root: str = ""
    """Where Nnwdaf_MLModelProvision is served; empty = this process's NWDAF (``nwdaf run all``)."""
    model_exception_ids: list[str] = ["SUSPICION_OF_DDOS_ATTACK"]
    """ExceptionIds the requested model must serve (``mLEventFilter.excepIds``)."""
    subscribe_retry_s: float = Field(2.0, gt=0)
