"""``train(config)``: assemble -> hold out a group-disjoint test set -> CV search -> calibrate -> fit -> report ->
register. The registered model is exactly the one the test metrics describe (it never saw the test groups)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import sklearn

from nwdaf.mtlf.bundle import CalibrationMethod, ModelBundle, ModelMeta, fit_calibrator, sha256_hex
from nwdaf.mtlf.config import TrainConfig
from nwdaf.mtlf.train.candidates import build_pipeline, deployable
from nwdaf.mtlf.train.cv import Groups, group_kfold, holdout, make_groups, subsample_groups
from nwdaf.mtlf.train.dataset import TrainingSet, align_sources, flow_set, host_window_set, load_flows
from nwdaf.mtlf.train.report import binary_metrics, per_host_results, write_report
from nwdaf.mtlf.train.search import CandidateScore, all_pairs, search

log = logging.getLogger("nwdaf.mtlf.train")
# Isotonic regression needs enough held-out rows of each class to estimate a step function; below that Platt's
# two-parameter sigmoid is the safer fit.
ISOTONIC_MIN_ROWS = 1000
ISOTONIC_MIN_PER_CLASS = 50


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


def train(config: TrainConfig) -> TrainResult:
    """Run one training as configured; registers in MLflow when ``config.register_model``."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    data = _assemble(config)
    timings["features_s"] = time.perf_counter() - clock
    # Per-flow rows of randomly sampled captures have no host context (one attacker NAT can hold most attack
    # flows), so "auto" groups them by time window; host-windows are grouped by host when hosts suffice.
    mode = "window" if config.group_by == "auto" and config.kind == "flow" else config.group_by
    groups = make_groups(data.keys, data.y, mode, needed=config.n_splits)
    rows = np.arange(data.y.size)
    if config.max_rows is not None:
        rows = subsample_groups(data.y, groups, config.max_rows, config.seed)
    sub = Groups(groups.ids[rows], groups.kind)
    train_pos, test_pos = holdout(data.y[rows], sub, config.test_fraction, config.seed)
    train_idx, test_idx = rows[train_pos], rows[test_pos]
    clock = time.perf_counter()
    bundle, best, scores = _fit(config, data, Groups(groups.ids[train_idx], groups.kind), train_idx)
    timings["search_and_fit_s"] = time.perf_counter() - clock
    proba = bundle.predict_proba(data.X[test_idx])
    metrics = _metrics(config, data, groups, best, scores, train_idx, test_idx, proba)
    metrics["calibration"] = bundle.meta.calibration
    report_dir = _report_dir(config)
    files = write_report(report_dir, metrics, data.y[test_idx], proba)
    payload = bundle.to_bytes()
    bundle_path = report_dir / "model.skops"
    bundle_path.write_bytes(payload)
    result = TrainResult(config.registered_name, bundle, bundle_path, sha256_hex(payload), best, scores, metrics,
                         report_dir, files, data.fingerprint, groups.kind, timings)
    if config.register_model:
        clock = time.perf_counter()
        result = _register(config, result)
        timings["register_s"] = time.perf_counter() - clock
    return result


def _assemble(config: TrainConfig) -> TrainingSet:
    flows, fingerprint = load_flows(config.inputs, config.flows)
    if config.kind == "flow":
        return flow_set(flows, config.window_s, fingerprint)
    if config.align_sources:
        flows = align_sources(flows)
    return host_window_set(flows, config.window_s, config.host_col, fingerprint)


def _fit(
    config: TrainConfig, data: TrainingSet, groups: Groups, train_idx: np.ndarray
) -> tuple[ModelBundle, CandidateScore, list[CandidateScore]]:
    X, y = data.X[train_idx], data.y[train_idx]
    splits = group_kfold(y, groups, config.n_splits, config.seed)
    found = search(X, y, splits, all_pairs(config.candidates, config.samplers), seed=config.seed,
                   n_jobs=config.n_jobs, progress=config.progress)
    best = found.best
    scored = ~np.isnan(found.oof)
    method = _calibration_method(config, y[scored])
    calibrator = fit_calibrator(method, found.oof[scored], y[scored], config.seed)
    final = build_pipeline(best.candidate, best.sampler, y, config.seed, config.n_jobs).fit(X, y)
    meta = ModelMeta(
        kind=config.kind, feature_columns=data.feature_columns, event=config.event,
        exception_ids=tuple(str(e) for e in config.exception_ids), window_s=config.window_s,
        calibration=method, host_col=config.host_col, candidate=best.candidate, sampler=best.sampler,
        trained_at=datetime.now(UTC).isoformat(), dataset_fingerprint=data.fingerprint,
        sklearn_version=sklearn.__version__,
    )
    return ModelBundle(deployable(final), calibrator, meta), best, found.scores


def _calibration_method(config: TrainConfig, y: np.ndarray) -> CalibrationMethod:
    if config.calibration != "auto":
        return config.calibration
    counts = np.bincount(y, minlength=2)
    enough = y.size >= ISOTONIC_MIN_ROWS and counts.min() >= ISOTONIC_MIN_PER_CLASS
    return "isotonic" if enough else "sigmoid"


def _metrics(
    config: TrainConfig, data: TrainingSet, groups: Groups, best: CandidateScore, scores: list[CandidateScore],
    train_idx: np.ndarray, test_idx: np.ndarray, proba: np.ndarray,
) -> dict[str, Any]:
    y_test = data.y[test_idx]
    keys = data.keys.select(pl.all().gather(test_idx))
    return {
        "model_name": config.registered_name,
        "kind": config.kind,
        "selected": {"candidate": best.candidate, "sampler": best.sampler, "cv_f1": best.f1, "cv_mcc": best.mcc},
        "cv": [vars(s) for s in scores],
        "test": binary_metrics(y_test, proba),
        "per_host": per_host_results(keys, y_test, proba),
        "data": {
            "inputs": config.inputs, "warehouse_rows": None if config.flows is None else config.flows.height,
            "rows": int(data.y.size), "positives": data.positives, "train_rows": int(train_idx.size),
            "test_rows": int(test_idx.size), "train_positives": int(data.y[train_idx].sum()),
            "test_positives": int(y_test.sum()), "group_kind": groups.kind,
            "groups_per_class": groups.per_class(data.y), "window_s": config.window_s,
            "feature_columns": list(data.feature_columns), "dropped_features": data.dropped_features,
            "sources": data.keys.get_column("source").value_counts().sort("source").rows(),
            "fingerprint": data.fingerprint,
        },
    }


def _report_dir(config: TrainConfig) -> Path:
    base = config.report_dir or Path(".run") / "mtlf" / "reports"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return base / f"{config.registered_name}-{stamp}"


def _register(config: TrainConfig, result: TrainResult) -> TrainResult:
    from nwdaf.mtlf.registry import ModelRegistry

    registry = ModelRegistry(config.tracking_uri, config.artifact_root)
    registered = registry.log_training(result, config)
    log.info("registered %s version %s (run %s)", registered.name, registered.version, registered.run_id)
    return TrainResult(**{**vars(result), "version": registered.version, "run_id": registered.run_id})
