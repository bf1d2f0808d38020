"""Feature functions: pure, vectorised functions from flow-record frames to per-window feature frames.

Each function has its ``FEATURE_COLUMNS`` tuple (the model inputs, all Float64) and ``KEY_COLUMNS`` (the row
keys). ML training and inference both call these functions and select these columns; no other module computes
features.
"""

from __future__ import annotations

from typing import Final

from nwdaf.lib.features import combined, graph, host, slice
from nwdaf.lib.features._common import HOST, WINDOW
from nwdaf.lib.features.combined import ue_window_features
from nwdaf.lib.features.graph import directed_betweenness, graph_features
from nwdaf.lib.features.host import host_window_features
from nwdaf.lib.features.slice import scoped_slice_features, slice_window_features

HOST_FEATURE_COLUMNS: Final = host.FEATURE_COLUMNS
GRAPH_FEATURE_COLUMNS: Final = graph.FEATURE_COLUMNS
SLICE_FEATURE_COLUMNS: Final = slice.FEATURE_COLUMNS
UE_FEATURE_COLUMNS: Final = combined.FEATURE_COLUMNS
HOST_KEY_COLUMNS: Final = host.KEY_COLUMNS
GRAPH_KEY_COLUMNS: Final = graph.KEY_COLUMNS
SLICE_KEY_COLUMNS: Final = (WINDOW, *slice.DEFAULT_KEYS)

__all__ = [
    "GRAPH_FEATURE_COLUMNS",
    "GRAPH_KEY_COLUMNS",
    "HOST",
    "HOST_FEATURE_COLUMNS",
    "HOST_KEY_COLUMNS",
    "SLICE_FEATURE_COLUMNS",
    "SLICE_KEY_COLUMNS",
    "UE_FEATURE_COLUMNS",
    "WINDOW",
    "directed_betweenness",
    "graph_features",
    "host_window_features",
    "scoped_slice_features",
    "slice_window_features",
    "ue_window_features",
]
