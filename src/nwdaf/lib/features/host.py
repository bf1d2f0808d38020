"""Per-host, per-window traffic features over flow records (:mod:`nwdaf.lib.flows.schema`).

Flows are assigned to the tumbling window of their ``start_ts`` (a flow is not split over windows). With the
default ``host_col="src_ip"`` every IP address is a host: a flow counts as *outgoing* for its source (initiator)
and as *incoming* for its destination, and the byte/packet directions are mirrored accordingly. With another
``host_col`` (e.g. ``supi`` in UPF per-UE records) a flow belongs to that host only, ``fwd`` is its outgoing
(uplink) direction and ``flows_in`` is 0. Flows whose host value is null are left out.

Features (all Float64, null = not measurable from this source):

``flows_out``/``flows_in``
    flows the host initiated / answered.
``bytes_out``, ``bytes_in``, ``pkts_out``, ``pkts_in``
    sums of the directional counters; null when a contributing flow lacks the split (Argus packets).
``mean_pkt_size``
    total bytes / total packets over all the host's flows.
``max_pkt_size``
    largest per-flow mean packet size (flow records carry no per-packet sizes).
``distinct_dst``, ``distinct_dst_ports``
    distinct peers / destination ports of the flows the host initiated.
``tcp_failed_frac``
    of the initiated TCP flows whose ``state`` tells, the fraction never established (Zeek S0/REJ/..., Argus
    states without a SYN-ACK reply); null when no state is known.
``tcp_short_frac``
    of the initiated TCP flows, the fraction with at most 3 packets in total (handshake only or less).
``icmp_share``
    fraction of the host's flows that are ICMP/ICMPv6.
``flow_rate``
    flows initiated per second of window.
``mean_duration_s``
    mean flow duration over the host's flows (flows without a duration ignored).
"""

from __future__ import annotations

from typing import Final

import polars as pl

from nwdaf.lib.features._common import (
    ANSWERED_BEFORE,
    HOST,
    WINDOW,
    as_features,
    check_window,
    require,
    sum_or_null,
    tcp_failed_expr,
    window_expr,
    with_traffic,
)
from nwdaf.lib.features.answered import with_answered

FEATURE_COLUMNS: Final = (
    "flows_out",
    "flows_in",
    "bytes_out",
    "bytes_in",
    "pkts_out",
    "pkts_in",
    "mean_pkt_size",
    "max_pkt_size",
    "distinct_dst",
    "distinct_dst_ports",
    "tcp_failed_frac",
    "tcp_short_frac",
    "icmp_share",
    "flow_rate",
    "mean_duration_s",
)
KEY_COLUMNS: Final = (WINDOW, HOST)
_NEEDED: Final = ("start_ts", "duration_s", "proto", "dst_ip", "dst_port", "state")
_COUNTERS: Final = ("pkts_fwd", "pkts_bwd", "pkts_total", "bytes_fwd", "bytes_bwd", "bytes_total")
_SHORT_TCP_PKTS: Final = 3


def host_window_features(flows: pl.DataFrame, window_s: float, host_col: str = "src_ip") -> pl.DataFrame:
    """One row per (``window_start``, ``host``) with :data:`FEATURE_COLUMNS`, sorted by window then host."""
    check_window(window_s)
    require(flows, (*_NEEDED, *_COUNTERS, host_col), "host_window_features")
    flows = with_answered(with_traffic(flows))
    flow_view = flows.select(
        window_expr(window_s),
        pl.col("duration_s"),
        pl.col("proto"),
        pl.col("pkts_total"),
        pl.col("bytes_total"),
        tcp_failed_expr().alias("failed"),
        pl.col(ANSWERED_BEFORE),
    )
    roles = [_role(flows, flow_view, host_col, initiator=True)]
    if host_col == "src_ip":
        roles.append(_role(flows, flow_view, "dst_ip", initiator=False))
    per_host = pl.concat(roles, how="vertical").group_by(WINDOW, HOST).agg(_aggregations(window_s))
    return per_host.select(pl.col(WINDOW), pl.col(HOST), *as_features(FEATURE_COLUMNS)).sort(WINDOW, HOST)


def _role(flows: pl.DataFrame, view: pl.DataFrame, host_col: str, *, initiator: bool) -> pl.DataFrame:
    """The flows seen from one end: host, out/in counters, and the peer when the host initiated."""
    out_dir, in_dir = ("fwd", "bwd") if initiator else ("bwd", "fwd")
    return view.with_columns(
        flows.get_column(host_col).cast(pl.String).alias(HOST),
        pl.lit(initiator).alias("initiated"),
        flows.get_column(f"bytes_{out_dir}").alias("b_out"),
        flows.get_column(f"bytes_{in_dir}").alias("b_in"),
        flows.get_column(f"pkts_{out_dir}").alias("p_out"),
        flows.get_column(f"pkts_{in_dir}").alias("p_in"),
        (flows.get_column("dst_ip") if initiator else pl.lit(None, dtype=pl.String)).alias("peer"),
        (flows.get_column("dst_port") if initiator else pl.lit(None, dtype=pl.Int32)).alias("peer_port"),
    ).filter(pl.col(HOST).is_not_null())


def _aggregations(window_s: float) -> list[pl.Expr]:
    initiated = pl.col("initiated")
    tcp_out = initiated & (pl.col("proto") == "tcp")
    per_flow_size = pl.when(pl.col("pkts_total") > 0).then(pl.col("bytes_total") / pl.col("pkts_total"))
    total_pkts = pl.col("pkts_total").sum()
    return [
        initiated.sum().alias("flows_out"),
        (~initiated).sum().alias("flows_in"),
        sum_or_null(pl.col("b_out")).alias("bytes_out"),
        sum_or_null(pl.col("b_in")).alias("bytes_in"),
        sum_or_null(pl.col("p_out")).alias("pkts_out"),
        sum_or_null(pl.col("p_in")).alias("pkts_in"),
        pl.when(total_pkts > 0).then(pl.col("bytes_total").sum() / total_pkts).alias("mean_pkt_size"),
        per_flow_size.max().alias("max_pkt_size"),
        pl.col("peer").filter(initiated).drop_nulls().n_unique().alias("distinct_dst"),
        pl.col("peer_port").filter(initiated).drop_nulls().n_unique().alias("distinct_dst_ports"),
        pl.col("failed").filter(tcp_out).mean().alias("tcp_failed_frac"),
        # A few packets of a conversation answered in an earlier window are its continuation, not a short flow.
        ((pl.col("pkts_total") <= _SHORT_TCP_PKTS) & ~pl.col(ANSWERED_BEFORE)).filter(tcp_out).mean()
        .alias("tcp_short_frac"),
        pl.col("proto").is_in(["icmp", "ipv6-icmp"]).mean().alias("icmp_share"),
        (initiated.sum() / window_s).alias("flow_rate"),
        pl.col("duration_s").mean().alias("mean_duration_s"),
    ]


RECENT_COLUMNS: Final = ("pkts_out", "pkts_in", "bytes_out", "distinct_dst", "distinct_dst_ports", "tcp_short_frac",
                         "flow_rate", "unanswered_out_share")
"""The host features the rules also read over the newest report period alone (``recent_<name>``)."""


def unanswered_out_share(flows: pl.DataFrame, host_col: str = "src_ip") -> pl.DataFrame:
    """Per initiating host: the share of its outgoing packets sent on flows that got no packet back.

    A flood is this share near 1 whatever else the host does; the host's overall in/out packet ratio is not,
    when the flood starts in a period that also holds answered traffic.
    """
    require(flows, (host_col, "pkts_fwd", "pkts_bwd"), "unanswered_out_share")
    flows = with_answered(with_traffic(flows))
    out = pl.col("pkts_fwd").fill_null(0)
    unanswered = pl.when(~pl.col(ANSWERED_BEFORE) & (pl.col("pkts_bwd").fill_null(0) == 0)).then(out).otherwise(0)
    per_host = flows.filter(pl.col(host_col).is_not_null()).group_by(pl.col(host_col).cast(pl.String).alias(HOST))
    return per_host.agg((unanswered.sum() / out.sum()).cast(pl.Float64).alias("unanswered_out_share"))


def recent_host_features(flows: pl.DataFrame, period_s: float, host_col: str = "src_ip") -> pl.DataFrame:
    """Per host: ``recent_s`` and ``recent_<name>`` for :data:`RECENT_COLUMNS`, over flows of one period."""
    feats = host_window_features(flows, period_s, host_col)
    feats = feats.join(unanswered_out_share(flows, host_col), on=HOST, how="left")
    return feats.select(pl.col(HOST), pl.lit(period_s).alias("recent_s"),
                        *(pl.col(c).alias(f"recent_{c}") for c in RECENT_COLUMNS))
