"""Importers of public flow-record datasets into one polars flow schema (see :mod:`nwdaf.lib.flows.schema`).

``read_flows("FORMAT:PATH")`` with FORMAT one of ``binetflow`` (Argus, CTU-13), ``zeek`` (conn.log, IoT-23,
Slips), ``cicflow`` (CICFlowMeter CSV, CIC-IDS2017) or ``nfstream`` (NFStream CSV). PATH may be a glob pattern
(files are read in sorted order and concatenated); ``.gz`` content is recognised by its magic bytes.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Final, Literal, overload

import polars as pl

from nwdaf.lib.flows._parse import FlowFormatError, FlowImport, ImportStats, OnError, RowError
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
from nwdaf.lib.flows.zeek import read_zeek_conn

FORMATS: Final = ("binetflow", "zeek", "cicflow", "nfstream")

__all__ = [
    "FLOW_SCHEMA",
    "FLOW_SCHEMA_NO_LABELS",
    "FORMATS",
    "LABELS",
    "LABEL_BACKGROUND",
    "LABEL_BENIGN",
    "LABEL_COLUMNS",
    "LABEL_MALICIOUS",
    "FlowFormatError",
    "FlowImport",
    "ImportStats",
    "OnError",
    "RowError",
    "conform_flows",
    "empty_flows",
    "read_binetflow",
    "read_cicflow",
    "read_flows",
    "read_nfstream_csv",
    "read_zeek_conn",
]


@overload
def read_flows(
    spec: str, *, include_labels: bool = ..., on_error: Literal["raise"] = ..., time_zone: str = ...
) -> pl.DataFrame: ...


@overload
def read_flows(
    spec: str, *, include_labels: bool = ..., on_error: Literal["count"], time_zone: str = ...
) -> FlowImport: ...


def read_flows(
    spec: str, *, include_labels: bool = True, on_error: OnError = "raise", time_zone: str = "UTC"
) -> pl.DataFrame | FlowImport:
    """Read ``FORMAT:PATH`` into the flow schema.

    ``include_labels=False`` drops ``label``/``label_detail`` (offline detection must never see them).
    ``on_error="raise"`` (default) raises :class:`FlowFormatError` naming file and line at the first malformed
    row and returns the frame; ``on_error="count"`` skips malformed rows and returns a :class:`FlowImport`
    ``(flows, stats)`` that counts them per file. ``time_zone`` applies to formats whose timestamps carry no
    zone (binetflow, cicflow).
    """
    fmt, paths = _parse_spec(spec)
    parts = [_read_one(fmt, path, include_labels, on_error, time_zone) for path in paths]
    flows = pl.concat([part.flows for part in parts], how="vertical")
    result = FlowImport(flows, tuple(s for part in parts for s in part.stats))
    return result if on_error == "count" else result.flows


def _parse_spec(spec: str) -> tuple[str, list[Path]]:
    fmt, sep, where = spec.partition(":")
    if not sep or fmt not in FORMATS:
        raise ValueError(f"flow spec must be FORMAT:PATH with FORMAT one of {list(FORMATS)}, got {spec!r}")
    if glob.has_magic(where):
        paths = [Path(p) for p in sorted(glob.glob(where))]
        if not paths:
            raise FileNotFoundError(f"no file matches {where!r} (flow spec {spec!r})")
        return fmt, paths
    path = Path(where)
    if not path.is_file():
        raise FileNotFoundError(f"flow file {where!r} does not exist (flow spec {spec!r})")
    return fmt, [path]


def _read_one(fmt: str, path: Path, include_labels: bool, on_error: OnError, time_zone: str) -> FlowImport:
    if fmt == "binetflow":
        return read_binetflow(path, on_error=on_error, include_labels=include_labels, time_zone=time_zone)
    if fmt == "cicflow":
        return read_cicflow(path, on_error=on_error, include_labels=include_labels, time_zone=time_zone)
    if fmt == "zeek":
        return read_zeek_conn(path, on_error=on_error, include_labels=include_labels)
    return read_nfstream_csv(path, on_error=on_error, include_labels=include_labels)
