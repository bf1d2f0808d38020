"""Argus bidirectional NetFlow (``.binetflow``, CSV) as published with CTU-13.

Columns used: ``StartTime, Dur, Proto, SrcAddr, Sport, DstAddr, Dport, TotPkts, TotBytes`` (required) and
``State, SrcBytes, Label`` (optional). Argus gives no packet split, so ``pkts_fwd``/``pkts_bwd`` stay null;
``bytes_fwd`` is ``SrcBytes`` and ``bytes_bwd`` is ``TotBytes - SrcBytes``. ICMP type/code appear as hex "ports"
(``0x0303``) and are decoded. ``StartTime`` carries no zone: it is read in ``time_zone`` (default UTC).

Labels (CTU-13 free text): containing ``Botnet`` = malicious, containing ``Normal`` = benign, anything else
(``Background``...) = background; ``label_detail`` keeps the text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import polars as pl

from nwdaf.lib.flows import _parse as p
from nwdaf.lib.flows.schema import LABEL_BACKGROUND, LABEL_BENIGN, LABEL_MALICIOUS, proto_num_expr

FORMAT: Final = "binetflow"
_REQUIRED: Final = {
    "StartTime": "start",
    "Dur": "dur",
    "Proto": "proto",
    "SrcAddr": "src",
    "Sport": "sport",
    "DstAddr": "dst",
    "Dport": "dport",
    "TotPkts": "pkts",
    "TotBytes": "bytes",
}
_OPTIONAL: Final = {"State": "state", "SrcBytes": "sbytes", "Label": "label"}
_TIME_FORMATS: Final = ("%Y/%m/%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f")


def read_binetflow(
    path: str | Path,
    *,
    on_error: p.OnError = "raise",
    include_labels: bool = True,
    time_zone: str = "UTC",
) -> p.FlowImport:
    """Read one ``.binetflow`` file (gzip or plain) into the flow schema."""
    path = Path(path)
    lines = p.read_lines(path)
    names, header_line = p.csv_header(path, lines, ",")
    p.require_columns(path, header_line, names, _REQUIRED)
    wanted = {**_REQUIRED, **{h: c for h, c in _OPTIONAL.items() if h in names}}
    rows = p.raw_columns(p.split_fields(lines.slice(1), ",", quoting=True), names, wanted)
    flows, stats = p.finish(
        rows,
        _fields(set(wanted.values()), time_zone),
        path=path,
        source=f"{FORMAT}:{path.name}",
        on_error=on_error,
        include_labels=include_labels,
    )
    return p.FlowImport(flows, (stats,))


def _fields(present: set[str], time_zone: str) -> list[p.Field]:
    text = {c: p.null_if(pl.col(c)) for c in present}
    proto = text["proto"].str.to_lowercase()
    proto_num = proto_num_expr(proto)
    pkts = p.nonneg(p.to_int(text["pkts"]))
    total = p.nonneg(p.to_int(text["bytes"]))
    fields = [
        p.Field("start_ts", p.to_epoch(text["start"], _TIME_FORMATS, time_zone), text["start"], "a timestamp", True),
        p.Field("duration_s", p.nonneg(p.to_float(text["dur"])), text["dur"], "a duration"),
        p.Field("proto", proto, text["proto"], required=True),
        p.Field("proto_num", proto_num),
        p.Field("src_ip", text["src"], text["src"], required=True),
        p.port_field("src_port", text["sport"], proto_num),
        p.Field("dst_ip", text["dst"], text["dst"], required=True),
        p.port_field("dst_port", text["dport"], proto_num),
        p.Field("pkts_total", pkts, text["pkts"], "a packet count", True),
        p.Field("bytes_total", total, text["bytes"], "a byte count", True),
    ]
    if "state" in present:
        fields.append(p.Field("state", text["state"]))
    if "sbytes" in present:
        src_bytes = p.to_int(text["sbytes"])
        ok = (src_bytes >= 0) & (src_bytes <= total)
        fields.append(p.Field("bytes_fwd", pl.when(ok).then(src_bytes), text["sbytes"], "0 <= SrcBytes <= TotBytes"))
        fields.append(p.Field("bytes_bwd", pl.when(ok).then(total - src_bytes)))
    if "label" in present:
        fields.extend(_label_fields(text["label"]))
    return fields


def _label_fields(label: pl.Expr) -> list[p.Field]:
    normalised = (
        pl.when(label.str.contains("Botnet", literal=True))
        .then(pl.lit(LABEL_MALICIOUS))
        .when(label.str.contains("Normal", literal=True))
        .then(pl.lit(LABEL_BENIGN))
        .when(label.is_not_null())
        .then(pl.lit(LABEL_BACKGROUND))
    )
    return [p.Field("label", normalised), p.Field("label_detail", label)]
