"""Zeek ``conn.log`` in its TSV form (``#fields`` header), incl. IoT-23 / Slips ``conn.log.labeled``.

Header directives honoured: ``#separator``, ``#fields``, ``#unset_field`` and ``#empty_field`` (both values mean
null). IoT-23 files separate their last three fields (``tunnel_parents label detailed-label``) by three spaces
instead of the separator, an upstream quirk: when the ``#fields`` line shows it, data lines are read the same way
(and so is a data line written that way under a clean header, when its field count shows it).

Counters: ``orig_pkts``/``resp_pkts`` and the IP-level ``orig_ip_bytes``/``resp_ip_bytes`` (payload
``orig_bytes``/``resp_bytes`` only when a log lacks the IP-level ones). ``state`` is Zeek's ``conn_state``.

Labels (optional columns ``label`` and ``detailed-label``, Slips writes ``detailedlabel``): ``Benign`` = benign,
``Malicious`` = malicious, anything else (Slips ``Unknown``) = background; ``label_detail`` is the detailed label
(``DDoS``, ``C&C``, ``PartOfAHorizontalPortScan``...) or, when that is unset, the label text itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import polars as pl

from nwdaf.lib.flows import _parse as p
from nwdaf.lib.flows.schema import LABEL_BACKGROUND, LABEL_BENIGN, LABEL_MALICIOUS, proto_num_expr

FORMAT: Final = "zeek"
_IOT23_SEP: Final = "   "
_REQUIRED: Final = {
    "ts": "ts",
    "id.orig_h": "src",
    "id.orig_p": "sport",
    "id.resp_h": "dst",
    "id.resp_p": "dport",
    "proto": "proto",
}
_OPTIONAL: Final = {
    "duration": "dur",
    "conn_state": "state",
    "service": "service",
    "orig_pkts": "opkts",
    "resp_pkts": "rpkts",
    "label": "label",
    "detailed-label": "detail",
    "detailedlabel": "detail",
}
_BYTES: Final = (("orig_ip_bytes", "resp_ip_bytes"), ("orig_bytes", "resp_bytes"))


class _Header:
    """The directives of a Zeek log header.

    ``#separator`` counts before the first ``#fields`` line only. A later ``#fields`` line with the same columns (logs
    concatenated) is ignored; one with other columns is a bad row (``bad``) and the first header stays in force.
    """

    def __init__(self, path: Path, lines: pl.DataFrame) -> None:
        self.sep = "\t"
        self.nulls = ["-", "(empty)"]
        self.names: list[str] = []
        self.quirk = False
        self.line: int | None = None
        self.bad: dict[int, str] = {}
        for line, raw in lines.filter(pl.col(p.RAW).str.starts_with("#")).select(p.LINE, p.RAW).iter_rows():
            self._directive(path, line, raw)
        if not self.names:
            raise p.FlowFormatError(path, None, "no '#fields' header line: not a Zeek TSV log")

    def _directive(self, path: Path, line: int, raw: str) -> None:
        if raw.startswith("#separator ") and not self.names:
            try:
                self.sep = raw.removeprefix("#separator ").encode("ascii").decode("unicode_escape")
            except UnicodeError as exc:
                raise p.FlowFormatError(path, line, f"unreadable '#separator' directive: {exc}") from None
            if not self.sep:
                raise p.FlowFormatError(path, line, "empty '#separator' directive")
            return
        key, _, value = raw.partition(self.sep)
        if key == "#unset_field" and not self.names:
            self.nulls[0] = value
        elif key == "#empty_field" and not self.names:
            self.nulls[1] = value
        elif key == "#fields":
            quirk = _IOT23_SEP in value
            names = value.replace(_IOT23_SEP, self.sep).split(self.sep)
            if not self.names:
                self.names, self.line, self.quirk = names, line, quirk
            elif names != self.names:
                self.bad[line] = "a second '#fields' header with other columns"


def read_zeek_conn(path: str | Path, *, on_error: p.OnError = "raise", include_labels: bool = True) -> p.FlowImport:
    """Read one Zeek conn.log (gzip or plain) into the flow schema."""
    path = Path(path)
    lines = p.read_lines(path)
    header = _Header(path, lines)
    p.require_columns(path, header.line, header.names, _REQUIRED)
    data = lines.filter(~pl.col(p.RAW).str.starts_with("#") | pl.col(p.LINE).is_in(list(header.bad)))
    if header.bad:
        preset = pl.col(p.LINE).replace_strict(header.bad, default=None, return_dtype=pl.String)
        data = data.with_columns(pl.coalesce(pl.col(p.REASON), preset).alias(p.REASON))
    raw = pl.col(p.RAW)
    quirky = raw.str.contains(_IOT23_SEP, literal=True)
    if not header.quirk:  # the tail written the IoT-23 way under a clean header: only where the field count shows it
        quirky &= raw.str.count_matches(header.sep, literal=True) + 1 != len(header.names)
    data = data.with_columns(pl.when(quirky).then(raw.str.replace_all(_IOT23_SEP, header.sep, literal=True))
                             .otherwise(raw).alias(p.RAW))
    wanted = {**_REQUIRED, **{h: c for h, c in _OPTIONAL.items() if h in header.names}}
    byte_cols = next((pair for pair in _BYTES if set(pair) <= set(header.names)), None)
    if byte_cols is not None:
        wanted |= {byte_cols[0]: "obytes", byte_cols[1]: "rbytes"}
    rows = p.raw_columns(p.split_fields(data, header.sep, quoting=False), header.names, wanted)
    flows, stats = p.finish(
        rows,
        _fields(set(wanted.values()), header.nulls),
        path=path,
        source=f"{FORMAT}:{path.name}",
        on_error=on_error,
        include_labels=include_labels,
    )
    return p.FlowImport(flows, (stats,))


def _fields(present: set[str], nulls: list[str]) -> list[p.Field]:
    text = {c: p.null_if(pl.col(c), *nulls) for c in present}
    proto = text["proto"].str.to_lowercase()
    proto_num = proto_num_expr(proto)
    fields = [
        p.Field("start_ts", p.to_float(text["ts"]), text["ts"], "epoch seconds", True),
        p.Field("proto", proto, text["proto"], required=True),
        p.Field("proto_num", proto_num),
        p.Field("src_ip", text["src"], text["src"], required=True),
        p.port_field("src_port", text["sport"], proto_num),
        p.Field("dst_ip", text["dst"], text["dst"], required=True),
        p.port_field("dst_port", text["dport"], proto_num),
    ]
    if "dur" in present:
        fields.append(p.Field("duration_s", p.nonneg(p.to_float(text["dur"])), text["dur"], "a duration"))
    fields += [p.Field(name, text[col]) for name, col in (("state", "state"), ("service", "service")) if col in present]
    for unit, fwd, bwd in (("pkts", "opkts", "rpkts"), ("bytes", "obytes", "rbytes")):
        if {fwd, bwd} <= present:
            fwd_v, bwd_v = p.nonneg(p.to_int(text[fwd])), p.nonneg(p.to_int(text[bwd]))
            fields.append(p.Field(f"{unit}_fwd", fwd_v, text[fwd], "a count"))
            fields.append(p.Field(f"{unit}_bwd", bwd_v, text[bwd], "a count"))
            fields.append(p.Field(f"{unit}_total", fwd_v + bwd_v))
    if "label" in present:
        fields.extend(_label_fields(text["label"], text.get("detail")))
    return fields


def _label_fields(label: pl.Expr, detail: pl.Expr | None) -> list[p.Field]:
    lower = label.str.to_lowercase()
    normalised = (
        pl.when(lower == "malicious")
        .then(pl.lit(LABEL_MALICIOUS))
        .when(lower == "benign")
        .then(pl.lit(LABEL_BENIGN))
        .when(label.is_not_null())
        .then(pl.lit(LABEL_BACKGROUND))
    )
    return [
        p.Field("label", normalised),
        p.Field("label_detail", pl.coalesce(detail, label) if detail is not None else label),
    ]
