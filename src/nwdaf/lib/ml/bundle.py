"""The provisioned model artifact: one skops file holding the fitted pipeline, its calibrator and its metadata.

Why skops and not pickle: the AnLF downloads this file over the SBI and loads it in-process. skops refuses every
type that is not on an allow-list, so a tampered file cannot run code on load; the sha256 checked before loading
protects against corruption and substitution. The file needs scikit-learn and skops only: MLflow is not needed to
load it (the MTLF also logs an MLflow pyfunc wrapper of the same bytes, for ``mlflow models serve``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

import numpy as np
import skops.io as sio  # type: ignore[import-untyped]  # skops ships no type information

BUNDLE_FORMAT: Final = "nwdaf-ml-model/1"
# Types skops does not trust by default but that fitted scikit-learn models of ours consist of; anything else in a
# file is refused (see ModelBundle.from_bytes).
TRUSTED_TYPES: Final = frozenset(
    {
        "numpy.dtype",
        "sklearn.tree._tree.Tree",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    }
)

CalibrationMethod = Literal["isotonic", "sigmoid"]
ModelKind = Literal["host_window", "flow"]


class BundleError(ValueError):
    """A model artifact that cannot be trusted or used: bad checksum, unknown format or types, wrong columns."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ModelMeta:
    """What a consumer needs besides the estimator: its inputs, its output and where it came from."""

    kind: ModelKind
    feature_columns: tuple[str, ...]
    event: str
    exception_ids: tuple[str, ...]
    window_s: float
    calibration: CalibrationMethod
    threshold: float = 0.5
    host_col: str = "src_ip"
    candidate: str = ""
    sampler: str = ""
    trained_at: str = ""
    dataset_fingerprint: str = ""
    sklearn_version: str = ""
    metrics: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelMeta:
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise BundleError("model metadata is not a JSON object")
        raw["feature_columns"] = tuple(raw.get("feature_columns", ()))
        raw["exception_ids"] = tuple(raw.get("exception_ids", ()))
        try:
            return cls(**raw)
        except TypeError as exc:
            raise BundleError(f"model metadata does not match {BUNDLE_FORMAT}: {exc}") from exc


@dataclass(frozen=True)
class ModelBundle:
    """A fitted scikit-learn pipeline + a probability calibrator + :class:`ModelMeta`."""

    pipeline: Any
    calibrator: Any
    meta: ModelMeta

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Calibrated probability of the positive (abnormal) class for each row of ``features``."""
        if features.ndim != 2 or features.shape[1] != len(self.meta.feature_columns):
            raise BundleError(
                f"expected a 2-D array with {len(self.meta.feature_columns)} columns "
                f"{list(self.meta.feature_columns)}, got shape {features.shape}"
            )
        if features.shape[0] == 0:
            return np.zeros(0, dtype=np.float64)
        raw = self.pipeline.predict_proba(features)[:, 1]
        return calibrate(self.meta.calibration, self.calibrator, raw)

    def to_bytes(self) -> bytes:
        return bytes(sio.dumps(
            {"format": BUNDLE_FORMAT, "meta": self.meta.to_json(), "pipeline": self.pipeline,
             "calibrator": self.calibrator}
        ))

    @classmethod
    def from_bytes(cls, data: bytes, expected_sha256: str | None = None) -> ModelBundle:
        """Load a bundle; with ``expected_sha256`` the bytes are verified first. Raises :class:`BundleError`."""
        if expected_sha256 is not None:
            actual = sha256_hex(data)
            if actual != expected_sha256.lower():
                raise BundleError(f"model artifact sha256 {actual} does not match the expected {expected_sha256}")
        try:
            untrusted = set(sio.get_untrusted_types(data=data))
        except Exception as exc:  # skops raises zipfile/JSON/KeyError variants on foreign files
            raise BundleError(f"not a skops model artifact: {type(exc).__name__}: {exc}") from exc
        refused = sorted(untrusted - TRUSTED_TYPES)
        if refused:
            raise BundleError(f"model artifact contains types that are not trusted: {refused}")
        loaded = sio.loads(data, trusted=sorted(untrusted))
        if not isinstance(loaded, dict) or loaded.get("format") != BUNDLE_FORMAT:
            raise BundleError(f"model artifact is not in format {BUNDLE_FORMAT}")
        return cls(loaded["pipeline"], loaded["calibrator"], ModelMeta.from_json(str(loaded["meta"])))


def fit_calibrator(method: CalibrationMethod, raw: np.ndarray, y: np.ndarray, seed: int = 0) -> Any:
    """Map raw scores of held-out rows to calibrated probabilities (isotonic, or Platt's sigmoid)."""
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression

    if method == "isotonic":
        return IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)
    return LogisticRegression(random_state=seed).fit(_logit(raw).reshape(-1, 1), y)


def calibrate(method: CalibrationMethod, calibrator: Any, raw: np.ndarray) -> np.ndarray:
    if method == "isotonic":
        out = np.asarray(calibrator.predict(raw), dtype=np.float64)
    else:
        out = np.asarray(calibrator.predict_proba(_logit(raw).reshape(-1, 1))[:, 1], dtype=np.float64)
    return np.clip(out, 0.0, 1.0)


def _logit(p: np.ndarray) -> np.ndarray:
    clipped = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1 - 1e-6)
    return np.log(clipped / (1 - clipped))


def feature_matrix(frame: Any, columns: Sequence[str]) -> np.ndarray:
    """The ``columns`` of a polars or pandas frame as a float64 matrix; a clear error names missing columns."""
    have = list(frame.columns)
    missing = [c for c in columns if c not in have]
    if missing:
        raise BundleError(f"feature frame lacks column(s) {missing} the model needs; it has {have}")
    selected = frame.select(list(columns)) if hasattr(frame, "select") and not hasattr(frame, "iloc") \
        else frame[list(columns)]
    return np.asarray(selected.to_numpy(), dtype=np.float64)
