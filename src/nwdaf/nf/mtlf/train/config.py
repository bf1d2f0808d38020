"""A training run's configuration (:class:`TrainConfig`): inputs, features, search space, registration.

Built from the core settings (``ml.tracking_uri``, ``ml.artifact_root``, ``data_dir``) plus the run's own choices;
nothing here reads the environment.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nwdaf.platform.config import CoreSettings
from nwdaf.platform.models.analytics import ExceptionId

Candidate = Literal["random_forest", "hist_gradient_boosting", "logistic_regression"]
Sampler = Literal["none", "smote", "undersample", "smoteenn"]
GroupBy = Literal["auto", "host+window", "host", "window"]
Alias = Literal["none", "challenger", "champion"]

CANDIDATES: Final[tuple[Candidate, ...]] = ("random_forest", "hist_gradient_boosting", "logistic_regression")
SAMPLERS: Final[tuple[Sampler, ...]] = ("smote", "undersample", "smoteenn")
ABNORMAL_BEHAVIOUR: Final = "ABNORMAL_BEHAVIOUR"
DEFAULT_MODEL_NAMES: Final = {
    "host_window": "nwdaf-abnormal-behaviour-host",
    "flow": "nwdaf-abnormal-behaviour-flow",
}


class TrainConfig(BaseModel):
    """One training run of ``nwdaf ml train``: inputs, features, search space, registration."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    inputs: list[str] = Field(default_factory=list)
    """Dataset imports ``FORMAT:PATH`` (see :func:`nwdaf.lib.flows.read_flows`); several are concatenated."""
    flows: pl.DataFrame | None = Field(default=None, exclude=True)
    """Flow records already in memory (flow schema with labels), used instead of or besides ``inputs``."""
    warehouse_url: str | None = None
    """Read the warehouse's ``flow_records`` (``chdb://PATH``, ``clickhouse://host:port/db``) from ``start``
    (inclusive) to ``end`` (exclusive), instead of or besides ``inputs``."""
    start: datetime | None = None
    end: datetime | None = None
    labels_file: Path | None = None
    """CSV ``host,label[,label_detail,start,end]``: labels of the flows each host initiated (overrides a flow's
    own label where a row matches; the processor's live records carry none)."""
    kind: Literal["host_window", "flow"] = "host_window"
    """``host_window``: per host per window (host + graph features), scores live UPF data; ``flow``: per flow."""
    window_s: float = Field(60.0, gt=0)
    host_col: str = "src_ip"
    align_sources: bool = True
    """Shift each source file to a common start time so bot and benign hosts share windows (one graph)."""
    candidates: list[Candidate] = Field(default_factory=lambda: list(CANDIDATES), min_length=1)
    samplers: list[Sampler] = Field(default_factory=lambda: list(SAMPLERS), min_length=1)
    n_splits: int = Field(5, ge=2, le=10)
    group_by: GroupBy = "auto"
    test_fraction: float = Field(0.25, gt=0, lt=0.6)
    calibration: Literal["auto", "isotonic", "sigmoid"] = "auto"
    target_fpr: float = Field(0.001, gt=0, lt=1)
    """Operating threshold: at most this share of the benign hosts of any held-out window flagged (see
    :mod:`nwdaf.nf.mtlf.train.threshold`); stored in the bundle and the registry, used by the engine."""
    max_rows: int | None = Field(None, ge=20)
    """Keep at most this many training rows (whole groups drawn at random): CI-sized runs."""
    seed: int = 0
    n_jobs: int = Field(1, ge=-1)
    event: str = ABNORMAL_BEHAVIOUR
    exception_ids: list[ExceptionId] = Field(default_factory=lambda: [ExceptionId.SUSPICION_OF_DDOS_ATTACK],
                                             min_length=1)
    dnns: list[str] = Field(default_factory=list)
    """Restrict the model to these DNNs (tag ``dnns``); empty = any DNN."""
    snssais: list[str] = Field(default_factory=list)
    """Restrict the model to these slices, as ``"1"`` or ``"1-000001"`` (tag ``snssais``); empty = any slice."""
    model_name: str | None = None
    report_dir: Path | None = None
    register_model: bool = True
    alias: Alias = "challenger"
    tracking_uri: str = "sqlite:///.run/mlflow.db"
    artifact_root: str = "./.run/mlartifacts"
    progress: bool = True

    @field_validator("inputs")
    @classmethod
    def _specs(cls, value: list[str]) -> list[str]:
        bad = [s for s in value if ":" not in s]
        if bad:
            raise ValueError(f"inputs must be FORMAT:PATH, got {bad}")
        return value

    @field_validator("warehouse_url")
    @classmethod
    def _warehouse_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("chdb://", "clickhouse://")):
            raise ValueError("the warehouse is chdb://PATH or clickhouse://host:port/db")
        return value

    @model_validator(mode="after")
    def _has_data(self) -> TrainConfig:
        if not self.inputs and self.flows is None and self.warehouse_url is None:
            raise ValueError("give inputs (FORMAT:PATH), a warehouse URL with start and end, or flows (a "
                             "DataFrame of labelled flow records)")
        if self.warehouse_url is None:
            if self.start is not None or self.end is not None:
                raise ValueError("start and end select warehouse records: give the warehouse URL too")
            return self
        if self.start is None or self.end is None:
            raise ValueError("reading the warehouse needs start and end (ISO 8601 with a UTC offset)")
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("start and end need a UTC offset (e.g. 2026-01-01T00:00:00Z)")
        if self.start >= self.end:
            raise ValueError(f"start {self.start.isoformat()} must be before end {self.end.isoformat()}")
        return self

    @property
    def registered_name(self) -> str:
        return self.model_name or DEFAULT_MODEL_NAMES[self.kind]

    @classmethod
    def from_settings(cls, settings: CoreSettings, **values: Any) -> TrainConfig:
        """A config whose registry and report locations come from ``settings`` (explicit values win)."""
        defaults: dict[str, Any] = {
            "tracking_uri": settings.ml.tracking_uri,
            "artifact_root": settings.ml.artifact_root,
            "report_dir": Path(settings.data_dir) / "mtlf" / "reports",
        }
        return cls(**{**defaults, **values})
