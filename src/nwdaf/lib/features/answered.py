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

It also tells what the UE only *received*: a record on which the UE sent nothing, of a 5-tuple it sent nothing on in
this call nor within the lookback, is ``unsolicited`` — an Internet scanner's probe of the UE, a peer UE's
connection attempt (a UPF counts a packet between two UEs as the receiver's downlink too). The UE did not contact
that peer: the processor leaves such records out of the UE's behaviour features (they still count in the slice
volumes and the stored flow records), and they are never remembered as answered conversations. Without that, a host
scanned by 25 Internet scanners in ten seconds reads as scanning 25 destinations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import polars as pl

from nwdaf.lib.features._common import ANSWERED_BEFORE, UNSOLICITED

_KEYS: Final = ["src_ip", "src_port", "dst_ip", "dst_port", "proto"]
_SCHEMA: Final = pl.Schema({"_key": pl.UInt64, "last": pl.Float64})


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=_SCHEMA)


@dataclass
class AnsweredFlows:
    """5-tuples answered, and 5-tuples the UE sent on, within the last ``lookback_s`` seconds (see the module
    docstring); each memory holds at most ``max_keys``, oldest dropped first."""

    lookback_s: float = 900.0
    max_keys: int = 200_000
    _answered: pl.DataFrame = field(default_factory=_empty)
    _sent: pl.DataFrame = field(default_factory=_empty)

    def __len__(self) -> int:
        return self._answered.height

    def mark(self, flows: pl.DataFrame, now: float, *, remember: bool = True) -> pl.DataFrame:
        """``flows`` with ``answered_before`` (True where the 5-tuple got a packet back in an earlier call within
        the lookback) and, where the records count packets each way, ``unsolicited``; then (``remember``)
        remembers this call's answered 5-tuples and those the UE sent on, at ``now`` (data time)."""
        if flows.is_empty() or not set(_KEYS) <= set(flows.columns) or "pkts_bwd" not in flows.columns:
            return flows
        self._answered = self._answered.filter(pl.col("last") >= now - self.lookback_s)
        self._sent = self._sent.filter(pl.col("last") >= now - self.lookback_s)
        keyed = flows.with_columns(pl.struct(_KEYS).hash().alias("_key"))
        marked = keyed.with_columns(pl.col("_key").is_in(self._answered["_key"].implode()).alias(ANSWERED_BEFORE))
        two_way = "pkts_fwd" in flows.columns
        if two_way:
            sent_now = (pl.col("pkts_fwd").fill_null(0) > 0).any().over("_key")
            sent_before = pl.col("_key").is_in(self._sent["_key"].implode())
            marked = marked.with_columns((~sent_now & ~sent_before).alias(UNSOLICITED))
        if remember:
            answered = pl.col("pkts_bwd").fill_null(0) > 0
            self._answered = self._remember(self._answered, marked.filter(
                answered & ~pl.col(UNSOLICITED) if two_way else answered), now)
            if two_way:
                self._sent = self._remember(self._sent, marked.filter(pl.col("pkts_fwd").fill_null(0) > 0), now)
        return marked.drop("_key")

    def _remember(self, memory: pl.DataFrame, rows: pl.DataFrame, now: float) -> pl.DataFrame:
        fresh = rows.select(pl.col("_key").unique(), pl.lit(now, pl.Float64).alias("last"))
        kept = memory.join(fresh, on="_key", how="anti")
        return pl.concat([kept, fresh], how="vertical").tail(self.max_keys)


def with_answered(flows: pl.DataFrame) -> pl.DataFrame:
    """``flows`` with an ``answered_before`` column (False where the producer did not mark any)."""
    if ANSWERED_BEFORE in flows.columns:
        return flows.with_columns(pl.col(ANSWERED_BEFORE).fill_null(False))
    return flows.with_columns(pl.lit(False).alias(ANSWERED_BEFORE))


def solicited(flows: pl.DataFrame) -> pl.DataFrame:
    """``flows`` without the records marked ``unsolicited`` (what the UE only received; unchanged where unmarked)."""
    if UNSOLICITED not in flows.columns:
        return flows
    return flows.filter(~pl.col(UNSOLICITED).fill_null(False))
