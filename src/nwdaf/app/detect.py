"""Offline detection over recorded data with the same engine code (``nwdaf detect``).

Labels in the input are dropped before anything else (``include_labels=False``), so a detector can be judged on
data it has never seen. With a model (:func:`load_scorer`: the MLflow registry or a bundle file) the engine scores
every window with it as well as with the rules, exactly as the live engine does with a provisioned model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from nwdaf.lib.features import WINDOW, ue_window_features
from nwdaf.lib.features._common import window_expr
from nwdaf.lib.features.beacons import beacon_window_features
from nwdaf.lib.features.host import unanswered_out_share
from nwdaf.lib.features.peers import rule_window_features
from nwdaf.lib.flows import SkipReport, read_flows
from nwdaf.lib.flows.spec import spec_paths
from nwdaf.lib.ml.bundle import BundleError, ModelBundle, feature_matrix, sha256_hex
from nwdaf.nf.engines.abnormal_behaviour import AbnormalBehaviourEngine
from nwdaf.platform.events import UeFeatureBatch

FlowLoader = Callable[[str], pl.DataFrame]


def load_flows(spec: str, skips: SkipReport | None = None) -> pl.DataFrame:
    """``FORMAT:PATH`` for the dataset formats, or ``pcap:PATH`` through the UPF data plane's flow table; PATH may
    be a file, a glob or a directory. Bad rows (undecodable frames) follow the policy of ``skips``
    (:mod:`nwdaf.lib.flows.skips`): counted there, or a :class:`~nwdaf.lib.flows.BadRowError` when it is strict."""
    fmt, _, where = spec.partition(":")
    if fmt == "pcap":
        from nwdaf.lib.flows.upf_usage import pcap_flow_records

        parts = [pcap_flow_records(path, skips=skips) for path in spec_paths(fmt, where, spec)]
        return pl.concat(parts, how="vertical") if len(parts) > 1 else parts[0]
    return read_flows(spec, include_labels=False, skips=skips)


@dataclass(frozen=True)
class BundleScorer:
    """A model bundle loaded for offline scoring: the engine's :class:`~nwdaf.nf.engines.Scorer`."""

    bundle: ModelBundle
    version: str
    """The registry version (``models:/`` URIs) or ``sha256:<first 12 hex digits>`` of a bundle file."""
    uri: str

    @property
    def threshold(self) -> float:
        return self.bundle.meta.threshold

    def score(self, features: pl.DataFrame) -> np.ndarray[Any, Any]:
        return self.bundle.predict_proba(feature_matrix(features, self.bundle.meta.feature_columns))


def load_scorer(model_uri: str, *, tracking_uri: str, artifact_root: str) -> BundleScorer:
    """``models:/NAME@ALIAS`` or ``models:/NAME/VERSION`` from the MLflow registry at ``tracking_uri`` (sha256
    verified against the registered one), or a bundle file (``.skops``). Raises :class:`BundleError` for a model
    the ABNORMAL_BEHAVIOUR engine cannot use, ``LookupError`` for an unknown model, ``OSError`` for a missing
    file."""
    if model_uri.startswith("models:/"):
        version, data = _from_registry(model_uri, tracking_uri, artifact_root)
    else:
        data = Path(model_uri).read_bytes()
        version = f"sha256:{sha256_hex(data)[:12]}"
    bundle = ModelBundle.from_bytes(data)
    meta = bundle.meta
    if meta.kind != "host_window" or meta.event != "ABNORMAL_BEHAVIOUR":
        raise BundleError(f"model {model_uri} is a {meta.kind} {meta.event} model; the engine scores host windows "
                          "for ABNORMAL_BEHAVIOUR")
    return BundleScorer(bundle, version, model_uri)


def _from_registry(model_uri: str, tracking_uri: str, artifact_root: str) -> tuple[str, bytes]:
    from nwdaf.nf.mtlf.registry import ModelRegistry, RegistryError

    ref = model_uri.removeprefix("models:/")
    registry = ModelRegistry(tracking_uri, artifact_root)
    if "@" in ref:
        name, alias = ref.split("@", 1)
        found = registry.by_alias(name, alias)
        if found is None:
            raise RegistryError(f"model {name!r} has no alias {alias!r} in the registry at {tracking_uri}")
        version = found.version
    else:
        name, _, version = ref.rpartition("/")
        if not name or not version:
            raise ValueError(f"model URI must be models:/NAME/VERSION or models:/NAME@ALIAS, got {model_uri!r}")
    return version, registry.artifact_bytes(name, version)


def detect(flows: pl.DataFrame, window_s: float, engine: AbnormalBehaviourEngine) -> dict[str, Any]:
    """Tumbling windows of ``window_s``; every host is scored, flagged hosts listed with their best finding."""
    feats = ue_window_features(flows, window_s).with_columns(pl.col("host").alias("supi"))
    if not feats.is_empty():
        feats = feats.join(_top_destinations(flows, window_s), on=[WINDOW, "host"], how="left")
        feats = feats.join(_unanswered_shares(flows, window_s), on=[WINDOW, "host"], how="left")
        feats = feats.join(rule_window_features(flows, window_s), on=[WINDOW, "host"], how="left")
        feats = feats.join(beacon_window_features(flows, window_s), on=[WINDOW, "host"], how="left")
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


def _unanswered_shares(flows: pl.DataFrame, window_s: float) -> pl.DataFrame:
    """``unanswered_out_share`` per window and host, as the processor adds it to the live features (the flood
    rule reads it)."""
    windowed = flows.with_columns(window_expr(window_s))
    parts = [unanswered_out_share(part).with_columns(pl.lit(float(start)).alias(WINDOW))
             for (start,), part in windowed.group_by(WINDOW, maintain_order=True)]
    return pl.concat(parts) if parts else pl.DataFrame(schema={"host": pl.String, WINDOW: pl.Float64})


def _top_destinations(flows: pl.DataFrame, window_s: float) -> pl.DataFrame:
    return (
        flows.sort("pkts_total", descending=True, nulls_last=True)
        .group_by(window_expr(window_s), pl.col("src_ip").alias("host"))
        .agg(pl.col("dst_ip").unique(maintain_order=True).head(5).alias("top_destinations"))
    )
