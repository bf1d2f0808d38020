"""Scoring of one ``nwdaf detect`` report against the ground truth of an :class:`~nwdaf.app.eval_data.Labelled`.

Per attack class: **host recall per active window** (an attacker is active in a window when it is the source of
a flow of that class starting there; recall = active (window, host) pairs flagged with any ExceptionId / all),
**flow recall** (attack flows whose source was flagged in the flow's window / all attack flows; the meaningful
unit where sampling destroyed the host context) and the **delay** in windows from a host's first active window
to its first finding. Per dataset: the **worst and mean share of non-attacker hosts flagged** per window (hosts =
every address seen in the window, as the detector scores them; attackers excluded), the false-positive
host-windows, **precision** (flagged host-windows that are not false positives / all flagged host-windows) and
how many windows a **verified-normal host** was flagged in, of those it was seen in.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from nwdaf.app.eval_data import ATTACK_CLASS, Labelled
from nwdaf.lib.features import WINDOW
from nwdaf.lib.features._common import window_expr

_KEY = [WINDOW, "host"]


def flagged_frame(report: dict[str, Any]) -> pl.DataFrame:
    """(window_start, host) of every finding in a ``detect`` report."""
    rows = [(float(w["start"]), f["host"]) for w in report["windows"] for f in w["flagged"]]
    return pl.DataFrame(rows, schema={WINDOW: pl.Float64, "host": pl.String}, orient="row").unique()


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None else round(x, digits)


def class_scores(truth: Labelled, flagged: pl.DataFrame, window_s: float) -> list[dict[str, Any]]:
    attack = truth.flows.filter(pl.col(ATTACK_CLASS).is_not_null()).select(
        window_expr(window_s), pl.col("src_ip").alias("host"), pl.col(ATTACK_CLASS))
    hits = flagged.with_columns(pl.lit(True).alias("hit"))
    flows = attack.join(hits, on=_KEY, how="left").with_columns(pl.col("hit").fill_null(False))
    active = flows.unique([WINDOW, "host", ATTACK_CLASS])
    out: list[dict[str, Any]] = []
    for (klass,), part in active.group_by(ATTACK_CLASS, maintain_order=True):
        per_flow = flows.filter(pl.col(ATTACK_CLASS) == klass)
        out.append({
            "class": klass, "attackers": part.get_column("host").n_unique(), "active_host_windows": part.height,
            "host_recall": _round(part.get_column("hit").mean()),  # type: ignore[arg-type]
            "flows": per_flow.height, "flow_recall": _round(per_flow.get_column("hit").mean()),  # type: ignore[arg-type]
            "max_delay_windows": _max_delay(part, flagged, window_s),
        })
    return sorted(out, key=lambda c: str(c["class"]))


def _max_delay(active: pl.DataFrame, flagged: pl.DataFrame, window_s: float) -> int | None:
    """Largest number of windows between a host's first active window and its first finding in its active span
    (first to one window after its last active window); None when some host of the class was never flagged in
    that span."""
    first = active.group_by("host").agg(pl.col(WINDOW).min().alias("first"), pl.col(WINDOW).max().alias("last"))
    in_span = (pl.col(WINDOW) >= pl.col("first")) & (pl.col(WINDOW) <= pl.col("last") + window_s)
    found = first.join(flagged, on="host", how="left").filter(in_span)
    found = found.group_by("host").agg(((pl.col(WINDOW) - pl.col("first")).min() / window_s).alias("delay"))
    if found.height < first.height:
        return None
    return round(float(found.get_column("delay").max()))  # type: ignore[arg-type]


def population_scores(truth: Labelled, flagged: pl.DataFrame, window_s: float) -> dict[str, Any]:
    f = truth.flows.filter(pl.col("src_ip") != pl.col("dst_ip")).select(window_expr(window_s), "src_ip", "dst_ip")
    ends = [f.select(WINDOW, pl.col(end).alias("host")) for end in ("src_ip", "dst_ip")]
    seen = pl.concat(ends).unique()
    benign = seen.filter(~pl.col("host").is_in(list(truth.attackers)))
    marked = benign.join(flagged.with_columns(pl.lit(1).alias("hit")), on=_KEY, how="left")
    per_window = marked.group_by(WINDOW).agg(pl.len().alias("hosts"), pl.col("hit").fill_null(0).sum().alias("fp"))
    per_window = per_window.with_columns((pl.col("fp") / pl.col("hosts")).alias("share"))
    worst = per_window.sort(["share", "hosts"], descending=[True, True]).head(1)
    normal = seen.filter(pl.col("host").is_in(list(truth.verified_normal)))
    normal_hit = normal.join(flagged, on=_KEY, how="semi")
    return {
        "windows": per_window.height,
        "hosts_per_window_median": _round(per_window.get_column("hosts").median(), 1),  # type: ignore[arg-type]
        "fp_host_windows": int(per_window.get_column("fp").sum()),
        "worst_share": _round(float(worst["share"][0]) if worst.height else 0.0, 5),
        "worst_share_hosts": int(worst["hosts"][0]) if worst.height else 0,
        "mean_share": _round(per_window.get_column("share").mean() if per_window.height else 0.0, 6),  # type: ignore[arg-type]
        "normal_windows": normal.height, "normal_flagged_windows": normal_hit.height,
        "flagged_host_windows": flagged.height,
        "precision": _round(1 - int(per_window.get_column("fp").sum()) / flagged.height) if flagged.height else None,
    }
