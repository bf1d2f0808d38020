"""Internal bus events: small hand-written models, separate from the 3GPP wire models (STYLE.md point 4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Final

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

    raw_json_fields: ClassVar[tuple[str, ...]] = ("body",)
    """Fields holding JSON as received: the envelope writes them as they are (see ``bus.envelope.encode``)."""


ANALYTICS_RESULT: Final = "AnalyticsResult"


class AbnormalBehaviourResult(BaseModel):
    """An engine's finding that one UE behaves abnormally in one window (becomes a 3GPP ``AbnormalBehaviour``)."""

    model_config = ConfigDict(frozen=True)

    excep_id: str
    """A TS 29.520 ``ExceptionId`` value, e.g. SUSPICION_OF_DDOS_ATTACK."""
    score: float
    """Model probability (0..1) or rule score that triggered the finding."""
    confidence: int
    """0..100, calibrated: the share of such findings that were right on held-out data."""
    excep_level: int | None = None
    ratio: int | None = None
    """1..100 (TS 29.520 ``SamplingRatio``): percentage of the UEs analysed in the window that show the same
    exception, rounded up so that one UE among many still reports 1."""
    addt_meas: dict[str, Any] | None = None
    """3GPP ``AdditionalMeasurement`` fields (``ddosAttack``, ``wrgDest`` …) already in wire form."""


class UeCommunicationResult(BaseModel):
    """A UE's communication pattern in one window (becomes a 3GPP ``UeCommunication``)."""

    model_config = ConfigDict(frozen=True)

    comm_dur_s: int
    ul_volume_bytes: int
    dl_volume_bytes: int
    peers: int
    app_ids: list[str] = []


class AnalyticsResult(BaseModel):
    """What an analytics engine publishes on ``nwdaf.anlf.analytics-results`` (keyed by SUPI)."""

    model_config = ConfigDict(frozen=True)

    event: str
    """A TS 29.520 ``NwdafEvent`` value: ABNORMAL_BEHAVIOUR, UE_COMMUNICATION …"""
    supi: str
    ue_ip: str | None = None
    snssai: dict[str, Any] | None = None
    dnn: str | None = None
    window_start: datetime
    window_end: datetime
    generated_at: datetime
    model_version: str | None = None
    abnormal: AbnormalBehaviourResult | None = None
    ue_comm: UeCommunicationResult | None = None


FLOW_RECORD_BATCH: Final = "FlowRecordBatch"
UE_FEATURE_BATCH: Final = "UeFeatureBatch"
SLICE_FEATURE_BATCH: Final = "SliceFeatureBatch"


class ColumnBatch(BaseModel):
    """A table for one window in columnar form (compact on the wire: names once, values as lists)."""

    model_config = ConfigDict(frozen=True)

    window_start: float
    """Epoch seconds."""
    window_end: float
    columns: dict[str, list[Any]]

    raw_json_fields: ClassVar[tuple[str, ...]] = ("columns",)
    """Plain lists of numbers, strings and nulls: the envelope writes them as they are."""

    @property
    def rows(self) -> int:
        return len(next(iter(self.columns.values()), []))


class FlowRecordBatch(ColumnBatch):
    """Flow records of one window (``nwdaf.lib.flows.FLOW_SCHEMA`` columns plus supi/snssai/dnn)."""


class UeFeatureBatch(ColumnBatch):
    """Per-UE features of one window: ``window_start``, ``host`` (UE IP), ``supi``, ``snssai`` (the S-NSSAI key,
    ``"1"`` / ``"1-00000a"``) and ``dnn`` of the UE's PDU session (null when the UPF did not report them), and the
    feature columns."""


class SliceFeatureBatch(ColumnBatch):
    """Per-slice / per-DNN features of one window: ``scope`` (``snssai``, ``dnn`` or ``snssai_dnn``: which keys
    group the row), ``snssai`` (``"1"`` / ``"1-000001"``), ``dnn`` (null where the scope does not group by it, or
    the UPF did not report it) and the feature columns of :mod:`nwdaf.lib.features.slice`."""
