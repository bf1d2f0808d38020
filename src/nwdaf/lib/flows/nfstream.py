"""NFStream flow CSV, as written by ``NFStreamer(...).to_csv()``.

Required columns: ``src_ip, dst_ip, src_port, dst_port, protocol, bidirectional_first_seen_ms,
bidirectional_duration_ms, src2dst_packets, dst2src_packets, src2dst_bytes, dst2src_bytes``. Optional:
``application_name`` (kept as ``service``) and ``label``. Times are epoch milliseconds (UTC by definition); byte
counters are NFStream's (link-layer by default, ``accounting_mode`` 0). NFStream has no connection state.

An optional ``label`` column is normalised: ``benign``/``normal`` = benign, ``background``/``unknown`` =
background, any other text = malicious (case-insensitive); ``label_detail`` keeps the text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import polars as pl

from nwdaf.lib.flows import _parse as p
from nwdaf.lib.flows.schema import LABEL_BACKGROUND, LABEL_BENIGN, LABEL_MALICIOUS, proto_name_expr

FORMAT: Final = "nfstream"
_REQUIRED: Final = (
    "src_ip",
    "dst_ip",
    "src_port",
    "dst_port",
    "protocol",
    "bidirectional_first_seen_ms",
    "bidirectional_duration_ms",
    "src2dst_packets",
    "dst2src_packets",
    "src2dst_bytes",
    "dst2src_bytes",
)
_OPTIONAL: Final = ("application_name", "label")


def read_nfstream_csv(path: str | Path, *, on_error: p.OnError = "raise", include_labels: bool = True) -> p.FlowImport:
    """Read one NFStream CSV (gzip or plain) into the flow schema."""
    path = Path(path)
    lines = p.read_lines(path)
    names, header_line = p.csv_header(path, lines, ",")
    p.require_columns(path, header_line, names, _REQUIRED)
    wanted = {c: c for c in (*_REQUIRED, *(o for o in _OPTIONAL if o in names))}
    rows = p.raw_columns(p.split_fields(lines.slice(1), ",", quoting=True), names, wanted)
    flows, stats = p.finish(
        rows,
        _fields(set(wanted)),
        path=path,
        source=f"{FORMAT}:{path.name}",
        on_error=on_error,
        include_labels=include_labels,
    )
    return p.FlowImport(flows, (stats,))


def _fields(present: set[str]) -> list[p.Field]:
    text = {c: p.null_if(pl.col(c)) for c in present}
    proto_num = p.to_int(text["protocol"])
    proto_ok = proto_num.is_between(0, 255)
    first_ms = p.to_float(text["bidirectional_first_seen_ms"])
    fields = [
        p.Field("start_ts", first_ms / 1e3, text["bidirectional_first_seen_ms"], "epoch milliseconds", True),
        p.Field(
            "duration_s",
            p.nonneg(p.to_float(text["bidirectional_duration_ms"])) / 1e3,
            text["bidirectional_duration_ms"],
            "milliseconds",
        ),
        p.Field("proto_num", pl.when(proto_ok).then(proto_num), text["protocol"], "a protocol number", True),
        p.Field("proto", proto_name_expr(pl.when(proto_ok).then(proto_num))),
        p.Field("src_ip", text["src_ip"], text["src_ip"], required=True),
        p.port_field("src_port", text["src_port"], proto_num),
        p.Field("dst_ip", text["dst_ip"], text["dst_ip"], required=True),
        p.port_field("dst_port", text["dst_port"], proto_num),
    ]
    for unit in ("packets", "bytes"):
        fwd_raw, bwd_raw = text[f"src2dst_{unit}"], text[f"dst2src_{unit}"]
        fwd_v, bwd_v = p.nonneg(p.to_int(fwd_raw)), p.nonneg(p.to_int(bwd_raw))
        short = "pkts" if unit == "packets" else "bytes"
        fields.append(p.Field(f"{short}_fwd", fwd_v, fwd_raw, "a count"))
        fields.append(p.Field(f"{short}_bwd", bwd_v, bwd_raw, "a count"))
        fields.append(p.Field(f"{short}_total", fwd_v + bwd_v))
    if "application_name" in present:
        fields.append(p.Field("service", text["application_name"]))
    if "label" in present:
        fields.extend(_label_fields(text["label"]))
    return fields


def _label_fields(label: pl.Expr) -> list[p.Field]:
    lower = label.str.to_lowercase()
    normalised = (
        pl.when(label.is_null())
        .then(None)
        .when(lower.is_in(["benign", "normal"]))
        .then(pl.lit(LABEL_BENIGN))
        .when(lower.is_in(["background", "unknown"]))
        .then(pl.lit(LABEL_BACKGROUND))
        .otherwise(pl.lit(LABEL_MALICIOUS))
    )
    return [p.Field("label", normalised), p.Field("label_detail", label)]
