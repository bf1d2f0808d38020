"""Model selection: every (candidate, sampler) pair scored by group-aware cross-validation, out of fold."""

from __future__ import annotations

import itertools
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, f1_score, matthews_corrcoef
from sklearn.pipeline import Pipeline
from tqdm import tqdm  # type: ignore[import-untyped]  # dev extra has no types-tqdm

from nwdaf.nf.mtlf.train.candidates import make_imputer, make_sampler, model_steps
from nwdaf.nf.mtlf.train.config import Candidate, Sampler
from nwdaf.nf.mtlf.train.cv import Split

# Scores closer than this count as a tie on F1; MCC decides then.
F1_TIE = 0.005


@dataclass(frozen=True)
class CandidateScore:
    """Out-of-fold scores of one (candidate, sampler) pair."""

    candidate: Candidate
    sampler: Sampler
    f1: float
    mcc: float
    average_precision: float
    fit_s: float
    warnings: list[str] = field(default_factory=list)

    def key(self) -> tuple[float, float]:
        return (round(self.f1 / F1_TIE), self.mcc)


@dataclass(frozen=True)
class SearchResult:
    """All scores, the winner, and the winner's out-of-fold probabilities (for calibration)."""

    scores: list[CandidateScore]
    best: CandidateScore
    oof: np.ndarray


def search(
    X: np.ndarray,
    y: np.ndarray,
    splits: list[Split],
    pairs: list[tuple[Candidate, Sampler]],
    *,
    seed: int,
    n_jobs: int,
    progress: bool,
) -> SearchResult:
    """Score each pair by out-of-fold F1 and MCC; the best is the highest F1, MCC breaking near-ties.

    Each fold is imputed and resampled once per sampler and shared by that sampler's candidates: the steps each
    pair's pipeline would run (same rows, same random state, so the same resampled set), without SMOTE or
    SMOTE-ENN running again for every candidate.
    """
    runs = {pair: _PairRun(np.full(y.size, np.nan)) for pair in pairs}
    with tqdm(total=len(pairs) * len(splits), desc="cross-validation", unit="fit", disable=not progress) as bar:
        for sampler, candidates in _by_sampler(pairs).items():
            for train, test in splits:
                _score_fold(X, y, (train, test), sampler, candidates, runs, seed, n_jobs, bar)
    scores = [_score(candidate, sampler, run, y) for (candidate, sampler), run in runs.items()]
    best = max(scores, key=CandidateScore.key)
    return SearchResult(scores, best, runs[(best.candidate, best.sampler)].oof)


@dataclass
class _PairRun:
    oof: np.ndarray
    seconds: float = 0.0
    warnings: set[str] = field(default_factory=set)


def _by_sampler(pairs: list[tuple[Candidate, Sampler]]) -> dict[Sampler, list[Candidate]]:
    grouped: dict[Sampler, list[Candidate]] = {}
    for candidate, sampler in pairs:
        grouped.setdefault(sampler, []).append(candidate)
    return grouped


def _score_fold(
    X: np.ndarray, y: np.ndarray, split: Split, sampler: Sampler, candidates: list[Candidate],
    runs: dict[tuple[Candidate, Sampler], _PairRun], seed: int, n_jobs: int, bar: Any,
) -> None:
    """One fold of one sampler: impute and resample its training part once, then fit and score each candidate."""
    train, test = split
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        imputer = make_imputer()
        X_fit, y_fit = imputer.fit_transform(X[train]), y[train]
        resampler = make_sampler(sampler, y[train], seed, n_jobs)
        if resampler is not None:
            X_fit, y_fit = resampler.fit_resample(X_fit, y_fit)
        X_test = imputer.transform(X[test])
    shared_s, shared_warnings = (time.perf_counter() - started) / len(candidates), _texts(caught)
    for candidate in candidates:
        bar.set_postfix_str(f"{candidate}+{sampler}")
        run = runs[(candidate, sampler)]
        started = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = Pipeline(model_steps(candidate, seed, n_jobs)).fit(X_fit, y_fit)
            run.oof[test] = model.predict_proba(X_test)[:, 1]
        run.seconds += shared_s + time.perf_counter() - started
        run.warnings |= shared_warnings | _texts(caught)
        bar.update(1)


def _texts(caught: list[warnings.WarningMessage]) -> set[str]:
    return {f"{w.category.__name__}: {str(w.message)[:160]}" for w in caught}


def _score(candidate: Candidate, sampler: Sampler, run: _PairRun, y: np.ndarray) -> CandidateScore:
    scored = ~np.isnan(run.oof)
    pred = (run.oof[scored] >= 0.5).astype(np.int64)
    truth = y[scored]
    both = np.unique(truth).size == 2
    return CandidateScore(
        candidate, sampler,
        f1=float(f1_score(truth, pred, zero_division=0)),
        mcc=float(matthews_corrcoef(truth, pred)) if both else 0.0,
        average_precision=float(average_precision_score(truth, run.oof[scored])) if both else 0.0,
        fit_s=run.seconds,
        warnings=sorted(run.warnings),
    )


def all_pairs(candidates: list[Candidate], samplers: list[Sampler]) -> list[tuple[Candidate, Sampler]]:
    return list(itertools.product(dict.fromkeys(candidates), dict.fromkeys(samplers)))
