"""Model selection: every (candidate, sampler) pair scored by group-aware cross-validation, out of fold."""

from __future__ import annotations

import itertools
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, f1_score, matthews_corrcoef
from tqdm import tqdm  # type: ignore[import-untyped]  # dev extra has no types-tqdm

from nwdaf.mtlf.config import Candidate, Sampler
from nwdaf.mtlf.train.candidates import build_pipeline
from nwdaf.mtlf.train.cv import Split

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
    """Score each pair by out-of-fold F1 and MCC; the best is the highest F1, MCC breaking near-ties."""
    scores: list[CandidateScore] = []
    oofs: dict[tuple[str, str], np.ndarray] = {}
    with tqdm(total=len(pairs) * len(splits), desc="cross-validation", unit="fit", disable=not progress) as bar:
        for candidate, sampler in pairs:
            bar.set_postfix_str(f"{candidate}+{sampler}")
            score, oof = _score_pair(X, y, splits, candidate, sampler, seed, n_jobs, bar)
            scores.append(score)
            oofs[(candidate, sampler)] = oof
    best = max(scores, key=CandidateScore.key)
    return SearchResult(scores, best, oofs[(best.candidate, best.sampler)])


def _score_pair(
    X: np.ndarray, y: np.ndarray, splits: list[Split], candidate: Candidate, sampler: Sampler,
    seed: int, n_jobs: int, bar: Any,
) -> tuple[CandidateScore, np.ndarray]:
    oof = np.full(y.size, np.nan)
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for train, test in splits:
            pipeline = build_pipeline(candidate, sampler, y[train], seed, n_jobs).fit(X[train], y[train])
            oof[test] = pipeline.predict_proba(X[test])[:, 1]
            bar.update(1)
    scored = ~np.isnan(oof)
    pred = (oof[scored] >= 0.5).astype(np.int64)
    truth = y[scored]
    both = np.unique(truth).size == 2
    score = CandidateScore(
        candidate, sampler,
        f1=float(f1_score(truth, pred, zero_division=0)),
        mcc=float(matthews_corrcoef(truth, pred)) if both else 0.0,
        average_precision=float(average_precision_score(truth, oof[scored])) if both else 0.0,
        fit_s=time.perf_counter() - started,
        warnings=sorted({f"{w.category.__name__}: {str(w.message)[:160]}" for w in caught}),
    )
    return score, oof


def all_pairs(candidates: list[Candidate], samplers: list[Sampler]) -> list[tuple[Candidate, Sampler]]:
    return list(itertools.product(dict.fromkeys(candidates), dict.fromkeys(samplers)))
