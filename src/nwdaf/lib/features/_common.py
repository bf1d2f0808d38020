"""Helpers shared by the feature functions: window assignment, input checks, null-aware sums."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Final

import polars as pl

WINDOW: Final = "window_start"
HOST: Final = "host"
INFRASTRUCTURE_PORTS: Final = frozenset({53, 67, 68, 123, 137, 138, 853, 1900, 5353, 5355})
"""DNS, DHCP, NTP, NetBIOS, DoT, SSDP, mDNS, LLMNR: repeated, identical and periodic by design, never beaconing
or brute force, and every host of a network asks the same few servers."""
ANSWERED_BEFORE: Final = "answered_before"
"""A flow record's conversation got a packet back in an earlier window (:mod:`nwdaf.lib.features.answered`)."""
UNSOLICITED: Final = "unsolicited"
"""A UE-oriented flow record of a conversation the UE only received, never sent on
(:mod:`nwdaf.lib.features.answered`)."""

# Zeek conn_state codes (Zeek base/protocols/conn/main.zeek): a SYN without a SYN-ACK, a reject, or a
# half-open responder, i.e. the connection was never established.
ZEEK_FAILED: Final = ("S0", "REJ", "RSTOS0", "RSTRH", "SH", "SHR")
ZEEK_ESTABLISHED: Final = ("S1", "S2", "S3", "SF", "RSTO", "RSTR")


def check_window(window_s: float) -> None:
    """Reject windows that are not a positive finite number of seconds."""
    if not (isinstance(window_s, int | float) and math.isfinite(window_s) and window_s > 0):
        raise ValueError(f"window_s must be a positive number of seconds, got {window_s!r}")


def require(flows: pl.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise a ``ValueError`` naming the columns ``what`` needs and ``flows`` lacks."""
    missing = [c for c in columns if c not in flows.columns]
    if missing:
        raise ValueError(f"{what} needs column(s) {missing}; the flow frame has {flows.columns}")


def with_traffic(flows: pl.DataFrame) -> pl.DataFrame:
    """The flow records that carried packets in their window (or whose source keeps no packet count).

    The UPF reports a flow once more in the period it ends (idle-expired, closed, evicted) with that period's
    counters, which are zero when it ended idle: an end-of-flow record, not traffic. Counted as a flow it would make
    every quiet long-lived connection a one-packet "short" flow to a distinct destination in the window its idle
    timer ran out, and an ordinary host with a dozen idle TLS sessions a scanner.
    """
    if "pkts_total" not in flows.columns:
        return flows
    return flows.filter(pl.col("pkts_total").is_null() | (pl.col("pkts_total") > 0))


def robust_cv(x: pl.Expr) -> pl.Expr:
    """1.4826 x MAD / median: the spread of ``x`` relative to its typical value, blind to a few odd values (null
    where the median is not positive)."""
    med = x.median()
    return pl.when(med > 0).then(1.4826 * (x - med).abs().median() / med)


def window_expr(window_s: float) -> pl.Expr:
    """Start (epoch s) of the tumbling, epoch-aligned window holding a flow's ``start_ts``."""
    return ((pl.col("start_ts") / window_s).floor() * window_s).alias(WINDOW)


def sum_or_null(expr: pl.Expr) -> pl.Expr:
    """Group sum that is null when any input is null (a source without that counter), not a silent 0."""
    return pl.when(expr.is_null().any()).then(None).otherwise(expr.sum())


def tcp_failed_expr() -> pl.Expr:
    """True when a TCP flow was never established, False when it was, null when the state says nothing.

    Understands Zeek ``conn_state`` codes and Argus TCP states ``<src flags>_<dst flags>`` (no reply at all,
    or a reset from the destination without a SYN-ACK, counts as failed). Non-TCP flows are null.
    """
    state = pl.col("state")
    reply = state.str.split_exact("_", 1).struct.field("field_1")
    verdict = (
        pl.when(state.is_in(ZEEK_FAILED))
        .then(True)
        .when(state.is_in(ZEEK_ESTABLISHED))
        .then(False)
        .when(state.str.contains("_", literal=True))
        .then((reply == "") | (reply.str.contains("R", literal=True) & ~reply.str.contains("S", literal=True)))
    )
    return pl.when(pl.col("proto") == "tcp").then(verdict)


def as_features(columns: Iterable[str]) -> list[pl.Expr]:
    """Cast feature columns to Float64, the one dtype every model input gets."""
    return [pl.col(c).cast(pl.Float64) for c in columns]
