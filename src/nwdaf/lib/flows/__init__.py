"""Importers of public flow-record datasets into one polars flow schema (see :mod:`nwdaf.lib.flows.schema`).

``read_flows("FORMAT:PATH")`` with FORMAT one of ``binetflow`` (Argus, CTU-13), ``zeek`` (conn.log, IoT-23,
Slips, Stratosphere), ``cicflow`` (CICFlowMeter CSV, CIC-IDS2017) or ``nfstream`` (NFStream CSV). PATH may be a file,
a glob pattern or a directory (:mod:`nwdaf.lib.flows.spec`; files are read in sorted order and concatenated);
``.gz`` content is recognised by its magic bytes. Malformed rows follow the one bad-row policy of
:mod:`nwdaf.lib.flows.skips`: skipped and counted in a :class:`SkipReport`, or a :class:`BadRowError` with ``strict``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal, overload

import polars as pl

from nwdaf.lib.flows._parse import FlowImport, ImportStats, OnError, RowError, SkipCount
from nwdaf.lib.flows.argus import read_binetflow
from nwdaf.lib.flows.cicflow import read_cicflow
from nwdaf.lib.flows.nfstream import read_nfstream_csv
from nwdaf.lib.flows.schema import (
    FLOW_SCHEMA,
    FLOW_SCHEMA_NO_LABELS,
    LABEL_BACKGROUND,
    LABEL_BENIGN,
    LABEL_COLUMNS,
    LABEL_MALICIOUS,
    LABELS,
    conform_flows,
    empty_flows,
)
from nwdaf.lib.flows.skips import BadRowError, FlowFormatError, SkipReport
from nwdaf.lib.flows.spec import FORMATS, flow_paths
from nwdaf.lib.flows.zeek import read_zeek_conn

__all__ = [
    "FLOW_SCHEMA",
    "FLOW_SCHEMA_NO_LABELS",
    "FORMATS",
    "LABELS",
    "LABEL_BACKGROUND",
    "LABEL_BENIGN",
    "LABEL_COLUMNS",
    "LABEL_MALICIOUS",
    "BadRowError",
    "FlowFormatError",
    "FlowImport",
    "ImportStats",
    "OnError",
    "RowError",
    "SkipCount",
    "SkipReport",
    "conform_flows",
    "empty_flows",
    "flow_paths",
    "read_binetflow",
    "read_cicflow",
    "read_flows",
    "read_nfstream_csv",
    "read_zeek_conn",
    "record_import",
]

log = logging.getLogger("nwdaf.flows")


@overload
def read_flows(
    spec: str,
    *,
    include_labels: bool = ...,
    strict: bool = ...,
    skips: SkipReport | None = ...,
    on_error: Literal["raise"] | None = ...,
    time_zone: str = ...,
) -> pl.DataFrame: ...


@overload
def read_flows(
    spec: str,
    *,
    include_labels: bool = ...,
    strict: bool = ...,
    skips: SkipReport | None = ...,
    on_error: Literal["count"],
    time_zone: str = ...,
) -> FlowImport: ...


def read_flows(
    spec: str,
    *,
    include_labels: bool = True,
    strict: bool = False,
    skips: SkipReport | None = None,
    on_error: OnError | None = None,
    time_zone: str = "UTC",
) -> pl.DataFrame | FlowImport:
    """Read ``FORMAT:PATH`` into the flow schema.

    ``include_labels=False`` drops ``label``/``label_detail`` (offline detection must never see them). Malformed
    rows are skipped and counted into ``skips`` (per file and reason, first line numbers); without a report they
    are logged (logger ``nwdaf.flows``), never dropped unsaid. A file that cannot be read at all (no header, not
    the format) is left out and recorded when other files of the spec read, else raised as
    :class:`FlowFormatError`. ``strict`` (or a strict ``skips``, or ``on_error="raise"``) raises
    :class:`BadRowError` naming file and line at the first malformed row instead. ``on_error="count"`` returns a
    :class:`FlowImport` ``(flows, stats)`` rather than the frame. ``time_zone`` applies to formats whose
    timestamps carry no zone (binetflow, cicflow).
    """
    fmt, paths = flow_paths(spec)
    strict = strict or on_error == "raise" or (skips is not None and skips.strict)
    report = skips if skips is not None else SkipReport(strict=strict)
    parts: list[FlowImport] = []
    first_error: FlowFormatError | None = None
    for path in paths:
        try:
            part = _read_one(fmt, path, include_labels, "raise" if strict else "count", time_zone)
        except BadRowError:
            raise
        except FlowFormatError as exc:
            if strict or len(paths) == 1:
                raise
            first_error = first_error or exc
            report.fail(path, exc.reason if exc.line is None else f"line {exc.line}: {exc.reason}")
            continue
        record_import(report, part.stats)
        parts.append(part)
    if not parts:
        assert first_error is not None
        raise first_error
    if skips is None and on_error != "count" and (report.skipped or report.failed_files):
        log.warning("%s: %s", spec, report.summary())
    flows = pl.concat([part.flows for part in parts], how="vertical")
    result = FlowImport(flows, tuple(s for part in parts for s in part.stats))
    return result if on_error == "count" else result.flows


def record_import(report: SkipReport, stats: tuple[ImportStats, ...]) -> None:
    """Add what importers read and skipped (their :class:`ImportStats`) to ``report``."""
    for st in stats:
        report.read(st.path, st.rows_read)
        for sc in st.reasons:
            report.skip(st.path, sc.reason, count=sc.count, lines=sc.lines)


def _read_one(fmt: str, path: Path, include_labels: bool, on_error: OnError, time_zone: str) -> FlowImport:
    if fmt == "binetflow":
        return read_binetflow(path, on_error=on_error, include_labels=include_labels, time_zone=time_zone)
    if fmt == "cicflow":
        return read_cicflow(path, on_error=on_error, include_labels=include_labels, time_zone=time_zone)
    if fmt == "zeek":
        return read_zeek_conn(path, on_error=on_error, include_labels=include_labels)
    return read_nfstream_csv(path, on_error=on_error, include_labels=include_labels)
