"""The CV search resamples each fold once per sampler and shares it between candidates: the out-of-fold scores
are exactly those of fitting each pair's full pipeline (impute -> resample -> [scale] -> model) per fold."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import average_precision_score, f1_score, matthews_corrcoef

from nwdaf.nf.mtlf.train.candidates import build_pipeline
from nwdaf.nf.mtlf.train.cv import group_kfold, make_groups
from nwdaf.nf.mtlf.train.dataset import host_window_set
from nwdaf.nf.mtlf.train.search import all_pairs, search

pytestmark = pytest.mark.unit


def test_shared_resampling_scores_like_one_pipeline_per_pair(flows: pl.DataFrame) -> None:
    data = host_window_set(flows, 60.0, "src_ip", "fp")
    splits = group_kfold(data.y, make_groups(data.keys, data.y, "host", needed=3), 3, seed=0)
    pairs = all_pairs(["random_forest", "logistic_regression"], ["smote", "smoteenn", "none"])
    found = search(data.X, data.y, splits, pairs, seed=0, n_jobs=1, progress=False)
    assert [(s.candidate, s.sampler) for s in found.scores] == pairs
    for score in found.scores:
        oof = np.full(data.y.size, np.nan)
        for train, test in splits:
            pipeline = build_pipeline(score.candidate, score.sampler, data.y[train], 0, 1)
            oof[test] = pipeline.fit(data.X[train], data.y[train]).predict_proba(data.X[test])[:, 1]
        pred = (oof >= 0.5).astype(np.int64)
        assert score.f1 == f1_score(data.y, pred, zero_division=0), score
        assert score.mcc == matthews_corrcoef(data.y, pred), score
        assert score.average_precision == average_precision_score(data.y, oof), score
        if (score.candidate, score.sampler) == (found.best.candidate, found.best.sampler):
            np.testing.assert_array_equal(found.oof, oof)
