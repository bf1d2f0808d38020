"""CICFlowMeter CSV: CIC-IDS2017 in the improved release of Engelen et al. (91 columns) and the original one.

Header names are matched without surrounding blanks and case-insensitively, with the original release's spellings
as aliases (``Source IP``, `` Total Fwd Packets``, ``Total Length of Fwd Packets``...). ``Flow Duration`` is in
microseconds. ``Timestamp`` carries no zone and is read in ``time_zone`` (default UTC: the improved release's
times run 11:00-20:00, i.e. the capture's 08:00-17:00 ADT working day in UTC). Byte counters are the
``Total Length of Fwd/Bwd Packet(s)`` columns, which CICFlowMeter sums over packet payloads. There is no
connection state.

Labels: ``BENIGN`` = benign. Another label is malicious when ``Attempted Category`` is -1 (or the column is
absent); attempted attacks (category >= 0: the attack was tried but carried no malicious effect, Engelen et al.
WTMC 2021) are neither verified benign nor attack traffic and are normalised to background, like CTU-13's
unverified flows. ``label_detail`` keeps the ``Label`` text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import polars as pl

from nwdaf.lib.flows import _parse as p
from nwdaf.lib.flows.schema import LABEL_BACKGROUND, LABEL_BENIGN, LABEL_MALICIOUS, proto_name_expr

FORMAT: Final = "cicflow"
# column -> accepted header spellings (lower case, blanks stripped)
_REQUIRED: Final = {
    "src": ("src ip", "source ip"),
    "sport": ("src port", "source port"),
    "dst": ("dst ip", "destination ip"),
    "dport": ("dst port", "destination port"),
    "proto": ("protocol",),
    "ts": ("timestamp",),
    "dur": ("flow duration",),
    "fpkts": ("total fwd packet", "total fwd packets"),
    "bpkts": ("total bwd packets", "total backward packets", "total bwd packet"),
    "fbytes": ("total length of fwd packet", "total length of fwd packets"),
    "bbytes": ("total length of bwd packet", "total length of bwd packets"),
}
_OPTIONAL: Final = {"label": ("label",), "attempted": ("attempted category",)}
_TIME_FORMATS: Final = (
    "%Y-%m-%d %H:%M:%S%.f",
    "%d/%m/%Y %H:%M:%S%.f",
    "%d/%m/%Y %I:%M:%S %p",
    "%d/%m/%Y %H:%M",
)


def read_cicflow(
    path: str | Path,
    *,
    on_error: p.OnError = "raise",
    include_labels: bool = True,
    time_zone: str = "UTC",
) -> p.FlowImport:
    """Read one CICFlowMeter CSV (gzip or plain) into the flow schema."""
    path = Path(path)
    lines = p.read_lines(path)
    names, header_line = p.csv_header(path, lines, ",")
    wanted = _resolve(path, header_line, names)
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


def _resolve(path: Path, line: int, names: list[str]) -> dict[str, str]:
    """Header name -> internal column for every column found; raises when a required one is missing."""
    lower = {name.lower(): name for name in reversed(names)}
    wanted: dict[str, str] = {}
    missing: list[str] = []
    for table, required in ((_REQUIRED, True), (_OPTIONAL, False)):
        for col, spellings in table.items():
            found = next((lower[s] for s in spellings if s in lower), None)
            if found is not None:
                wanted[found] = col
            elif required:
                missing.append(spellings[0])
    if missing:
        raise p.FlowFormatError(path, line, f"header lacks column(s) {missing}")
    return wanted


def _fields(present: set[str], time_zone: str) -> list[p.Field]:
    text = {c: p.null_if(pl.col(c)) for c in present}
    proto_num = p.to_int(text["proto"])
    proto_ok = proto_num.is_between(0, 255)
    fields = [
        p.Field("start_ts", p.to_epoch(text["ts"], _TIME_FORMATS, time_zone), text["ts"], "a timestamp", True),
        p.Field("duration_s", p.nonneg(p.to_float(text["dur"])) / 1e6, text["dur"], "microseconds (>= 0)"),
        p.Field("proto_num", pl.when(proto_ok).then(proto_num), text["proto"], "a protocol number", True),
        p.Field("proto", proto_name_expr(pl.when(proto_ok).then(proto_num))),
        p.Field("src_ip", text["src"], text["src"], required=True),
        p.port_field("src_port", text["sport"], proto_num),
        p.Field("dst_ip", text["dst"], text["dst"], required=True),
        p.port_field("dst_port", text["dport"], proto_num),
    ]
    for unit, fwd, bwd in (("pkts", "fpkts", "bpkts"), ("bytes", "fbytes", "bbytes")):
        fwd_v, bwd_v = p.nonneg(p.to_int(text[fwd])), p.nonneg(p.to_int(text[bwd]))
        fields.append(p.Field(f"{unit}_fwd", fwd_v, text[fwd], "a count"))
        fields.append(p.Field(f"{unit}_bwd", bwd_v, text[bwd], "a count"))
        fields.append(p.Field(f"{unit}_total", fwd_v + bwd_v))
    if "label" in present:
        fields.extend(_label_fields(text["label"], text.get("attempted")))
    return fields


def _label_fields(label: pl.Expr, attempted_text: pl.Expr | None) -> list[p.Field]:
    attempted = p.to_int(attempted_text) if attempted_text is not None else pl.lit(-1)
    normalised = (
        pl.when(label.is_null())
        .then(None)
        .when(label.str.to_uppercase() == "BENIGN")
        .then(pl.lit(LABEL_BENIGN))
        .when(attempted.fill_null(-1) == -1)
        .then(pl.lit(LABEL_MALICIOUS))
        .otherwise(pl.lit(LABEL_BACKGROUND))
    )
    fields = [p.Field("label", normalised), p.Field("label_detail", label)]
    if attempted_text is not None:
        fields.append(p.Field("_attempted", attempted, attempted_text, "an integer category"))
    return fields
