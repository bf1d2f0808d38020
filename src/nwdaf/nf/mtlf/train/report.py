"""Metrics and the training report: ``metrics.json``, confusion matrix, precision-recall and reliability plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display: must precede pyplot

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    matthews_corrcoef,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_auc_score,
)

CLASS_NAMES = ("benign", "malicious")
_ECE_BINS = 10


def binary_metrics(y: np.ndarray, proba: np.ndarray, threshold: float = 0.5) -> dict[str, Any]:
    """Per-class precision/recall/F1/support, MCC, accuracy, PR-AUC, ROC-AUC, Brier score, ECE, confusion."""
    pred = (proba >= threshold).astype(np.int64)
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=[0, 1], zero_division=0)
    both = np.unique(y).size == 2
    out: dict[str, Any] = {
        "per_class": {
            name: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
            for i, name in enumerate(CLASS_NAMES)
        },
        "f1": float(f[1]),
        "mcc": float(matthews_corrcoef(y, pred)) if both else 0.0,
        "accuracy": float(np.mean(pred == y)) if y.size else 0.0,
        "average_precision": float(average_precision_score(y, proba)) if both else None,
        "roc_auc": float(roc_auc_score(y, proba)) if both else None,
        "brier": float(brier_score_loss(y, proba, pos_label=1)) if y.size else None,
        "ece": expected_calibration_error(y, proba),
        "confusion": confusion_matrix(y, pred, labels=[0, 1]).tolist(),
        "threshold": threshold,
        "n": int(y.size),
    }
    return out


def expected_calibration_error(y: np.ndarray, proba: np.ndarray, bins: int = _ECE_BINS) -> float:
    """Mean |observed frequency - mean predicted probability| over equal-width bins, weighted by bin size."""
    if y.size == 0:
        return 0.0
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(proba, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() * abs(float(y[mask].mean()) - float(proba[mask].mean()))
    return float(total / y.size)


def write_report(directory: Path, metrics: dict[str, Any], y: np.ndarray, proba: np.ndarray) -> list[Path]:
    """Write ``metrics.json`` and the three PNG plots into ``directory``; return the written paths."""
    directory.mkdir(parents=True, exist_ok=True)
    metrics_path = directory / "metrics.json"
    metrics_path.write_text(json.dumps(metrics, indent=2, sort_keys=True, default=_json_default))
    test = metrics.get("test", {})
    return [
        metrics_path,
        _confusion_png(directory / "confusion_matrix.png", np.asarray(test.get("confusion", [[0, 0], [0, 0]]))),
        _pr_png(directory / "pr_curve.png", y, proba),
        _reliability_png(directory / "reliability.png", y, proba),
    ]


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _confusion_png(path: Path, matrix: np.ndarray) -> Path:
    fig, ax = plt.subplots(figsize=(4, 3.5))
    ax.imshow(matrix, cmap="Blues")
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, str(value), ha="center", va="center", color="black")
    ax.set_xticks([0, 1], labels=CLASS_NAMES)
    ax.set_yticks([0, 1], labels=CLASS_NAMES)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("held-out test set")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _pr_png(path: Path, y: np.ndarray, proba: np.ndarray) -> Path:
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    if np.unique(y).size == 2:
        precision, recall, _ = precision_recall_curve(y, proba)
        ap = average_precision_score(y, proba)
        ax.step(recall, precision, where="post", label=f"AP = {ap:.3f}")
        ax.axhline(float(y.mean()), linestyle="--", color="grey", label="chance")
        ax.legend(loc="lower left")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1.01)
    ax.set_ylim(0, 1.01)
    ax.set_title("precision-recall (held-out test set)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _reliability_png(path: Path, y: np.ndarray, proba: np.ndarray) -> Path:
    edges = np.linspace(0.0, 1.0, _ECE_BINS + 1)
    which = np.clip(np.digitize(proba, edges[1:-1]), 0, _ECE_BINS - 1)
    mean_p = [float(proba[which == b].mean()) for b in range(_ECE_BINS) if (which == b).any()]
    freq = [float(y[which == b].mean()) for b in range(_ECE_BINS) if (which == b).any()]
    fig, ax = plt.subplots(figsize=(4, 3.5))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect")
    ax.plot(mean_p, freq, marker="o", label="calibrated model")
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed frequency")
    ax.set_title("reliability (held-out test set)")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def per_host_results(keys: Any, y: np.ndarray, proba: np.ndarray, threshold: float = 0.5) -> list[dict[str, Any]]:
    """Per host: windows (or flows) scored, how many were malicious, how many flagged, and whether a malicious
    host was caught in at least one of its windows (what the closed loop acts on)."""
    import polars as pl

    frame = pl.DataFrame({"host": keys.get_column("host"), "y": y, "p": proba}).with_columns(
        (pl.col("p") >= threshold).alias("flag")
    )
    table = frame.group_by("host").agg(
        pl.len().alias("rows"),
        pl.col("y").sum().alias("malicious_rows"),
        pl.col("flag").sum().alias("flagged_rows"),
        (pl.col("flag") & (pl.col("y") == 1)).sum().alias("true_positive_rows"),
        pl.col("p").mean().alias("mean_probability"),
    ).with_columns(
        (pl.col("malicious_rows") > 0).alias("malicious_host"),
        (pl.col("flagged_rows") > 0).alias("flagged_host"),
    ).sort("malicious_rows", "rows", descending=True)
    return table.to_dicts()
