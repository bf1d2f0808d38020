"""``train(config)``: assemble -> hold out a group-disjoint test set -> CV search -> calibrate -> choose the
operating threshold -> fit -> report -> register. The registered model is exactly the one the test metrics describe
(it never saw the test groups); its threshold was chosen on out-of-fold rows of the training part, never on the
test set (see :mod:`nwdaf.nf.mtlf.train.threshold`)."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import sklearn

from nwdaf.lib.features import WINDOW
from nwdaf.lib.flows import SkipReport
from nwdaf.lib.ml.bundle import CalibrationMethod, ModelBundle, ModelMeta, calibrate, fit_calibrator, sha256_hex
from nwdaf.nf.mtlf.train.candidates import build_pipeline, deployable
from nwdaf.nf.mtlf.train.config import TrainConfig
from nwdaf.nf.mtlf.train.cv import Groups, Split, SplitError, group_kfold, group_options, holdout, subsample_groups
from nwdaf.nf.mtlf.train.dataset import (
    TrainingSet,
    WarehouseQuery,
    align_sources,
    flow_set,
    gather_flows,
    host_window_set,
    read_warehouse,
)
from nwdaf.nf.mtlf.train.report import binary_metrics, per_host_results, write_report
from nwdaf.nf.mtlf.train.result import TrainResult
from nwdaf.nf.mtlf.train.search import CandidateScore, all_pairs, search
from nwdaf.nf.mtlf.train.threshold import ThresholdChoice, choose_threshold, window_fpr

log = logging.getLogger("nwdaf.mtlf.train")
# Isotonic regression needs enough held-out rows of each class to estimate a step function; below that Platt's
# two-parameter sigmoid is the safer fit.
ISOTONIC_MIN_ROWS = 1000
ISOTONIC_MIN_PER_CLASS = 50


def train(config: TrainConfig, skips: SkipReport | None = None) -> TrainResult:
    """Run one training as configured; registers in MLflow when ``config.register_model``. Malformed rows of the
    dataset imports follow ``skips`` (:mod:`nwdaf.lib.flows.skips`)."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    data, from_warehouse = _assemble(config, skips)
    clock = _lap(timings, "features_s", clock)
    plan = plan_splits(config, data)
    clock = _lap(timings, "split_s", clock)
    bundle, best, scores, choice = _fit(config, data, plan, timings)
    clock = time.perf_counter()
    proba = bundle.predict_proba(data.X[plan.test_idx])
    metrics = _metrics(config, data, plan, best, scores, proba, choice)
    metrics["data"]["warehouse_rows"] = from_warehouse
    metrics["calibration"] = bundle.meta.calibration
    if not choice.attainable:
        log.warning("no threshold meets the target false-positive rate %.4f%% per window on the held-out benign "
                    "windows (a benign row scored 1.0): the model will flag nothing", 100 * choice.target_fpr)
    report_dir = _report_dir(config)
    files = write_report(report_dir, metrics, data.y[plan.test_idx], proba)
    payload = bundle.to_bytes()
    bundle_path = report_dir / "model.skops"
    bundle_path.write_bytes(payload)
    clock = _lap(timings, "report_s", clock)
    result = TrainResult(config.registered_name, bundle, bundle_path, sha256_hex(payload), best, scores, metrics,
                         report_dir, files, data.fingerprint, plan.groups.kind, timings)
    if config.register_model:
        result = _register(config, result)
        _lap(timings, "register_s", clock)
    return result


def _lap(timings: dict[str, float], name: str, started: float) -> float:
    now = time.perf_counter()
    timings[name] = now - started
    return now


def _assemble(config: TrainConfig, skips: SkipReport | None) -> tuple[TrainingSet, int | None]:
    """The training set, and how many flow records came from the warehouse (None: not read)."""
    frame, from_warehouse = config.flows, None
    if config.warehouse_url is not None:
        assert config.start is not None  # TrainConfig validates start and end with the URL
        assert config.end is not None
        stored = read_warehouse(WarehouseQuery(config.warehouse_url, config.start, config.end))
        log.info("read %d flow records from the warehouse", stored.height)
        from_warehouse = stored.height
        frame = stored if frame is None else pl.concat([frame, stored], how="diagonal_relaxed")
    flows, fingerprint = gather_flows(config.inputs, frame, labels=config.labels_file, host_col=config.host_col,
                                      skips=skips, window_s=config.window_s)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mtlf-fingerprint") as pool:
        digest = pool.submit(fingerprint)  # overlaps the feature computation (hashing releases the GIL)
        if config.kind == "flow":
            data = flow_set(flows, config.window_s, "")
        else:
            flows = align_sources(flows) if config.align_sources else flows
            data = host_window_set(flows, config.window_s, config.host_col, "")
        return replace(data, fingerprint=digest.result()), from_warehouse


@dataclass(frozen=True)
class SplitPlan:
    """The grouping used, the held-out test rows, the training rows and the CV folds (positions in train_idx)."""

    groups: Groups
    train_idx: np.ndarray
    test_idx: np.ndarray
    folds: list[Split]
    fallbacks: list[str]


def plan_splits(config: TrainConfig, data: TrainingSet) -> SplitPlan:
    """Hold-out and CV folds with the strictest grouping the data allows (``auto``: host+window, then host,
    then window); the reasons a stricter one was not possible are kept in ``fallbacks``."""
    # Per-flow rows of randomly sampled captures have no host context (one attacker NAT can hold most attack
    # flows), so "auto" groups them by time window.
    mode = "window" if config.group_by == "auto" and config.kind == "flow" else config.group_by
    options = group_options(data.keys, data.y, mode, needed=config.n_splits)
    fallbacks: list[str] = []
    for groups in options:
        try:
            return _split(config, data, groups, fallbacks)
        except SplitError as exc:
            if groups is options[-1]:
                raise
            fallbacks.append(f"{groups.kind}: {exc}")
            log.info("cannot split by %s (%s); trying the next grouping", groups.kind, exc)
    raise AssertionError("group_options returns at least one grouping")


def _split(config: TrainConfig, data: TrainingSet, groups: Groups, fallbacks: list[str]) -> SplitPlan:
    rows = np.arange(data.y.size)
    if config.max_rows is not None:
        rows = subsample_groups(data.y, groups, config.max_rows, config.seed)
    train_pos, test_pos = holdout(data.y[rows], groups.subset(rows), config.test_fraction, config.seed)
    train_idx, test_idx = rows[train_pos], rows[test_pos]
    folds = group_kfold(data.y[train_idx], groups.subset(train_idx), config.n_splits, config.seed)
    return SplitPlan(groups, train_idx, test_idx, folds, fallbacks)


def _fit(
    config: TrainConfig, data: TrainingSet, plan: SplitPlan, timings: dict[str, float]
) -> tuple[ModelBundle, CandidateScore, list[CandidateScore], ThresholdChoice]:
    clock = time.perf_counter()
    X, y = data.X[plan.train_idx], data.y[plan.train_idx]
    found = search(X, y, plan.folds, all_pairs(config.candidates, config.samplers), seed=config.seed,
                   n_jobs=config.n_jobs, progress=config.progress)
    clock = _lap(timings, "cv_s", clock)
    best = found.best
    scored = ~np.isnan(found.oof)
    method = _calibration_method(config, y[scored])
    calibrator = fit_calibrator(method, found.oof[scored], y[scored], config.seed)
    windows = data.keys.get_column(WINDOW).to_numpy()[plan.train_idx][scored]
    choice = choose_threshold(calibrate(method, calibrator, found.oof[scored]), y[scored], windows,
                              config.target_fpr)
    final = build_pipeline(best.candidate, best.sampler, y, config.seed, config.n_jobs).fit(X, y)
    _lap(timings, "final_fit_s", clock)
    meta = ModelMeta(
        kind=config.kind, feature_columns=data.feature_columns, event=config.event,
        exception_ids=tuple(str(e) for e in config.exception_ids), window_s=config.window_s,
        calibration=method, threshold=choice.threshold, host_col=config.host_col, candidate=best.candidate,
        sampler=best.sampler,
        trained_at=datetime.now(UTC).isoformat(), dataset_fingerprint=data.fingerprint,
        sklearn_version=sklearn.__version__,
    )
    return ModelBundle(deployable(final), calibrator, meta), best, found.scores, choice


def _calibration_method(config: TrainConfig, y: np.ndarray) -> CalibrationMethod:
    if config.calibration != "auto":
        return config.calibration
    counts = np.bincount(y, minlength=2)
    enough = y.size >= ISOTONIC_MIN_ROWS and counts.min() >= ISOTONIC_MIN_PER_CLASS
    return "isotonic" if enough else "sigmoid"


def _metrics(
    config: TrainConfig, data: TrainingSet, plan: SplitPlan, best: CandidateScore, scores: list[CandidateScore],
    proba: np.ndarray, choice: ThresholdChoice,
) -> dict[str, Any]:
    y_test = data.y[plan.test_idx]
    keys = data.keys.select(pl.all().gather(plan.test_idx))
    cut = choice.threshold
    return {
        "model_name": config.registered_name,
        "kind": config.kind,
        "selected": {"candidate": best.candidate, "sampler": best.sampler, "cv_f1": best.f1, "cv_mcc": best.mcc},
        "cv": [vars(s) for s in scores],
        "threshold": choice.as_dict(),
        "test": binary_metrics(y_test, proba, cut),
        "test_window_fpr": window_fpr(proba, y_test, keys.get_column(WINDOW).to_numpy(), cut),
        "per_host": per_host_results(keys, y_test, proba, cut),
        "data": _data_summary(config, data, plan),
    }


def _data_summary(config: TrainConfig, data: TrainingSet, plan: SplitPlan) -> dict[str, Any]:
    groups, train_idx, test_idx = plan.groups, plan.train_idx, plan.test_idx
    return {
        "inputs": config.inputs, "warehouse": _warehouse_summary(config),
        "labels_file": None if config.labels_file is None else str(config.labels_file),
        "frame_rows": None if config.flows is None else config.flows.height,
        "rows": int(data.y.size), "positives": data.positives, "train_rows": int(train_idx.size),
        "test_rows": int(test_idx.size), "train_positives": int(data.y[train_idx].sum()),
        "test_positives": int(data.y[test_idx].sum()),
        "left_out_rows": int(data.y.size - train_idx.size - test_idx.size),
        "cv_folds": len(plan.folds), "group_kind": groups.kind, "group_fallbacks": plan.fallbacks,
        "groups_per_class": groups.per_class(data.y),
        "windows_per_class": groups.windows_per_class(data.y) if groups.windows is not None else None,
        "window_s": config.window_s,
        "feature_columns": list(data.feature_columns), "dropped_features": data.dropped_features,
        "sources": data.keys.get_column("source").value_counts().sort("source").rows(),
        "fingerprint": data.fingerprint,
    }


def _warehouse_summary(config: TrainConfig) -> dict[str, str] | None:
    if config.warehouse_url is None or config.start is None or config.end is None:
        return None
    from nwdaf.lib.storage.backends.base import redacted

    return {"url": redacted(config.warehouse_url), "start": config.start.isoformat(), "end": config.end.isoformat()}


def _report_dir(config: TrainConfig) -> Path:
    base = config.report_dir or Path(".run") / "mtlf" / "reports"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return base / f"{config.registered_name}-{stamp}"


def _register(config: TrainConfig, result: TrainResult) -> TrainResult:
    from nwdaf.nf.mtlf.registry import ModelRegistry
    from nwdaf.nf.mtlf.train.register import log_training

    registry = ModelRegistry(config.tracking_uri, config.artifact_root)
    registered = log_training(registry, result, config)
    log.info("registered %s version %s (run %s)", registered.name, registered.version, registered.run_id)
    return TrainResult(**{**vars(result), "version": registered.version, "run_id": registered.run_id})
