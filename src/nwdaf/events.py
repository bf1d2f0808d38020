"""Internal bus events: small hand-written models, separate from the 3GPP wire models (STYLE.md point 4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from pydantic import BaseModel, ConfigDict

NF_NOTIFICATION: Final = "NfNotification"


class NfNotification(BaseModel):
    """A notification another NF sent us, validated, as published by the collector / Data Receiver."""

    model_config = ConfigDict(frozen=True)

    source: str
    """Which feed: ``upf-ee``, ``smf-ee``, ``amf-ee`` or ``nf`` (anything without a 3GPP schema here)."""
    received_at: datetime
    ue_key: str | None = None
    """SUPI or UE IP the notification is about (the bus key), when it names exactly one."""
    body: dict[str, Any]
