"""The feature vector of the abnormal-behaviour model: host traffic features joined with graph features.

Training (``nwdaf.nf.mtlf``) and live scoring (``nwdaf.nf.anlf``) both call :func:`ue_window_features`, so the model
always sees columns computed by the same code.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from nwdaf.lib.features import graph, host
from nwdaf.lib.features._common import HOST, WINDOW

FEATURE_COLUMNS: Final = (*host.FEATURE_COLUMNS, *graph.FEATURE_COLUMNS)
KEY_COLUMNS: Final = (WINDOW, HOST)


def ue_window_features(flows: pl.DataFrame, window_s: float) -> pl.DataFrame:
    """One row per (window, host) with :data:`FEATURE_COLUMNS`; graph features are 0 for hosts without edges."""
    hosts = host.host_window_features(flows, window_s)
    graphs = graph.graph_features(flows, window_s)
    joined = hosts.join(graphs, on=list(KEY_COLUMNS), how="left")
    return joined.with_columns(pl.col(c).fill_null(0.0) for c in graph.FEATURE_COLUMNS)
