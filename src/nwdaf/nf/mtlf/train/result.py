"""What a training run produced (:class:`TrainResult`), read by the registration and the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nwdaf.lib.ml.bundle import ModelBundle
from nwdaf.nf.mtlf.train.search import CandidateScore


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced: the selected model, its held-out metrics, the report and the registration."""

    model_name: str
    bundle: ModelBundle
    bundle_path: Path
    sha256: str
    selected: CandidateScore
    cv_scores: list[CandidateScore]
    metrics: dict[str, Any]
    report_dir: Path
    report_files: list[Path]
    dataset_fingerprint: str
    group_kind: str
    timings: dict[str, float] = field(default_factory=dict)
    version: str | None = None
    run_id: str | None = None
