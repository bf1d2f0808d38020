"""``evaluate(model_uri, input_spec)``: score a trained model on labelled flows, per class and per host."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import polars as pl

from nwdaf.lib.features import WINDOW
from nwdaf.lib.flows import SkipReport
from nwdaf.lib.ml.bundle import ModelBundle
from nwdaf.nf.mtlf.train.dataset import align_sources, flow_set, host_window_set, load_flows
from nwdaf.nf.mtlf.train.report import binary_metrics, per_host_results
from nwdaf.nf.mtlf.train.threshold import window_fpr


def load_bundle(model_uri: str, *, tracking_uri: str | None = None, artifact_root: str | None = None) -> ModelBundle:
    """A bundle from ``models:/NAME/VERSION``, ``models:/NAME@ALIAS`` (MLflow registry), an ``http(s)://`` model
    URL (as provisioned; ``?sha256=`` is verified) or a local ``.skops`` path."""
    if model_uri.startswith("models:/"):
        from nwdaf.nf.mtlf.registry import ModelRegistry

        if tracking_uri is None:
            raise ValueError("a models:/ URI needs the MLflow tracking URI (settings ml.tracking_uri)")
        registry = ModelRegistry(tracking_uri, artifact_root or "./.run/mlartifacts")
        return ModelBundle.from_bytes(registry.artifact_bytes_for_uri(model_uri))
    if model_uri.startswith(("http://", "https://")):
        expected = parse_qs(urlsplit(model_uri).query).get("sha256", [None])[0]
        response = httpx.get(model_uri, timeout=60.0)
        response.raise_for_status()
        return ModelBundle.from_bytes(response.content, expected)
    path = Path(model_uri)
    if not path.is_file():
        raise FileNotFoundError(f"model {model_uri!r} is neither a models:/ URI, an http URL nor a file")
    return ModelBundle.from_bytes(path.read_bytes())


def evaluate(
    model_uri: str,
    input_spec: str | list[str] | pl.DataFrame,
    *,
    tracking_uri: str | None = None,
    artifact_root: str | None = None,
    threshold: float | None = None,
    skips: SkipReport | None = None,
) -> dict[str, Any]:
    """Per-class precision/recall/F1, MCC, PR-AUC and calibration error of the model on the labelled inputs
    (``FORMAT:PATH`` specs or a frame of labelled flow records) at the model's own threshold (or ``threshold``);
    the share of benign rows flagged per window (worst, mean); per host (when the inputs have hosts) the rows
    scored and flagged, and per malicious label the recall."""
    bundle = load_bundle(model_uri, tracking_uri=tracking_uri, artifact_root=artifact_root)
    frame: pl.DataFrame | None = None
    specs: list[str] = []
    if isinstance(input_spec, pl.DataFrame):
        frame = input_spec
    else:
        specs = [input_spec] if isinstance(input_spec, str) else [str(s) for s in input_spec]
    meta = bundle.meta
    flows, fingerprint = load_flows(specs, frame, skips=skips, window_s=meta.window_s)
    if meta.kind == "flow":
        data = flow_set(flows, meta.window_s, fingerprint, fixed=meta.feature_columns)
    else:
        data = host_window_set(align_sources(flows), meta.window_s, meta.host_col, fingerprint,
                               fixed=meta.feature_columns)
    cut = meta.threshold if threshold is None else threshold
    proba = bundle.predict_proba(data.X)
    metrics = binary_metrics(data.y, proba, cut)
    return {
        "model": model_uri,
        "inputs": specs or ["<frame>"],
        "dataset_fingerprint": fingerprint,
        "kind": meta.kind,
        "rows": int(data.y.size),
        "positives": data.positives,
        **metrics,
        "threshold": cut,
        "window_fpr": window_fpr(proba, data.y, data.keys.get_column(WINDOW).to_numpy(), cut),
        "recall_by_label": _recall_by_label(data.keys, data.y, proba, cut),
        "per_host": per_host_results(data.keys, data.y, proba, cut),
    }


def _recall_by_label(keys: Any, y: Any, proba: Any, threshold: float) -> dict[str, dict[str, float]]:
    frame = pl.DataFrame({"detail": keys.get_column("detail"), "y": y, "flag": proba >= threshold})
    table = frame.filter(pl.col("y") == 1).group_by("detail").agg(
        pl.len().alias("rows"), pl.col("flag").mean().alias("recall")
    )
    return {str(r["detail"]): {"rows": int(r["rows"]), "recall": float(r["recall"])} for r in table.to_dicts()}
