"""Candidate models and resampling strategies, as imbalanced-learn pipelines.

Resampling sits inside the pipeline, so it only ever sees the training part of a fold: oversampling before the
split would copy (SMOTE: interpolate) test rows into training. At prediction time imbalanced-learn skips the
sampler; :func:`deployable` drops it from the fitted pipeline so the provisioned model needs scikit-learn only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from imblearn.combine import SMOTEENN
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import Pipeline as ImbPipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import NearestNeighbors
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from nwdaf.nf.mtlf.train.config import Candidate, Sampler

_SMOTE_NEIGHBOURS = 5


def make_estimator(name: Candidate, seed: int, n_jobs: int) -> Any:
    if name == "random_forest":
        return RandomForestClassifier(n_estimators=100, min_samples_leaf=2, n_jobs=n_jobs, random_state=seed)
    if name == "hist_gradient_boosting":
        return HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, random_state=seed)
    return LogisticRegression(max_iter=2000, random_state=seed)


def make_sampler(name: Sampler, y: np.ndarray, seed: int, n_jobs: int = 1) -> Any | None:
    """The sampler, or None when resampling is off or the minority class is too small to resample.

    SMOTE's neighbour search runs on ``n_jobs`` threads (same neighbours, same samples as on one).
    """
    minority = int(min(np.bincount(y, minlength=2)))
    if name == "none" or minority < 2:
        return None
    if name == "undersample":
        return RandomUnderSampler(random_state=seed)
    neighbours = NearestNeighbors(n_neighbors=min(_SMOTE_NEIGHBOURS, minority - 1) + 1, n_jobs=n_jobs)
    smote = SMOTE(k_neighbors=neighbours, random_state=seed)
    return smote if name == "smote" else SMOTEENN(smote=smote, random_state=seed)


def make_imputer() -> SimpleImputer:
    return SimpleImputer(strategy="median", keep_empty_features=True)


def model_steps(candidate: Candidate, seed: int, n_jobs: int) -> list[tuple[str, Any]]:
    """The steps after resampling: [scale, for the linear model] -> classifier."""
    scale: list[tuple[str, Any]] = [("scale", StandardScaler())] if candidate == "logistic_regression" else []
    return [*scale, ("classifier", make_estimator(candidate, seed, n_jobs))]


def build_pipeline(candidate: Candidate, sampler: Sampler, y: np.ndarray, seed: int, n_jobs: int) -> Any:
    """impute (median) -> resample -> [scale, for the linear model] -> classifier."""
    steps: list[tuple[str, Any]] = [("impute", make_imputer())]
    resampler = make_sampler(sampler, y, seed, n_jobs)
    if resampler is not None:
        steps.append(("resample", resampler))
    return ImbPipeline([*steps, *model_steps(candidate, seed, n_jobs)])


def deployable(fitted: Any) -> Pipeline:
    """The fitted pipeline without its resampling step, as a plain scikit-learn ``Pipeline``.

    A random forest is set to predict on one thread: the engine scores small batches, where joblib's thread
    start-up costs more than it saves, and the host has few cores to share.
    """
    pipeline = Pipeline([(name, step) for name, step in fitted.steps if name != "resample"])
    classifier = pipeline.named_steps["classifier"]
    if "n_jobs" in classifier.get_params():
        classifier.set_params(n_jobs=1)
    return pipeline
