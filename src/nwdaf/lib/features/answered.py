"""Conversations answered before: a flow record without a packet back is unanswered only if its 5-tuple never got one.

A UPF reports a flow in every period it carries packets, and it cannot say which side opened it (TS 29.564 reports
a flow as ``permit out ... from REMOTE to UE``). A UE that *serves* (a SIP phone, a host scanned from outside that
answers) holds many connections from one remote's ephemeral ports; a long-lived one sends a stray keep-alive or
reset in a later window with nothing coming back in that window. Counted as unanswered, those records read as the UE
probing many ports of one destination — a vertical scan (a verified-normal host of a Stratosphere normal day was
released for exactly that in ``nwdaf replay``). A probe of a scan, however, never gets an answer at all.

:class:`AnsweredFlows` remembers the 5-tuples that got a packet back within ``lookback_s`` (at most ``max_keys``,
oldest dropped first) and marks a window's records of those conversations ``answered_before``; the feature
functions' *unanswered* (:func:`nwdaf.lib.features.peers.unanswered_expr`,
:func:`nwdaf.lib.features.host.unanswered_out_share`) honour the mark. The processor feeds it window after window;
records without the column (offline flow files, whose records are whole conversations) are unaffected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import polars as pl

from nwdaf.lib.features._common import ANSWERED_BEFORE

_KEYS: Final = ["src_ip", "src_port", "dst_ip", "dst_port", "proto"]
_SCHEMA: Final = pl.Schema({"_key": pl.UInt64, "last": pl.Float64})


@dataclass
class AnsweredFlows:
    """5-tuples answered within the last ``lookback_s`` seconds (see the module docstring)."""

    lookback_s: float = 900.0
    max_keys: int = 200_000
    _answered: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=_SCHEMA))

    def __len__(self) -> int:
        return self._answered.height

    def mark(self, flows: pl.DataFrame, now: float, *, remember: bool = True) -> pl.DataFrame:
        """``flows`` with ``answered_before`` (True where the 5-tuple got a packet back in an earlier call within
        the lookback); then (``remember``) remembers this call's answered 5-tuples at ``now`` (data time)."""
        if flows.is_empty() or not set(_KEYS) <= set(flows.columns) or "pkts_bwd" not in flows.columns:
            return flows
        self._answered = self._answered.filter(pl.col("last") >= now - self.lookback_s)
        keyed = flows.with_columns(pl.struct(_KEYS).hash().alias("_key"))
        marked = keyed.with_columns(pl.col("_key").is_in(self._answered["_key"].implode()).alias(ANSWERED_BEFORE))
        if not remember:
            return marked.drop("_key")
        answered = keyed.filter(pl.col("pkts_bwd").fill_null(0) > 0).select(
            pl.col("_key").unique(), pl.lit(now, pl.Float64).alias("last"))
        kept = self._answered.join(answered, on="_key", how="anti")
        self._answered = pl.concat([kept, answered], how="vertical").tail(self.max_keys)
        return marked.drop("_key")


def with_answered(flows: pl.DataFrame) -> pl.DataFrame:
    """``flows`` with an ``answered_before`` column (False where the producer did not mark any)."""
    if ANSWERED_BEFORE in flows.columns:
        return flows.with_columns(pl.col(ANSWERED_BEFORE).fill_null(False))
    return flows.with_columns(pl.lit(False).alias(ANSWERED_BEFORE))
