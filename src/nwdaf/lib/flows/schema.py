"""The one flow-record schema every importer (and the UPF flow converter) maps to.

Column conventions:

* ``start_ts`` is **Float64 seconds since the Unix epoch, UTC**. Zeek, NFStream (ms) and UPF reports convert to it
  by a multiplication, tumbling windows are ``floor(start_ts / window_s) * window_s`` and there is no time-zone
  ambiguity once a record is in this schema. Float64 keeps ~0.2 µs resolution at today's epoch values.
* ``fwd`` is the direction from ``src`` (the flow's initiator as the source format reports it) to ``dst``;
  ``bwd`` the reverse. A format that does not split a counter leaves ``*_fwd``/``*_bwd`` null and fills
  ``*_total`` (Argus ``.binetflow`` has only ``TotPkts``); ``pkts_total``/``bytes_total`` are filled by every
  importer.
* ``label`` is one of :data:`LABELS` or null (unlabelled source); ``label_detail`` keeps the source's own text
  (IoT-23 detailed-label such as ``DDoS``, CTU-13 ``flow=From-Botnet-...``, CIC ``DoS Hulk``).
* ``source`` is ``"<format>:<file name>"`` so rows from several files stay traceable after a concat.
"""

from __future__ import annotations

from typing import Final

import polars as pl

LABEL_BENIGN: Final = "benign"
LABEL_MALICIOUS: Final = "malicious"
LABEL_BACKGROUND: Final = "background"
LABELS: Final = (LABEL_BENIGN, LABEL_MALICIOUS, LABEL_BACKGROUND)
LABEL_COLUMNS: Final = ("label", "label_detail")

FLOW_SCHEMA: Final = pl.Schema(
    {
        "start_ts": pl.Float64,
        "duration_s": pl.Float64,
        "proto": pl.String,
        "proto_num": pl.Int16,
        "src_ip": pl.String,
        "src_port": pl.Int32,
        "dst_ip": pl.String,
        "dst_port": pl.Int32,
        "state": pl.String,
        "service": pl.String,
        "pkts_fwd": pl.Int64,
        "pkts_bwd": pl.Int64,
        "pkts_total": pl.Int64,
        "bytes_fwd": pl.Int64,
        "bytes_bwd": pl.Int64,
        "bytes_total": pl.Int64,
        "label": pl.String,
        "label_detail": pl.String,
        "source": pl.String,
    }
)
FLOW_SCHEMA_NO_LABELS: Final = pl.Schema({k: v for k, v in FLOW_SCHEMA.items() if k not in LABEL_COLUMNS})
REQUIRED_COLUMNS: Final = ("start_ts", "proto", "src_ip", "dst_ip")

# IANA protocol numbers for the names the supported formats use; "arp" and other non-IP names keep a null number.
PROTO_NUMBERS: Final[dict[str, int]] = {
    "hopopt": 0,
    "icmp": 1,
    "igmp": 2,
    "ipv4": 4,
    "tcp": 6,
    "egp": 8,
    "igp": 9,
    "udp": 17,
    "ipv6": 41,
    "rsvp": 46,
    "gre": 47,
    "esp": 50,
    "ah": 51,
    "ipv6-icmp": 58,
    "icmp6": 58,
    "ospf": 89,
    "pim": 103,
    "vrrp": 112,
    "l2tp": 115,
    "sctp": 132,
    "udplite": 136,
}
PROTO_NAMES: Final[dict[int, str]] = {
    0: "hopopt", 1: "icmp", 2: "igmp", 4: "ipv4", 6: "tcp", 8: "egp", 9: "igp", 17: "udp", 41: "ipv6",
    46: "rsvp", 47: "gre", 50: "esp", 51: "ah", 58: "ipv6-icmp", 89: "ospf", 103: "pim", 112: "vrrp",
    115: "l2tp", 132: "sctp", 136: "udplite",
}  # fmt: skip


def proto_num_expr(name: pl.Expr) -> pl.Expr:
    """IANA number for a lower-case protocol name, null when the name is not an IP protocol we know."""
    return name.replace_strict(PROTO_NUMBERS, default=None, return_dtype=pl.Int16)


def proto_name_expr(number: pl.Expr) -> pl.Expr:
    """Lower-case protocol name for an IANA number; unknown numbers keep their decimal text."""
    return number.replace_strict(PROTO_NAMES, default=number.cast(pl.String), return_dtype=pl.String)


def empty_flows(*, include_labels: bool = True) -> pl.DataFrame:
    """An empty frame with the flow schema."""
    return pl.DataFrame(schema=FLOW_SCHEMA if include_labels else FLOW_SCHEMA_NO_LABELS)


def conform_flows(df: pl.DataFrame, *, include_labels: bool = True) -> pl.DataFrame:
    """Cast ``df`` to the flow schema, adding absent optional columns as nulls.

    Meant for producers other than the file importers (e.g. the UPF per-flow converter). Extra columns such as
    ``supi``, ``snssai`` and ``dnn`` are kept after the schema columns. ``proto`` may be a name (lower-cased)
    or an IANA number; a Datetime ``start_ts`` becomes epoch seconds; ``pkts_total``/``bytes_total`` are derived
    from the fwd/bwd pair when the frame has no total. Raises ``ValueError`` naming missing required columns.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"flow records lack required column(s) {missing}; have {df.columns}")
    schema = FLOW_SCHEMA if include_labels else FLOW_SCHEMA_NO_LABELS
    derived = _proto_columns(df)
    if isinstance(df.schema["start_ts"], pl.Datetime):
        derived["start_ts"] = pl.col("start_ts").dt.epoch("us") / 1e6
    for unit in ("pkts", "bytes"):
        if f"{unit}_total" not in df.columns and {f"{unit}_fwd", f"{unit}_bwd"} <= set(df.columns):
            derived[f"{unit}_total"] = pl.col(f"{unit}_fwd") + pl.col(f"{unit}_bwd")
    df = df.with_columns(**derived)
    cols = [
        (pl.col(name) if name in df.columns else pl.lit(None)).cast(dtype).alias(name) for name, dtype in schema.items()
    ]
    extra = [c for c in df.columns if c not in FLOW_SCHEMA]
    return df.select(*cols, *extra)


def _proto_columns(df: pl.DataFrame) -> dict[str, pl.Expr]:
    """``proto`` (name) and ``proto_num`` from whichever of the two the producer gave."""
    if df.schema["proto"].is_integer():
        return {"proto": proto_name_expr(pl.col("proto")), "proto_num": pl.col("proto")}
    name = pl.col("proto").cast(pl.String).str.to_lowercase()
    if "proto_num" in df.columns:
        return {"proto": name}
    return {"proto": name, "proto_num": proto_num_expr(name)}
