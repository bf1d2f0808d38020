"""Logging one training run into MLflow and registering its model version (params, metrics, plots, fingerprint,
feature list, provisionable artifact, pyfunc model, tags)."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlflow.entities import Metric, Param
from mlflow.exceptions import MlflowException

from nwdaf.nf.mtlf.registry import BUNDLE_PATH, CHALLENGER, ModelRegistry, RegisteredVersion, quiet

if TYPE_CHECKING:
    from nwdaf.nf.mtlf.train.config import TrainConfig
    from nwdaf.nf.mtlf.train.result import TrainResult

_PIP_REQUIREMENTS = ["scikit-learn", "skops", "numpy", "pandas", "nwdaf"]


def model_unique_id(sha256: str) -> int:
    """TS 29.520 ``modelUniqueId`` (Uinteger): the first 48 bits of the artifact's sha256, unique per artifact
    and exact in a JSON number."""
    return int(sha256[:12], 16)


def log_training(registry: ModelRegistry, result: TrainResult, config: TrainConfig) -> RegisteredVersion:
    tags = _tags(result, config)
    with quiet():
        run = registry.client.create_run(registry.experiment_id(), tags=tags,
                                         run_name=f"{result.model_name}-{result.sha256[:8]}")
        run_id = run.info.run_id
        try:
            _log_run(registry, run_id, result, config)
            version = _register(registry, run_id, result, tags)
        except Exception:
            registry.client.set_terminated(run_id, status="FAILED")
            raise
        registry.client.set_terminated(run_id, status="FINISHED")
    if config.alias == "champion":
        registry.promote(result.model_name, version)
    elif config.alias == CHALLENGER:
        registry.set_challenger(result.model_name, version)
    return RegisteredVersion(result.model_name, version, run_id)


def _tags(result: TrainResult, config: TrainConfig) -> dict[str, str]:
    meta = result.bundle.meta
    test = result.metrics["test"]
    scope = {k: json.dumps(v) for k, v in (("dnns", config.dnns), ("snssais", config.snssais)) if v}
    return scope | {
        "nwdafEvent": meta.event,
        "exceptionId": ",".join(meta.exception_ids),
        "kind": meta.kind,
        "sha256": result.sha256,
        "modelUniqueId": str(model_unique_id(result.sha256)),
        "datasetFingerprint": result.dataset_fingerprint,
        "featureColumns": json.dumps(list(meta.feature_columns)),
        "candidate": meta.candidate,
        "sampler": meta.sampler,
        "calibration": meta.calibration,
        "threshold": repr(meta.threshold),
        "targetFpr": str(config.target_fpr),
        "windowS": str(meta.window_s),
        "accuracy": str(round(100 * float(test["accuracy"]))),
        "inputs": json.dumps(config.inputs),
    } | _warehouse_tag(result)


def _warehouse_tag(result: TrainResult) -> dict[str, str]:
    """``warehouse``: the (password-free) URL and range the flow records were read from, with their count."""
    data = result.metrics.get("data", {})
    source = data.get("warehouse")
    if not source:
        return {}
    return {"warehouse": json.dumps({**source, "rows": data.get("warehouse_rows")})}


def _log_run(registry: ModelRegistry, run_id: str, result: TrainResult, config: TrainConfig) -> None:
    client = registry.client
    # The warehouse URL may hold a password: it is logged redacted, in the ``warehouse`` tag.
    params = config.model_dump(mode="json", exclude={"flows", "tracking_uri", "artifact_root", "report_dir",
                                                     "warehouse_url"})
    params |= {"selected_candidate": result.selected.candidate, "selected_sampler": result.selected.sampler,
               "group_kind": result.group_kind, "n_features": len(result.bundle.meta.feature_columns)}
    client.log_batch(run_id, params=[Param(k, _text(v)) for k, v in sorted(params.items())],
                     metrics=_metrics(result))
    for path in result.report_files:
        client.log_artifact(run_id, str(path), "report")
    client.log_artifact(run_id, str(result.bundle_path), str(Path(BUNDLE_PATH).parent))
    client.log_dict(run_id, {"features": list(result.bundle.meta.feature_columns),
                             "dropped": result.metrics["data"]["dropped_features"]}, "features.json")
    with tempfile.TemporaryDirectory(prefix="nwdaf-pyfunc-") as tmp:
        _save_pyfunc(Path(tmp) / "model", result)
        client.log_artifacts(run_id, str(Path(tmp) / "model"), "model")


def _metrics(result: TrainResult) -> list[Metric]:
    test = result.metrics["test"]
    values: dict[str, float | None] = {
        f"test_{k}": test.get(k) for k in ("f1", "mcc", "accuracy", "average_precision", "roc_auc", "brier", "ece")
    }
    values |= {"cv_f1": result.selected.f1, "cv_mcc": result.selected.mcc, "threshold": result.bundle.meta.threshold}
    fpr = result.metrics.get("test_window_fpr", {})
    values |= {"test_window_fpr_worst": fpr.get("worst"), "test_window_fpr_mean": fpr.get("mean")}
    for s in result.cv_scores:
        values[f"cv_f1.{s.candidate}.{s.sampler}"] = s.f1
        values[f"cv_mcc.{s.candidate}.{s.sampler}"] = s.mcc
    values |= {f"time_{k}": v for k, v in result.timings.items()}
    stamp = int(time.time() * 1000)
    return [Metric(k, float(v), stamp, 0) for k, v in sorted(values.items()) if v is not None]


def _save_pyfunc(path: Path, result: TrainResult) -> None:
    import mlflow.pyfunc
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    from nwdaf.nf.mtlf.pyfunc import BUNDLE_ARTIFACT, BundlePyfunc

    columns = list(result.bundle.meta.feature_columns)
    inputs = Schema([ColSpec("double", c) for c in columns])
    signature = ModelSignature(inputs=inputs, outputs=Schema([ColSpec("double")]))
    # An input example (one all-zero row, checked against the signature, never scored) documents the served
    # schema, and spares MLflow's "no input example" warning: silencing it with catch_warnings is not
    # thread-safe, and training runs in a worker thread while the MTLF polls the registry in others. A mapping
    # of scalars, not a DataFrame: MLflow compares a DataFrame's columns with a range, which pandas 3 warns about.
    example = dict.fromkeys(columns, 0.0)
    mlflow.pyfunc.save_model(
        path=str(path), python_model=BundlePyfunc(), artifacts={BUNDLE_ARTIFACT: str(result.bundle_path)},
        signature=signature, input_example=example, pip_requirements=_PIP_REQUIREMENTS,
    )


def _register(registry: ModelRegistry, run_id: str, result: TrainResult, tags: dict[str, str]) -> str:
    client = registry.client
    try:
        client.get_registered_model(result.model_name)
    except MlflowException:
        client.create_registered_model(result.model_name, tags={"nwdafEvent": tags["nwdafEvent"]},
                                       description="NWDAF analytics model (Nnwdaf_MLModelProvision)")
    tags = {**tags, "artifactUri": f"runs:/{run_id}/{BUNDLE_PATH}"}
    created = client.create_model_version(result.model_name, f"runs:/{run_id}/model", run_id=run_id, tags=tags)
    return str(created.version)


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:500]
