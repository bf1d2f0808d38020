"""ABNORMAL_BEHAVIOUR (TS 23.288 clause 6.7.5): a provisioned model plus statistical rules, per UE per window.

ExceptionIds produced, where the per-UE window features support them:

* ``SUSPICION_OF_DDOS_ATTACK`` — the bot model (MLModelProvision) says bot, or the UE floods (packet rate far
  above normal with almost nothing coming back, or mostly on flows that get no answer).
* ``WRONG_DESTINATION_ADDRESS`` — scanning: many distinct destinations/ports, mostly handshake-only flows.
* ``UNEXPECTED_LARGE_RATE_FLOW`` — uplink bit rate above the configured ceiling.
* ``TOO_FREQUENT_SERVICE_ACCESS`` — very many new flows per second to few destinations.

The per-host thresholds (packet rate, bit rate, flow rate, distinct ports/destinations) are relative to the
window's population where there is one: ``max(constant, median + k * MAD-sigma)`` over the window's UEs
(:func:`host_bounds`; the constants alone below ``population_min_ues`` UEs).

Every rule is applied to the window and, when the processor sends ``recent_*`` features, to the newest report
period alone, so an attack that starts inside the window is caught in the first report that carries it.

``confidence`` (0..100): for the model, its calibrated probability; for a rule, how far past its threshold the
measurement is (exactly at the threshold = 50, twice the threshold or more = 99). ``ratio`` (TS 29.520
``SamplingRatio``, 1..100): the percentage of the UEs analysed in the window that show the same exception, rounded
up (one UE among 1000 is 1 %, not 0). ``excepLevel`` (1..100): the finding's score in percent, see
:func:`exception_level`. ``addtMeasInfo``: see :mod:`nwdaf.nf.engines.measurements`. Only the model's findings
carry ``model_version``. Each finding carries the S-NSSAI and DNN of the UE's PDU session (``snssai``/``dnn`` of
the feature row).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np
import polars as pl

from nwdaf.lib.features.host import RECENT_COLUMNS
from nwdaf.nf.engines.base import pdu_session
from nwdaf.nf.engines.config import AbnormalBehaviourSettings
from nwdaf.nf.engines.findings import Finding, rule_confidence
from nwdaf.nf.engines.measurements import additional_measurement, circumstance
from nwdaf.nf.engines.peer_rules import peer_rules, population_bounds, robust_bound
from nwdaf.platform.events import AbnormalBehaviourResult, AnalyticsResult, UeFeatureBatch


class Scorer(Protocol):
    """A provisioned model as the engine uses it (``nwdaf.lib.ml.holder.ModelHolder`` satisfies this)."""

    @property
    def version(self) -> str | None: ...

    @property
    def threshold(self) -> float:
        """The model's own operating threshold (chosen at training for a target false-positive rate)."""
        ...

    def score(self, features: pl.DataFrame) -> np.ndarray[Any, Any]: ...


def exception_level(score: float) -> int:
    """TS 29.520 ``Exception.excepLevel`` of a finding: its score in percent, 1..100.

    The score is the model's probability, or for a rule the measurement over twice its threshold (capped at 1), so
    the level says how severe the exception is: a rule exactly at its threshold is 50, twice the threshold or more
    is 100; a model finding is its probability (at least the model's threshold). A consumer's ``excepLevel`` in
    ``excepRequs`` is a threshold on this level (TS 23.288 clause 6.7.5.1). ``confidence`` is a different thing:
    how often such findings were right, not how strong this one is.
    """
    return int(np.clip(round(100 * score), 1, 100))




@dataclass(frozen=True, slots=True)
class _Period:
    """What a rule measured over: the whole window, or its newest report period."""

    start: float
    length_s: float


@dataclass(frozen=True, slots=True)
class HostBounds:
    """The per-host rules' thresholds for one window: ``max(constant, median + k * MAD-sigma)`` over the window's
    UEs (:func:`host_bounds`), so a busy population does not flag its ordinary hosts; the constants alone where
    the window has too few UEs for a median and MAD to mean anything."""

    pps: float
    bps: float
    flow_rate: float
    ports: float
    dests: float


def host_bounds(table: pl.DataFrame, length_s: float, s: AbnormalBehaviourSettings, prefix: str = "") -> HostBounds:
    """:class:`HostBounds` over ``table``'s rows (``prefix="recent_"``: over the newest report period's columns)."""
    def col(name: str, scale: float = 1.0) -> pl.Series:
        full = prefix + name
        return table.get_column(full) * scale if full in table.columns else pl.Series(full, [], pl.Float64)

    rows = list(table.iter_rows(named=True)) if not prefix else []
    if rows:  # the window's rate rules read what was sent at each record's own rate
        pkts = pl.Series([_sent(r, "pkts") for r in rows], dtype=pl.Float64) / length_s
        bits = pl.Series([_sent(r, "bytes") for r in rows], dtype=pl.Float64) * 8 / length_s
    else:
        pkts, bits = col("pkts_out", 1 / length_s), col("bytes_out", 8 / length_s)
    return HostBounds(pps=robust_bound(pkts, s.flood_packets_per_s, s),
                      bps=robust_bound(bits, s.large_rate_bps, s),
                      flow_rate=robust_bound(col("flow_rate"), s.frequent_flows_per_s, s),
                      ports=robust_bound(col("distinct_dst_ports"), s.scan_distinct_ports, s),
                      dests=robust_bound(col("distinct_dst"), s.scan_distinct_destinations, s))


def _sent(row: dict[str, Any], what: str) -> float:
    """``<what>_out`` of the row, or — where the peer features rate each flow record at its own average rate over
    one window (``rated_<what>_out``) — the smaller of the two: a record longer than the window does not put all
    its bytes in the minute it started."""
    total, rated = row.get(f"{what}_out") or 0.0, row.get(f"rated_{what}_out")
    return min(total, rated) if rated is not None else total


def _rules(row: dict[str, Any], period: _Period, s: AbnormalBehaviourSettings, b: HostBounds) -> list[Finding]:
    out: list[Finding] = []
    short = row.get("tcp_short_frac") or 0.0
    ports, dests = row.get("distinct_dst_ports") or 0.0, row.get("distinct_dst") or 0.0
    scan_value = max(ports / b.ports, dests / b.dests)
    if scan_value >= 1 and short >= s.scan_short_fraction:
        out.append(Finding("WRONG_DESTINATION_ADDRESS", min(scan_value / 2, 1.0), rule_confidence(scan_value, 1)))
    pps = _sent(row, "pkts") / period.length_s
    back = (row.get("pkts_in") or 0.0) / max(row.get("pkts_out") or 1.0, 1.0)
    unanswered = row.get("unanswered_out_share") or 0.0
    if pps >= b.pps and (back < 0.1 or unanswered >= s.flood_unanswered_share):
        out.append(Finding("SUSPICION_OF_DDOS_ATTACK", min(pps / (2 * b.pps), 1.0), rule_confidence(pps, b.pps)))
    bps = 8 * _sent(row, "bytes") / period.length_s
    if bps >= b.bps:
        out.append(Finding("UNEXPECTED_LARGE_RATE_FLOW", min(bps / (2 * b.bps), 1.0), rule_confidence(bps, b.bps)))
    rate = row.get("flow_rate") or 0.0
    if rate >= b.flow_rate and 0 < dests <= s.frequent_max_destinations:
        out.append(Finding("TOO_FREQUENT_SERVICE_ACCESS", min(rate / (2 * b.flow_rate), 1.0),
                            rule_confidence(rate, b.flow_rate),
                            circums=circumstance(rate, period.start, row.get("bytes_out"))))
    return out


def _recent_rules(row: dict[str, Any], window_end: float, s: AbnormalBehaviourSettings,
                  b: HostBounds | None) -> list[Finding]:
    """The rules over the newest report period alone, when the processor sent ``recent_*`` features: an attack
    that began inside that period is diluted in the window's averages but at full strength here."""
    period_s = row.get("recent_s")
    if not period_s or period_s <= 0 or b is None:
        return []
    view = {c: row.get(f"recent_{c}") for c in RECENT_COLUMNS}
    return _rules(view, _Period(window_end - float(period_s), float(period_s)), s, b)


def _recent_bounds(table: pl.DataFrame, s: AbnormalBehaviourSettings) -> HostBounds | None:
    """Bounds over the newest report period (one period for the whole batch: the processor's ``recent_s``)."""
    if "recent_s" not in table.columns:
        return None
    period = table.get_column("recent_s").drop_nulls()
    if period.is_empty() or float(period.max()) <= 0:  # type: ignore[arg-type]
        return None
    return host_bounds(table, float(period.max()), s, prefix="recent_")  # type: ignore[arg-type]


def _ratios(per_ue: Sequence[Sequence[Finding]]) -> dict[str, int]:
    """Per ExceptionId, the percentage of the analysed UEs (1..100, rounded up) that show it."""
    counts = Counter(f.excep_id for findings in per_ue for f in findings)
    return {excep_id: math.ceil(100 * n / len(per_ue)) for excep_id, n in counts.items()}


@dataclass
class AbnormalBehaviourEngine:
    """Scores each UE of a window with the provisioned model (when one is loaded) and the rules."""

    settings: AbnormalBehaviourSettings = field(default_factory=AbnormalBehaviourSettings)
    scorer: Scorer | None = None
    feature_columns: Sequence[str] = ()
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    event: str = "ABNORMAL_BEHAVIOUR"

    def evaluate(self, batch: UeFeatureBatch) -> list[AnalyticsResult]:
        if batch.rows == 0:
            return []
        table = pl.DataFrame(batch.columns)
        version, probs, cut = self._model_scores(table)
        window = _Period(batch.window_start, batch.window_end - batch.window_start)
        rows = list(table.iter_rows(named=True))
        bounds = population_bounds(table, self.settings)
        own, recent = host_bounds(table, window.length_s, self.settings), _recent_bounds(table, self.settings)
        per_ue: list[list[Finding]] = []
        for i, row in enumerate(rows):
            findings = _rules(row, window, self.settings, own)
            findings += _recent_rules(row, batch.window_end, self.settings, recent)
            findings += peer_rules(row, window.length_s, window.start, self.settings, bounds)
            if probs is not None and probs[i] >= cut:
                p = float(probs[i])
                findings.append(Finding("SUSPICION_OF_DDOS_ATTACK", p, round(100 * p), from_model=True))
            per_ue.append(_strongest_per_exception(findings))
        ratios = _ratios(per_ue)
        return [self._result(batch, row, f, ratios[f.excep_id], version)
                for row, findings in zip(rows, per_ue, strict=True) for f in findings]

    def _model_scores(self, table: pl.DataFrame) -> tuple[str | None, np.ndarray[Any, Any] | None, float]:
        """The model's version, its probabilities and the threshold they are judged against, read together;
        ``(None, None, 1.0)`` without a model. The threshold is the model's own unless ``model_threshold`` is
        set (an operator's override)."""
        version = self.scorer.version if self.scorer is not None else None
        if self.scorer is None or version is None:
            return None, None, 1.0
        override = self.settings.model_threshold
        return version, self.scorer.score(table), self.scorer.threshold if override is None else override

    def _result(self, batch: UeFeatureBatch, row: dict[str, Any], f: Finding, ratio: int,
                model_version: str | None) -> AnalyticsResult:
        return AnalyticsResult(
            event=self.event, supi=row["supi"], ue_ip=row.get("host"), **pdu_session(row),
            window_start=datetime.fromtimestamp(batch.window_start, UTC),
            window_end=datetime.fromtimestamp(batch.window_end, UTC), generated_at=self.clock(),
            model_version=model_version if f.from_model else None,
            abnormal=AbnormalBehaviourResult(excep_id=f.excep_id, score=f.score, confidence=f.confidence,
                                             excep_level=exception_level(f.score), ratio=ratio,
                                             addt_meas=additional_measurement(f.excep_id, row, f.circums)),
        )


def _strongest_per_exception(findings: list[Finding]) -> list[Finding]:
    best: dict[str, Finding] = {}
    for f in findings:
        if f.excep_id not in best or f.score > best[f.excep_id].score:
            best[f.excep_id] = f
    return list(best.values())
