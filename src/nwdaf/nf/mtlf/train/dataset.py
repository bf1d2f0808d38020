"""Training set assembly: flow records -> labelled feature rows (per host-window or per flow) + group keys.

Labels of a host-window come from the flows the host *initiated* in that window (a flow is the source's act):
malicious when at least one is labelled malicious, benign when all labelled ones are benign; windows whose
initiated flows are only ``background`` (unverified), and hosts that only answered, carry no label and are left
out of training. Features come from :mod:`nwdaf.lib.features` only.

Flow records come from dataset imports (``FORMAT:PATH``), a frame, or the warehouse's ``flow_records`` table by
time range (:func:`read_warehouse`, through the storage read side). The table has ``label``/``label_detail``
columns, but the processor's live records leave them empty: ground truth for them comes from a labels file
(:func:`read_labels`: ``host,label[,label_detail,start,end]``) that overrides the column where it matches.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
import polars as pl

from nwdaf.lib.features import (
    HOST,
    HOST_FEATURE_COLUMNS,
    UE_FEATURE_COLUMNS,
    WINDOW,
    host_window_features,
    ue_window_features,
)
from nwdaf.lib.flows import FLOW_SCHEMA, LABEL_BENIGN, LABEL_MALICIOUS, SkipReport, flow_paths, read_flows
from nwdaf.nf.mtlf.train.labels import apply_labels, read_labels
from nwdaf.nf.mtlf.train.synthetic import is_synthetic, synthetic_flows

HOST_WINDOW_FEATURES: Final = UE_FEATURE_COLUMNS
# Per-flow model inputs: the flow schema's own numeric counters (no derived features). Source ports are left out:
# they are ephemeral and would let the model memorise sessions.
FLOW_FEATURES: Final = (
    "duration_s", "proto_num", "dst_port", "pkts_fwd", "pkts_bwd", "pkts_total", "bytes_fwd", "bytes_bwd",
    "bytes_total",
)  # fmt: skip
# A feature missing in more than this share of one source's rows is dropped for all sources: otherwise "is null"
# would identify the source (e.g. Argus has no per-direction packet counts) and the model would learn the dataset,
# not the behaviour.
MAX_NULL_SHARE: Final = 0.5
MIN_INFECTED_SHARE: Final = 0.01
FLOW_TABLE: Final = "flow_records"
UE_COLUMNS: Final = ("supi", "ue_ip", "snssai", "dnn")
WAREHOUSE_SCHEMA: Final = pl.Schema([*FLOW_SCHEMA.items(), *((c, pl.String) for c in UE_COLUMNS)])
"""The ``flow_records`` columns training reads (``extra``, the producer's further columns as JSON, is left out)."""


class DatasetError(ValueError):
    """The inputs cannot make a training set (no labels, one class only, no usable feature)."""


@dataclass(frozen=True)
class TrainingSet:
    """Feature matrix, labels and the keys needed for group-aware CV and per-host evaluation."""

    X: np.ndarray
    y: np.ndarray
    keys: pl.DataFrame
    """One row per sample: ``window_start``, ``host``, ``source``, ``detail`` (the malicious label text)."""
    feature_columns: tuple[str, ...]
    dropped_features: dict[str, str]
    fingerprint: str
    kind: str

    @property
    def positives(self) -> int:
        return int(self.y.sum())


def load_flows(
    inputs: list[str], flows: pl.DataFrame | None, *, labels: Path | None = None, host_col: str = "src_ip",
    skips: SkipReport | None = None, window_s: float = 60.0,
) -> tuple[pl.DataFrame, str]:
    """Concatenate the dataset imports and the given frame, apply the labels file (if any); return them with the
    sha256 fingerprint of the data (input files, frame content, labels file). Malformed rows of the imports follow
    ``skips`` (:mod:`nwdaf.lib.flows.skips`); ``synthetic:SCENARIO:SEED`` inputs are generated through the UPF path
    in windows of ``window_s`` (:mod:`nwdaf.nf.mtlf.train.synthetic`)."""
    frame, fingerprint = gather_flows(inputs, flows, labels=labels, host_col=host_col, skips=skips,
                                      window_s=window_s)
    return frame, fingerprint()


def gather_flows(
    inputs: list[str], flows: pl.DataFrame | None, *, labels: Path | None = None, host_col: str = "src_ip",
    skips: SkipReport | None = None, window_s: float = 60.0,
) -> tuple[pl.DataFrame, Callable[[], str]]:
    """:func:`load_flows` with the fingerprint as a function, so that a caller can compute it while it computes
    the features (hashing 500k records takes ~0.2 s and releases the GIL)."""
    parts = [synthetic_flows(spec, window_s) if is_synthetic(spec) else read_flows(spec, skips=skips)
             for spec in inputs]
    if flows is not None:
        parts.append(flows)
    frame = pl.concat(parts, how="diagonal_relaxed")
    if labels is not None:
        frame = apply_labels(frame, read_labels(labels), host_col)
    if "label" not in frame.columns or frame.get_column("label").is_null().all():
        raise DatasetError("the flow records carry no labels; training needs labelled flows (a label column, "
                           "or a labels file host,label[,label_detail,start,end])")
    defaults = {"source": pl.lit("warehouse"), "label_detail": pl.lit(None, dtype=pl.String)}
    frame = frame.with_columns(v.alias(k) for k, v in defaults.items() if k not in frame.columns)
    return frame.with_columns(pl.col("source").fill_null("warehouse")), lambda: _fingerprint(inputs, flows, labels)


def _fingerprint(inputs: list[str], flows: pl.DataFrame | None, labels: Path | None) -> str:
    digest = hashlib.sha256()
    for spec in inputs:
        digest.update(spec.partition(":")[0].encode())
        if is_synthetic(spec):  # generated: the seed names the data
            digest.update(spec.encode())
            continue
        for path in _spec_paths(spec):
            digest.update(_file_sha256(path).encode())
    if flows is not None:
        buf = io.BytesIO()
        flows.write_ipc(buf)
        digest.update(hashlib.sha256(buf.getvalue()).hexdigest().encode())
    if labels is not None:
        digest.update(_file_sha256(labels).encode())
    return digest.hexdigest()


# --- the warehouse --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WarehouseQuery:
    """Flow records of the warehouse at ``url`` (``chdb://PATH``, ``clickhouse://host:port/db``) with
    ``start <= start_ts < end``."""

    url: str
    start: datetime
    end: datetime


def read_warehouse(query: WarehouseQuery) -> pl.DataFrame:
    """All ``flow_records`` of the range (oldest first), through :func:`nwdaf.nf.storage.open_backend`."""
    return asyncio.run(_read_warehouse(query))


async def _read_warehouse(query: WarehouseQuery) -> pl.DataFrame:
    from nwdaf.lib.storage.backends import StorageError, open_backend
    from nwdaf.lib.storage.backends.base import redacted

    where = redacted(query.url)
    backend = open_backend(query.url)
    if not backend.supports(FLOW_TABLE):
        raise DatasetError(f"{where} holds no {FLOW_TABLE} (time series only): use the warehouse URL")
    try:
        await backend.start()
        try:
            frame = await read_flow_records(backend, query.start, query.end)
        finally:
            await backend.close()
    except StorageError as exc:
        raise DatasetError(f"cannot read the warehouse {where}: {exc}") from exc
    if frame.height == 0:
        raise DatasetError(f"no flow records in {where} from {query.start.isoformat()} to {query.end.isoformat()}")
    return frame


async def read_flow_records(reader: Any, start: datetime, end: datetime, *, page: int = 0) -> pl.DataFrame:
    """Every ``flow_records`` row with ``start <= start_ts < end`` from a :class:`nwdaf.nf.storage.StorageReader`.

    The read side returns at most ``MAX_LIMIT`` rows per query, newest first; each next page ends just after the
    oldest start of the previous one (rows sharing that instant are fetched again in full, never half).
    """
    from nwdaf.lib.storage.backends import MAX_LIMIT, RecordQuery

    limit = page or MAX_LIMIT
    frames: list[pl.DataFrame] = []
    upper = end
    while True:
        rows = await reader.query(FLOW_TABLE, RecordQuery(start=start, end=upper, limit=limit))
        if len(rows) < limit:
            frames.append(_records_frame(rows))
            break
        upper = _just_after(float(rows[-1]["start_ts"]))
        cut = upper.timestamp()
        kept = [r for r in rows if r["start_ts"] >= cut]
        if not kept:
            raise DatasetError(f"more than {limit} flow records start within one microsecond of "
                               f"{rows[-1]['start_ts']}: cannot page through them")
        frames.append(_records_frame(kept))
    return pl.concat(frames).sort("start_ts", maintain_order=True)


def _just_after(ts: float) -> datetime:
    """The first whole microsecond strictly after ``ts`` (as a UTC datetime, the read side's bound type)."""
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=math.floor(ts * 1e6) + 1)
    while moment.timestamp() <= ts:
        moment += timedelta(microseconds=1)
    return moment


def _records_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.from_dicts([{k: r.get(k) for k in WAREHOUSE_SCHEMA} for r in rows], schema=WAREHOUSE_SCHEMA)


def align_sources(flows: pl.DataFrame) -> pl.DataFrame:
    """Shift every source file so its first flow starts at the earliest start of all sources."""
    if "source" not in flows.columns:
        return flows
    first = pl.col("start_ts").min()
    return flows.with_columns(pl.col("start_ts") - first.over("source") + first)


def host_window_set(
    flows: pl.DataFrame, window_s: float, host_col: str, fingerprint: str, fixed: tuple[str, ...] | None = None
) -> TrainingSet:
    """Labelled rows of ``host_window_features`` joined with ``graph_features``.

    ``fixed``: use exactly these feature columns (evaluating a trained model) instead of choosing them, and
    accept data of one class only.
    """
    # src_ip hosts: the processor's own feature function (the live engine scores exactly these columns).
    by_ip = host_col == "src_ip"
    feats = ue_window_features(flows, window_s) if by_ip else host_window_features(flows, window_s, host_col=host_col)
    labels = _host_window_labels(flows, window_s, host_col)
    rows = feats.join(labels, on=[WINDOW, HOST], how="inner").sort(WINDOW, HOST)
    columns = HOST_WINDOW_FEATURES if by_ip else HOST_FEATURE_COLUMNS
    return _finish(rows, fixed or columns, fingerprint, "host_window", fixed is not None)


def flow_set(
    flows: pl.DataFrame, window_s: float, fingerprint: str, fixed: tuple[str, ...] | None = None
) -> TrainingSet:
    """Labelled rows of single flows, keyed by source host and the window of their start."""
    rows = flows.filter(pl.col("label").is_in([LABEL_BENIGN, LABEL_MALICIOUS])).select(
        ((pl.col("start_ts") / window_s).floor() * window_s).alias(WINDOW),
        pl.col("src_ip").alias(HOST),
        pl.col("source"),
        pl.when(pl.col("label") == LABEL_MALICIOUS).then(pl.col("label_detail").fill_null(LABEL_MALICIOUS))
        .alias("detail"),
        (pl.col("label") == LABEL_MALICIOUS).cast(pl.Int8).alias("target"),
        *[pl.col(c).cast(pl.Float64) for c in FLOW_FEATURES],
    )
    return _finish(rows, fixed or FLOW_FEATURES, fingerprint, "flow", fixed is not None)


def _host_window_labels(flows: pl.DataFrame, window_s: float, host_col: str) -> pl.DataFrame:
    # Same tumbling, epoch-aligned windows as nwdaf.lib.features.
    window = ((pl.col("start_ts") / window_s).floor() * window_s).alias(WINDOW)
    malicious = pl.col("label") == LABEL_MALICIOUS
    # Only the columns labelling reads: a filter copies every column it keeps (500k rows in the benchmark).
    hosts = flows.select(pl.col("start_ts"), pl.col(host_col).cast(pl.String).alias(HOST), pl.col("label"),
                         pl.col("source"), pl.col("label_detail")).filter(pl.col(HOST).is_not_null())
    infected = _infected_hosts(hosts)
    per_host = hosts.group_by(window, HOST).agg(
        malicious.sum().alias("n_mal"),
        (pl.col("label") == LABEL_BENIGN).sum().alias("n_ben"),
        pl.col("source").mode().sort().first().alias("source"),
        pl.col("label_detail").filter(malicious).fill_null(LABEL_MALICIOUS).mode().sort().first().alias("detail"),
    )
    is_bot = pl.col(HOST).is_in(infected.implode())
    labelled = ((pl.col("n_mal") > 0) & is_bot) | ((pl.col("n_mal") == 0) & (pl.col("n_ben") > 0))
    return per_host.filter(labelled).select(
        WINDOW, HOST, "source", "detail", (pl.col("n_mal") > 0).cast(pl.Int8).alias("target")
    )


UNVERIFIED_DETAILS: Final = ("External-Attack-to-Device",)
"""Malicious labels that name no verified bot: the Stratosphere normal-host captures label every unsolicited
inbound connection to the monitored (verified-normal) host so; its sources are Internet scanners seen only through
their probes of that one host. They are left out of training (neither bot nor benign), like the peers of a bot."""


def _infected_hosts(flows: pl.DataFrame) -> pl.Series:
    """Hosts that initiate at least MIN_INFECTED_SHARE of a source's malicious flows.

    Why: labelled captures (CTU-13, IoT-23) label every flow *involving* an infected host, including flows that
    outside peers open towards it (CTU-13 scenario 12: P2P peers contact the bot, label ``From-Botnet``). Those
    peers are not verified bots; counting them as malicious hosts would teach the model that any host talking
    to a bot is one. Their windows are left unlabelled, not called benign. Flows labelled with one of
    :data:`UNVERIFIED_DETAILS` count for no host.
    """
    malicious = flows.filter((pl.col("label") == LABEL_MALICIOUS)
                             & ~pl.col("label_detail").is_in(UNVERIFIED_DETAILS).fill_null(False))
    share = malicious.group_by("source", HOST).agg(pl.len().alias("n")).with_columns(
        (pl.col("n") / pl.col("n").sum().over("source")).alias("share")
    )
    return share.filter(pl.col("share") >= MIN_INFECTED_SHARE).get_column(HOST).unique()


def _finish(
    rows: pl.DataFrame, columns: tuple[str, ...], fingerprint: str, kind: str, fixed: bool
) -> TrainingSet:
    if rows.height == 0:
        raise DatasetError("no labelled rows (benign or malicious) in the inputs")
    missing = [c for c in columns if c not in rows.columns]
    if missing:
        raise DatasetError(f"feature column(s) {missing} cannot be computed from these inputs")
    classes = set(rows.get_column("target").unique().to_list())
    if not fixed and classes != {0, 1}:
        have = "malicious" if 1 in classes else "benign"
        raise DatasetError(f"only {have} rows in the inputs: combine them with "
                           f"{'benign' if have == 'malicious' else 'malicious'} traffic")
    kept, dropped = (columns, {}) if fixed else _usable_columns(rows, columns)
    if not kept:
        raise DatasetError(f"no feature is measured by every source: {dropped}")
    keys = rows.select(WINDOW, HOST, "source", "detail")
    X = rows.select([pl.col(c).cast(pl.Float64) for c in kept]).to_numpy()
    y = rows.get_column("target").to_numpy().astype(np.int64)
    return TrainingSet(X, y, keys, kept, dropped, fingerprint, kind)


def _usable_columns(rows: pl.DataFrame, columns: tuple[str, ...]) -> tuple[tuple[str, ...], dict[str, str]]:
    null_share = rows.group_by("source").agg([pl.col(c).is_null().mean().alias(c) for c in columns])
    dropped: dict[str, str] = {}
    for c in columns:
        worst = null_share.sort(c, descending=True).row(0, named=True)
        if worst[c] > MAX_NULL_SHARE:
            dropped[c] = f"null in {worst[c]:.0%} of the rows of {worst['source']}"
    return tuple(c for c in columns if c not in dropped), dropped


def _spec_paths(spec: str) -> list[Path]:
    return flow_paths(spec)[1]


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
