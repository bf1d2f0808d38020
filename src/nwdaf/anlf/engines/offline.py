"""Offline detection over recorded data with the same engine code (``nwdaf detect``).

Labels in the input are dropped before anything else (``include_labels=False``), so a detector can be judged on
data it has never seen.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from nwdaf.anlf.engines.abnormal_behaviour import AbnormalBehaviourEngine
from nwdaf.datasets import read_flows
from nwdaf.events import UeFeatureBatch
from nwdaf.processor.features import WINDOW, ue_window_features

FlowLoader = Callable[[str], pl.DataFrame]


def load_flows(spec: str) -> pl.DataFrame:
    """``FORMAT:PATH`` for the dataset formats, or ``pcap:PATH`` through the UPF data plane's flow table."""
    fmt, _, path = spec.partition(":")
    if fmt == "pcap":
        from nwdaf.processor.upf_usage import pcap_flow_records

        return pcap_flow_records(Path(path))
    flows = read_flows(spec, include_labels=False)
    assert isinstance(flows, pl.DataFrame)
    return flows


def detect(flows: pl.DataFrame, window_s: float, engine: AbnormalBehaviourEngine) -> dict[str, Any]:
    """Tumbling windows of ``window_s``; every host is scored, flagged hosts listed with their best finding."""
    feats = ue_window_features(flows, window_s).with_columns(pl.col("host").alias("supi"))
    tops = _top_destinations(flows, window_s)
    if not feats.is_empty():
        feats = feats.join(tops, on=[WINDOW, "host"], how="left")
    windows: list[dict[str, Any]] = []
    for (start,), part in feats.group_by(WINDOW, maintain_order=True):
        batch = UeFeatureBatch(window_start=float(start), window_end=float(start) + window_s,
                               columns={c: part[c].to_list() for c in part.columns})
        flagged: dict[str, dict[str, Any]] = {}
        for res in engine.evaluate(batch):
            assert res.abnormal is not None
            prev = flagged.get(res.supi)
            if prev is None or res.abnormal.score > prev["score"]:
                flagged[res.supi] = {"host": res.supi, "score": round(res.abnormal.score, 4),
                                     "exceptionId": res.abnormal.excep_id}
        windows.append({"start": batch.window_start, "end": batch.window_end, "hosts_seen": part.height,
                        "flagged": sorted(flagged.values(), key=lambda f: -f["score"])})
    windows.sort(key=lambda w: w["start"])
    return {"window_s": window_s, "windows": windows}


def _top_destinations(flows: pl.DataFrame, window_s: float) -> pl.DataFrame:
    from nwdaf.processor.features._common import window_expr

    return (
        flows.sort("pkts_total", descending=True, nulls_last=True)
        .group_by(window_expr(window_s), pl.col("src_ip").alias("host"))
        .agg(pl.col("dst_ip").unique(maintain_order=True).head(5).alias("top_destinations"))
    )
