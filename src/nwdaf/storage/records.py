"""Bus events the storage sink consumes besides UPF notifications and analytics results.

The processor publishes flow records on ``topics.FLOW_RECORDS`` and feature vectors on ``topics.UE_FEATURES``
with these payloads (small hand-written models, STYLE.md point 4)::

    await bus.publish(topics.FLOW_RECORDS, encode(FlowRecordsBatch(records=df.to_dicts()),
                      type_=FLOW_RECORDS_BATCH, source="processor"), key=supi.encode())

Times are epoch seconds (UTC), as in :mod:`nwdaf.datasets.schema`; S-NSSAIs are their TS 29.571 string key
(``"1"`` or ``"1-000001"``). Keep one message under the bus's size limit (Kafka's default is 1 MB, about 3,000
flow records): publish large frames in chunks.
"""

from __future__ import annotations

import math
from typing import Annotated, Final

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

FLOW_RECORDS_BATCH: Final = "FlowRecordsBatch"
UE_FEATURES_BATCH: Final = "UeFeaturesBatch"

SNSSAI_KEY_PATTERN: Final = r"^([0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-5])(-[A-Fa-f0-9]{6})?$"
SnssaiKey = Annotated[str, StringConstraints(pattern=SNSSAI_KEY_PATTERN), AfterValidator(str.lower)]
EpochSeconds = Annotated[float, Field(ge=0, le=2**32 - 1, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0, le=2**63 - 1)]
Port = Annotated[int, Field(ge=0, le=65535)]


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FlowRecord(_Event):
    """One flow in the :data:`nwdaf.datasets.schema.FLOW_SCHEMA` columns, plus the UE and slice it belongs to."""

    start_ts: EpochSeconds
    proto: str
    src_ip: str
    dst_ip: str
    duration_s: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    proto_num: Annotated[int, Field(ge=0, le=255)] | None = None
    src_port: Port | None = None
    dst_port: Port | None = None
    state: str | None = None
    service: str | None = None
    pkts_fwd: Count | None = None
    pkts_bwd: Count | None = None
    pkts_total: Count | None = None
    bytes_fwd: Count | None = None
    bytes_bwd: Count | None = None
    bytes_total: Count | None = None
    label: str | None = None
    label_detail: str | None = None
    source: str | None = None
    supi: str | None = None
    ue_ip: str | None = None
    snssai: SnssaiKey | None = None
    dnn: str | None = None


class FlowRecordsBatch(_Event):
    """Flow records published together (one bus message)."""

    records: Annotated[list[FlowRecord], Field(min_length=1)]


class UeFeatureVector(_Event):
    """The features of one UE (SUPI) or host (IP) over one tumbling window ``[window_start, window_end)``."""

    window_start: EpochSeconds
    window_end: EpochSeconds
    host: str
    supi: str | None = None
    snssai: SnssaiKey | None = None
    features: dict[str, float | None]

    @model_validator(mode="after")
    def _window(self) -> UeFeatureVector:
        if self.window_end <= self.window_start:
            raise ValueError(f"window_end {self.window_end} must be after window_start {self.window_start}")
        return self

    @field_validator("features")
    @classmethod
    def _finite(cls, value: dict[str, float | None]) -> dict[str, float | None]:
        # NaN means "not computable" in the feature frames; it is stored as null, infinities are bugs.
        out: dict[str, float | None] = {}
        for name, number in value.items():
            if number is not None and math.isinf(number):
                raise ValueError(f"feature {name!r} is infinite")
            out[name] = None if number is None or math.isnan(number) else number
        return out


class UeFeaturesBatch(_Event):
    """Feature vectors of one or more windows (one bus message)."""

    vectors: Annotated[list[UeFeatureVector], Field(min_length=1)]
    feature_set: str | None = None
    """Name/version of the feature definitions (e.g. ``host-v1``), for the reader's benefit."""
