"""Ground truth for flow records that carry none: a labels file mapping hosts (optionally per time range) to
labels, applied to the flows each host initiated.

The warehouse's ``flow_records`` table has ``label``/``label_detail`` columns, filled when labelled records are
written (a dataset import stored for training); the processor's live UPF records leave them empty. The operator's
ground truth for those is a CSV file (``host,label[,label_detail,start,end]``) that overrides the column where a
row matches and leaves every other flow as it was.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from nwdaf.lib.flows import LABELS


class LabelsFileError(ValueError):
    """The labels file is missing a column, has an unknown label or an unreadable time."""


def read_labels(path: Path) -> pl.DataFrame:
    """A labels file: CSV with a header, columns ``host``, ``label`` (benign, malicious, background) and optional
    ``label_detail``, ``start``, ``end`` (ISO 8601 with offset, or epoch seconds; empty = open)."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"host", "label"} - set(reader.fieldnames or ())
        if missing:
            raise LabelsFileError(f"labels file {path}: no column(s) {sorted(missing)} (header {reader.fieldnames})")
        rows = [_label_row(path, n, row) for n, row in enumerate(reader, start=2)]
    if not rows:
        raise LabelsFileError(f"labels file {path} has no rows")
    schema = {"host": pl.String, "label": pl.String, "label_detail": pl.String, "start": pl.Float64,
              "end": pl.Float64}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _label_row(path: Path, line: int, row: dict[str, str | None]) -> tuple[Any, ...]:
    host, label = (row.get("host") or "").strip(), (row.get("label") or "").strip().lower()
    if not host or label not in LABELS:
        raise LabelsFileError(f"labels file {path} line {line}: need a host and a label in {list(LABELS)}, "
                           f"got {row.get('host')!r}, {row.get('label')!r}")
    start, end = (_label_time(path, line, row.get(k)) for k in ("start", "end"))
    if start is not None and end is not None and start >= end:
        raise LabelsFileError(f"labels file {path} line {line}: start must be before end")
    return host, label, (row.get("label_detail") or "").strip() or None, start, end


def _label_time(path: Path, line: int, value: str | None) -> float | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise LabelsFileError(f"labels file {path} line {line}: {text!r} is neither epoch seconds nor an ISO 8601 "
                           "time with a UTC offset")
    return moment.timestamp()


def apply_labels(flows: pl.DataFrame, labels: pl.DataFrame, host_col: str) -> pl.DataFrame:
    """Label the flows each host initiated (``host_col`` = the file's ``host``, ``start <= start_ts < end``);
    where several rows match a flow the last one in the file wins; unmatched flows keep their own label."""
    rules = labels.with_row_index("_rule")
    keyed = flows.with_row_index("_flow")
    hits = (
        keyed.select("_flow", pl.col(host_col).cast(pl.String).alias("host"), "start_ts")
        .join(rules, on="host", how="inner")
        .filter((pl.col("start").is_null() | (pl.col("start_ts") >= pl.col("start")))
                & (pl.col("end").is_null() | (pl.col("start_ts") < pl.col("end"))))
        .sort("_rule")
        .group_by("_flow")
        .agg(pl.col("label").last().alias("_label"), pl.col("label_detail").last().alias("_detail"))
    )
    own = [c for c in ("label", "label_detail") if c in flows.columns]
    merged = keyed.join(hits, on="_flow", how="left").sort("_flow")
    return merged.with_columns(
        pl.coalesce("_label", *own[:1]).alias("label"),
        pl.when(pl.col("_label").is_not_null()).then(pl.col("_detail"))
        .otherwise(pl.col("label_detail") if "label_detail" in own else pl.lit(None, dtype=pl.String))
        .alias("label_detail"),
    ).drop("_flow", "_label", "_detail")
