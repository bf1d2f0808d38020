"""Per network slice (S-NSSAI) and/or DNN, per window: traffic volumes, rates and active UEs.

Input: per-UE flow records as the UPF event exposure yields them (TS 29.564 usage reports carry the UE's SUPI,
S-NSSAI and DNN; the converter puts them in ``supi``, ``snssai`` and ``dnn`` beside the flow schema columns). The
UE is the flow's source, so ``fwd`` is uplink and ``bwd`` downlink.

Features (Float64): ``flows``, ``ul_bytes``, ``dl_bytes``, ``ul_pkts``, ``dl_pkts`` (null when a record lacks the
split), ``total_bytes``, ``ul_bps``/``dl_bps`` (bits per second over the window), ``active_ues`` (distinct SUPIs
with a flow starting in the window), ``bytes_per_ue`` and ``flows_per_ue``.

:func:`scoped_slice_features` stacks the three groupings the processor publishes: per slice, per DNN and per
slice + DNN (``active_ues`` of a slice is not the sum over its DNNs: a UE may have a session on each).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import polars as pl

from nwdaf.lib.features._common import WINDOW, as_features, check_window, require, sum_or_null, window_expr

FEATURE_COLUMNS: Final = (
    "flows",
    "ul_bytes",
    "dl_bytes",
    "ul_pkts",
    "dl_pkts",
    "total_bytes",
    "ul_bps",
    "dl_bps",
    "active_ues",
    "bytes_per_ue",
    "flows_per_ue",
)
DEFAULT_KEYS: Final = ("snssai", "dnn")
SCOPE: Final = "scope"
SCOPES: Final[dict[str, tuple[str, ...]]] = {"snssai": ("snssai",), "dnn": ("dnn",), "snssai_dnn": ("snssai", "dnn")}
"""Scope name → grouping columns of :func:`scoped_slice_features`."""
_NEEDED: Final = ("start_ts", "supi", "bytes_fwd", "bytes_bwd", "pkts_fwd", "pkts_bwd", "bytes_total")


def slice_window_features(flows: pl.DataFrame, window_s: float, by: Sequence[str] = DEFAULT_KEYS) -> pl.DataFrame:
    """One row per (``window_start``, *by) with :data:`FEATURE_COLUMNS`, sorted by those keys.

    ``by`` names the grouping columns (``("snssai",)``, ``("dnn",)`` or both); each must exist in ``flows``.
    """
    check_window(window_s)
    keys = list(by)
    if not keys:
        raise ValueError("slice_window_features needs at least one grouping column (snssai and/or dnn)")
    require(flows, (*_NEEDED, *keys), "slice_window_features")
    ues = pl.col("supi").drop_nulls().n_unique()
    total = pl.col("bytes_total").sum()
    grouped = flows.group_by(window_expr(window_s), *keys).agg(
        pl.len().alias("flows"),
        sum_or_null(pl.col("bytes_fwd")).alias("ul_bytes"),
        sum_or_null(pl.col("bytes_bwd")).alias("dl_bytes"),
        sum_or_null(pl.col("pkts_fwd")).alias("ul_pkts"),
        sum_or_null(pl.col("pkts_bwd")).alias("dl_pkts"),
        total.alias("total_bytes"),
        (sum_or_null(pl.col("bytes_fwd")) * 8 / window_s).alias("ul_bps"),
        (sum_or_null(pl.col("bytes_bwd")) * 8 / window_s).alias("dl_bps"),
        ues.alias("active_ues"),
        pl.when(ues > 0).then(total / ues).alias("bytes_per_ue"),
        pl.when(ues > 0).then(pl.len() / ues).alias("flows_per_ue"),
    )
    return grouped.select(pl.col(WINDOW), *keys, *as_features(FEATURE_COLUMNS)).sort(WINDOW, *keys)


def scoped_slice_features(flows: pl.DataFrame, window_s: float) -> pl.DataFrame:
    """:func:`slice_window_features` per slice, per DNN and per slice + DNN, stacked with a ``scope`` column.

    Columns: ``window_start``, ``scope`` (a key of :data:`SCOPES`), ``snssai`` and ``dnn`` (null where the scope
    does not group by it, and where the flows carry none), then :data:`FEATURE_COLUMNS`; sorted by window, scope
    and keys.
    """
    parts = []
    for scope, keys in SCOPES.items():
        part = slice_window_features(flows, window_s, keys).with_columns(pl.lit(scope).alias(SCOPE))
        part = part.with_columns(
            (pl.col(k).cast(pl.String) if k in keys else pl.lit(None, dtype=pl.String)).alias(k) for k in DEFAULT_KEYS
        )
        parts.append(part.select(WINDOW, SCOPE, *DEFAULT_KEYS, *FEATURE_COLUMNS))
    return pl.concat(parts, how="vertical").sort(WINDOW, SCOPE, *DEFAULT_KEYS, nulls_last=True)
