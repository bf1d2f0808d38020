"""Beaconing across windows: a host's repeated new contacts with one peer service, at regular intervals.

Periodic command-and-control (one small connection a minute, or fewer) is invisible inside one window of 60 s.
:class:`ContactHistory` keeps, per host, the *contacts* of the last ``lookback_s`` seconds — a contact is a new
TCP/UDP 5-tuple, or one that comes back after ``idle_s`` without traffic (as Zeek and Argus split a conversation
after an idle timeout), so a persistent connection's keep-alives (MQTT, push channels) are one contact, not a
beacon. Contacts of one service at one instant are one *wake-up* (one row: median bytes, share unanswered): records
quantised to a report period or window share their time. :func:`beacon_features` then describes, per host, its
most regular peer service over the lookback.

The same two steps run offline (``nwdaf detect`` / ``nwdaf eval`` feed the history window after window, in time
order) and live (the processor feeds it the newest report period of each window): one code path. A contact's time is
its record's ``start_ts`` (live: the start of the report period the 5-tuple appeared in, so gaps are measured to a
period's precision).

**Bounded memory**: wake-ups older than ``lookback_s`` are dropped; at most ``max_per_service`` (the newest) are
kept per (host, peer, port, protocol) and ``max_contacts`` in all (oldest dropped first); the 5-tuples remembered for
the idle test are those seen within ``lookback_s``, at most ``max_keys`` (oldest dropped first). Defaults: 15 min,
64, 200 000, 200 000 (a few tens of MB at worst).

Columns of :func:`beacon_features` (Float64, one row per host with at least ``min_contacts`` wake-ups of one
service; ``beacon_port``/``beacon_proto`` as in the flow schema):

``beacon_contacts``
    wake-ups (contact times) with the host's most regular service over the lookback.
``beacon_gap_s``, ``beacon_gap_cv``
    the median gap between them and its robust CV (1.4826 MAD / median).
``beacon_size_cv``
    the robust CV of the wake-ups' byte counts.
``beacon_span_s``
    first to last contact (how long the pattern has persisted).
``beacon_unanswered``
    share of the contacts that got no answer (mean over the wake-ups).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import polars as pl

from nwdaf.lib.features._common import (
    HOST,
    INFRASTRUCTURE_PORTS,
    WINDOW,
    check_window,
    robust_cv,
    window_expr,
    with_traffic,
)
from nwdaf.lib.features.answered import with_answered
from nwdaf.lib.features.peers import unanswered_expr

BEACON_COLUMNS: Final = ("beacon_contacts", "beacon_gap_s", "beacon_gap_cv", "beacon_size_cv", "beacon_span_s",
                         "beacon_unanswered")
_KEYS: Final = ["src_ip", "src_port", "dst_ip", "dst_port", "proto"]
_SERVICE: Final = [HOST, "dst_ip", "dst_port", "proto"]
_CONTACT_SCHEMA: Final = pl.Schema({HOST: pl.String, "dst_ip": pl.String, "dst_port": pl.Int32, "proto": pl.String,
                                    "t": pl.Float64, "bytes": pl.Float64, "unanswered": pl.Float64})
_LAST_SCHEMA: Final = pl.Schema({"key": pl.UInt64, "last_end": pl.Float64})


@dataclass
class ContactHistory:
    """Per-host contacts of the last ``lookback_s`` seconds (see the module docstring for what is kept)."""

    lookback_s: float = 900.0
    idle_s: float = 60.0
    max_per_service: int = 64
    max_contacts: int = 200_000
    max_keys: int = 200_000
    _contacts: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=_CONTACT_SCHEMA))
    _last: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=_LAST_SCHEMA))

    def __post_init__(self) -> None:
        if not 0 < self.idle_s < self.lookback_s:
            raise ValueError(f"need 0 < idle_s < lookback_s, got idle_s={self.idle_s}, lookback_s={self.lookback_s}")

    @property
    def contacts(self) -> pl.DataFrame:
        return self._contacts

    def add(self, flows: pl.DataFrame) -> None:
        """Record the contacts among ``flows`` (flow-schema records, in time order across calls)."""
        flows = with_answered(with_traffic(flows))
        view = flows.filter(pl.col("src_ip").is_not_null() & (pl.col("src_ip") != pl.col("dst_ip"))
                            & pl.col("proto").is_in(["tcp", "udp"])
                            & ~pl.col("dst_port").is_in(list(INFRASTRUCTURE_PORTS))).select(
            pl.col("src_ip").alias(HOST), "dst_ip", "dst_port", "proto",
            pl.struct(_KEYS).hash().alias("key"),  # the 5-tuple as one 64-bit key (joins on it are cheap)
            pl.col("start_ts").alias("t"), (pl.col("start_ts") + pl.col("duration_s").fill_null(0.0)).alias("end"),
            pl.col("bytes_total").cast(pl.Float64).alias("bytes"), unanswered_expr().alias("unanswered"))
        if view.is_empty():
            return
        view = view.join(self._last, on="key", how="left").sort(["key", "t"])
        previous = pl.when(pl.col("key") == pl.col("key").shift(1)).then(pl.col("end").shift(1))  # same 5-tuple
        before = pl.max_horizontal(previous, pl.col("last_end"))
        fresh = view.filter(before.is_null() | (pl.col("t") - before > self.idle_s))
        # One row per wake-up: contacts of one service at one instant (records quantised to a period or window).
        new = fresh.group_by([*_SERVICE, "t"]).agg(pl.col("bytes").median(),
                                                   pl.col("unanswered").cast(pl.Float64).mean())
        self._contacts = pl.concat([self._contacts, new.cast(_CONTACT_SCHEMA)], how="vertical")
        seen = view.group_by("key").agg(pl.col("end").max().alias("seen_end"))
        updated = seen.join(self._last, on="key", how="left").select(
            "key", pl.max_horizontal("seen_end", "last_end").alias("last_end"))
        self._last = pl.concat([self._last.join(seen, on="key", how="anti"), updated], how="vertical")
        self._prune(float(view["end"].max()))  # type: ignore[arg-type]

    def _prune(self, now: float) -> None:
        oldest = now - self.lookback_s
        kept = self._contacts.filter(pl.col("t") >= oldest)
        counts = kept.group_by(_SERVICE).len().filter(pl.col("len") > self.max_per_service)
        if not counts.is_empty():  # trim only the services over their cap
            newest_first = pl.col("t").rank("ordinal", descending=True).over(_SERVICE)
            kept = kept.filter(newest_first <= self.max_per_service)
        self._contacts = kept.sort("t").tail(self.max_contacts)
        self._last = self._last.filter(pl.col("last_end") >= oldest).sort("last_end").tail(self.max_keys)

    def features(self, now: float) -> pl.DataFrame:
        """:func:`beacon_features` over the contacts up to ``now``."""
        return beacon_features(self._contacts.filter(pl.col("t") <= now), now - self.lookback_s)


def beacon_features(contacts: pl.DataFrame, since: float, min_contacts: int = 4) -> pl.DataFrame:
    """Per host, its most regular peer service (lowest gap CV, then most contacts) among those with at least
    ``min_contacts`` contacts since ``since``: :data:`BEACON_COLUMNS`, ``beacon_port`` and ``beacon_proto``."""
    recent = contacts.filter(pl.col("t") >= since)
    # Count first, statistics only for services with enough wake-ups (most have one: a per-group sort over every
    # service of a busy network would cost seconds).
    enough = recent.group_by(_SERVICE).len().filter(pl.col("len") >= min_contacts).drop("len")
    recent = recent.join(enough, on=_SERVICE, how="semi", nulls_equal=True)
    gaps = pl.col("t").sort().diff().drop_nulls()
    per_service = recent.group_by(_SERVICE).agg(
        pl.len().alias("beacon_contacts"),
        gaps.median().alias("beacon_gap_s"),
        robust_cv(gaps).alias("beacon_gap_cv"),
        robust_cv(pl.col("bytes")).alias("beacon_size_cv"),
        (pl.col("t").max() - pl.col("t").min()).alias("beacon_span_s"),
        pl.col("unanswered").mean().alias("beacon_unanswered"),
    ).filter((pl.col("beacon_contacts") >= min_contacts) & (pl.col("beacon_gap_s") > 0))
    best = per_service.sort(["beacon_gap_cv", "beacon_contacts", "dst_ip"], descending=[False, True, False],
                            nulls_last=True).group_by(HOST, maintain_order=True).first()
    return best.select(HOST, *(pl.col(c).cast(pl.Float64) for c in BEACON_COLUMNS),
                       pl.col("dst_port").alias("beacon_port"), pl.col("proto").alias("beacon_proto")).sort(HOST)


def beacon_window_features(flows: pl.DataFrame, window_s: float, history: ContactHistory | None = None
                           ) -> pl.DataFrame:
    """Offline: feed ``history`` (a new one by default) window after window in time order, as the processor does
    live, and return :func:`beacon_features` at each window's end keyed by (``window_start``, ``host``)."""
    check_window(window_s)
    history = history if history is not None else ContactHistory()
    windowed = flows.with_columns(window_expr(window_s)).sort(WINDOW)
    parts: list[pl.DataFrame] = []
    for (start,), part in windowed.group_by(WINDOW, maintain_order=True):
        history.add(part)
        feats = history.features(float(start) + window_s)
        if not feats.is_empty():
            parts.append(feats.with_columns(pl.lit(float(start)).alias(WINDOW)))
    if not parts:
        return pl.DataFrame(schema={WINDOW: pl.Float64, HOST: pl.String})
    return pl.concat(parts, how="vertical").select(WINDOW, pl.all().exclude(WINDOW))
