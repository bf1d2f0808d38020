"""Per-host, per-window features of *whom* a host talks to, for the ABNORMAL_BEHAVIOUR rules (not model inputs).

The host features (:mod:`nwdaf.lib.features.host`) describe a host alone; an attack shared by many hosts — dozens
of UEs each sending a few packets per second to one target — does not stand out there. These features aggregate
per **destination** in the window and join the result back onto each source host, and they describe the
host's peers: scans, repeated access to one service, regular beaconing, SMTP fan-out. Offline detection
(``nwdaf detect`` / ``nwdaf eval``) and the live processor both call :func:`rule_window_features`.

Per destination (window): ``fan_in`` (distinct sources), packets received, the **answer ratio** (packets back /
packets in; flows without a split counter use their state), **size regularity** (coefficient of variation of the
per-flow mean packet size) and the share of never-established TCP flows. A destination is a *flood target* when
its fan-in is at least :data:`FLOOD_MIN_SOURCES` and far above the window's other destinations (median + 5 MAD),
and it is unanswered, or its TCP handshakes mostly fail, or its flows are near-identical in size. Columns
(Float64, one row per initiating host):

``flood_fan_in``
    fan-in of the flood target the host sends to (0: none).
``flood_contrib``
    the host's packets to flood targets over the mean per-source packets they receive (a bystander sending one
    packet is near 0, a participant about 1).
``unanswered_dsts``, ``icmp_dsts``, ``max_ports_per_dst``
    distinct destinations of the host's unanswered flows; of its ICMP flows; the most distinct TCP/UDP
    destination ports of unanswered/failed flows on one destination (horizontal scan, ICMP sweep, vertical scan).
``svc_flows``, ``svc_size_cv``, ``svc_gap_cv`` (and ``svc_port``, ``svc_proto``, not Float64)
    the most flows the host opened to one (destination, port, protocol); the robust CV of their sizes (bytes,
    1.4826 MAD / median); the CV of their start-time gaps (null when the records carry no distinct start
    times, as the UPF's windowed records); that service's share of unanswered flows; its port and protocol.
``smtp_peers``
    distinct destinations on SMTP ports (25, 465, 587).
``rated_bytes_out``, ``rated_pkts_out``
    what the host sent (as initiator and as responder) with each flow counted at its own average rate over one
    window: a record longer than the window (a 56-minute call's 457 MB) adds ``window_s / duration`` of its
    counters, not all of them to the minute it started in. The rate rules read these (the host features, model
    inputs, keep the whole record in its start window); null where a counter has no direction split.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from nwdaf.lib.features._common import (
    ANSWERED_BEFORE,
    HOST,
    INFRASTRUCTURE_PORTS,
    WINDOW,
    check_window,
    require,
    robust_cv,
    tcp_failed_expr,
    window_expr,
    with_traffic,
)
from nwdaf.lib.features.answered import with_answered

PEER_COLUMNS: Final = ("flood_fan_in", "flood_contrib", "unanswered_dsts", "icmp_dsts", "max_ports_per_dst",
                       "svc_flows", "svc_size_cv", "svc_gap_cv", "svc_unanswered", "smtp_peers", "rated_bytes_out",
                       "rated_pkts_out")
FLOOD_MIN_SOURCES: Final = 8
"""Fewest distinct sources for a distributed flood (a single-source flood is the per-host flood rule's)."""
FLOOD_MAD_K: Final = 5.0
MIN_POPULATION: Final = 20
"""Fewest destinations in a window for a median and MAD of their fan-in to mean anything."""
SMTP_PORTS: Final = (25, 465, 587)
_MIN_SERVICE_FLOWS: Final = 3
"""Below this many flows to one service its size/gap statistics mean nothing (and are not computed)."""
# Argus states of a flow that saw no reply (INT: one-way UDP, ECO: echo without reply, REQ: request only,
# UR*: unreachable) and of one that did (CON: two-way, ECR: echo replied).
ARGUS_NO_REPLY: Final = ("INT", "REQ", "ECO", "URP", "URH", "URN", "URHPRO", "UNK")
ARGUS_REPLY: Final = ("CON", "ECR", "RSP")
_NEEDED: Final = ("start_ts", "proto", "src_ip", "dst_ip", "dst_port", "pkts_total", "bytes_total", "pkts_fwd",
                  "pkts_bwd", "state", "duration_s", "bytes_fwd", "bytes_bwd")


def unanswered_expr() -> pl.Expr:
    """True for a flow that got nothing back: no backward packet where counted, else a failed TCP handshake or an
    Argus no-reply state; null when the record does not tell. A conversation answered in an earlier window
    (``answered_before``, :func:`~nwdaf.lib.features.answered.with_answered` adds it) is not unanswered."""
    bwd, state = pl.col("pkts_bwd"), pl.col("state")
    return (
        pl.when(pl.col(ANSWERED_BEFORE)).then(False)
        .when(bwd.is_not_null()).then(bwd == 0)
        .when(pl.col("proto") == "tcp").then(tcp_failed_expr())
        .when(state.is_in(ARGUS_NO_REPLY)).then(True)
        .when(state.is_in(ARGUS_REPLY)).then(False)
    )


def _robust_floor(col: str, floor: float, k: float) -> pl.Expr:
    """``max(floor, median + k * 1.4826 * MAD)`` of ``col`` over the window (a robust outlier bound); the floor
    alone in a window of fewer than :data:`MIN_POPULATION` rows."""
    med = pl.col(col).median().over(WINDOW)
    mad = (pl.col(col) - med).abs().median().over(WINDOW) * 1.4826
    bound = pl.max_horizontal(pl.lit(floor), med + k * mad)
    return pl.when(pl.len().over(WINDOW) >= MIN_POPULATION).then(bound).otherwise(pl.lit(floor))


def _flood_targets(view: pl.DataFrame) -> pl.DataFrame:
    per_dst = view.group_by(WINDOW, "dst_ip").agg(
        pl.col("src_ip").n_unique().alias("fan_in"),
        pl.col("pkts_total").sum().alias("dst_pkts"),
        pl.col("unanswered").mean().alias("unanswered_share"),
        pl.col("failed").mean().alias("failed_share"),
        (pl.col("size").std() / pl.col("size").mean()).alias("size_cv"),
        pl.len().alias("dst_flows"),
        pl.col("dst_port").is_in(list(INFRASTRUCTURE_PORTS)).mean().alias("infra_share"),
    )
    # Regular sizes are a flood's mark, except at infrastructure services (DNS, NTP...): every host of a network
    # asks the same resolver with queries of one size (20 benign UEs and their DNS server read as a DDoS).
    regular = ((pl.col("size_cv").fill_null(1.0) <= 0.05) & (pl.col("dst_flows") >= 3 * pl.col("fan_in"))
               & (pl.col("infra_share").fill_null(0.0) < 0.5))
    unanswered = pl.col("unanswered_share").fill_null(0) >= 0.8
    attack_like = unanswered | (pl.col("failed_share").fill_null(0) >= 0.8) | regular
    return per_dst.filter(
        (pl.col("fan_in") >= _robust_floor("fan_in", FLOOD_MIN_SOURCES, FLOOD_MAD_K)) & attack_like
    ).select(WINDOW, "dst_ip", "fan_in", (pl.col("dst_pkts") / pl.col("fan_in")).alias("mean_src_pkts"))


def _flood_participants(view: pl.DataFrame) -> pl.DataFrame:
    targets = _flood_targets(view)
    sent = view.join(targets, on=[WINDOW, "dst_ip"], how="inner")
    return sent.group_by(WINDOW, pl.col("src_ip").alias(HOST)).agg(
        pl.col("fan_in").max().alias("flood_fan_in"),
        (pl.col("pkts_total").sum() / pl.col("mean_src_pkts").max()).alias("flood_contrib"),
    )


def _services(view: pl.DataFrame) -> pl.DataFrame:
    """Per host, its busiest (destination, port, protocol) and that service's statistics. The group counts come
    first and the statistics only for each host's busiest service (a per-group sort over every flow would cost
    five times the host features)."""
    # An ICMP "service" is the destination: Argus writes each flow's ICMP type/code in its ports.
    keyed = view.with_columns(pl.when(pl.col("proto").is_in(["tcp", "udp"])).then(pl.col("dst_port"))
                              .alias("svc_port"))
    keys = [WINDOW, "src_ip", "dst_ip", "svc_port", "proto"]
    counts = keyed.group_by(keys).agg(pl.len().alias("svc_flows"))
    ranked = counts.sort(["svc_flows", "dst_ip", "svc_port", "proto"], descending=[True, False, False, False],
                         nulls_last=True)
    best = ranked.group_by(WINDOW, "src_ip", maintain_order=True).first()
    busy = keyed.join(best.filter(pl.col("svc_flows") >= _MIN_SERVICE_FLOWS), on=keys, how="semi", nulls_equal=True)
    gaps = pl.col("start_ts").sort().diff().drop_nulls()
    stats = busy.group_by(WINDOW, "src_ip").agg(
        pl.col("unanswered").mean().alias("svc_unanswered"),
        robust_cv(pl.col("bytes_total")).alias("svc_size_cv"),
        pl.when(gaps.max() > 0).then(gaps.std() / gaps.mean()).alias("svc_gap_cv"),
    )
    out = best.join(stats, on=[WINDOW, "src_ip"], how="left")
    return out.select(WINDOW, pl.col("src_ip").alias(HOST), "svc_flows", "svc_size_cv", "svc_gap_cv",
                      "svc_unanswered", pl.col("svc_port"), pl.col("proto").alias("svc_proto"))


def _fan_out(view: pl.DataFrame) -> pl.DataFrame:
    unanswered = pl.col("unanswered").fill_null(False) | pl.col("failed").fill_null(False)
    # Only TCP/UDP ports: Argus writes an ICMP flow's type/code in its ports.
    ported = unanswered & pl.col("proto").is_in(["tcp", "udp"])
    ports = view.filter(ported).group_by(WINDOW, "src_ip", "dst_ip").agg(pl.col("dst_port").n_unique().alias("p"))
    ports = ports.group_by(WINDOW, "src_ip").agg(pl.col("p").max().alias("max_ports_per_dst"))
    per_host = view.group_by(WINDOW, "src_ip").agg(
        pl.col("dst_ip").filter(pl.col("unanswered").fill_null(False)).n_unique().alias("unanswered_dsts"),
        pl.col("dst_ip").filter(pl.col("proto").is_in(["icmp", "ipv6-icmp"])).n_unique().alias("icmp_dsts"),
        pl.col("dst_ip").filter(pl.col("dst_port").is_in(SMTP_PORTS) & (pl.col("proto") == "tcp"))
        .n_unique().alias("smtp_peers"),
    )
    joined = per_host.join(ports, on=[WINDOW, "src_ip"], how="left")
    return joined.rename({"src_ip": HOST})


def _rated(flows: pl.DataFrame, window_s: float) -> pl.DataFrame:
    """``rated_bytes_out``/``rated_pkts_out`` per (window, host), both roles of every flow."""
    share = pl.when(pl.col("duration_s") > window_s).then(window_s / pl.col("duration_s")).otherwise(1.0)
    roles = [flows.select(window_expr(window_s), pl.col(host).alias(HOST), (pl.col(f"bytes_{d}") * share).alias("b"),
                          (pl.col(f"pkts_{d}") * share).alias("p"))
             for host, d in (("src_ip", "fwd"), ("dst_ip", "bwd"))]
    both = pl.concat(roles, how="vertical").filter(pl.col(HOST).is_not_null())
    return both.group_by(WINDOW, HOST).agg(
        pl.when(pl.col("b").null_count() == 0).then(pl.col("b").sum()).alias("rated_bytes_out"),
        pl.when(pl.col("p").null_count() == 0).then(pl.col("p").sum()).alias("rated_pkts_out"))


def rule_window_features(flows: pl.DataFrame, window_s: float) -> pl.DataFrame:
    """One row per (``window_start``, initiating ``host``) with :data:`PEER_COLUMNS` (nulls where not measurable,
    0 where measured and absent)."""
    check_window(window_s)
    require(flows, _NEEDED, "rule_window_features")
    flows = with_answered(with_traffic(flows))
    view = flows.filter(pl.col("src_ip").is_not_null() & (pl.col("src_ip") != pl.col("dst_ip"))).select(
        window_expr(window_s), "start_ts", "proto", "src_ip", "dst_ip", "dst_port", "pkts_total", "bytes_total",
        unanswered_expr().alias("unanswered"), tcp_failed_expr().alias("failed"),
        pl.when(pl.col("pkts_total") > 0).then(pl.col("bytes_total") / pl.col("pkts_total")).alias("size"),
    )
    on = [WINDOW, HOST]
    out = _fan_out(view).join(_services(view), on=on, how="left").join(_flood_participants(view), on=on, how="left")
    out = out.join(_rated(flows, window_s), on=on, how="left")
    out = out.with_columns(pl.col("flood_fan_in", "flood_contrib").fill_null(0.0))
    return out.select(pl.col(WINDOW), pl.col(HOST), *(pl.col(c).cast(pl.Float64) for c in PEER_COLUMNS),
                      pl.col("svc_port"), pl.col("svc_proto")).sort(on)
