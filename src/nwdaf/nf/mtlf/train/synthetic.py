"""Training inputs ``synthetic:SCENARIO:SEED``: a seeded synthetic UE population, labelled, through the UPF path.

The packets of :class:`nwdaf.lib.dataplane.Scenario` go through the UPF's accounting into per-period usage rows and
per-window flow records (:mod:`nwdaf.lib.flows.upf_usage`), exactly what the processor builds from live UPF
reports, so the host-window features are the ones the engine scores live. ``benign`` is a population of benign
UEs only (web, video, IoT): the benign side of a training set whose attacks come from real captures (the CTU-13
files hold bot flows only). ``mixed`` adds one UE of each attack kind from 10 s on.

Each seed's population gets its own address block ``10.45.B.0/24`` with ``B = 1 + seed % 250``, so hosts of
different seeds stay distinct (group-aware CV holds out hosts) and none shares the block of the population
``nwdaf run all`` runs live (``10.45.0.0/24``). Use other seeds than the live population's when a model is judged
on it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

import polars as pl

from nwdaf.lib.dataplane import ATTACKS, Scenario, SessionTable
from nwdaf.lib.flows import LABEL_BENIGN, LABEL_MALICIOUS
from nwdaf.lib.flows.upf_usage import period_reports, windowed_flows

PREFIX: Final = "synthetic:"
SCENARIOS: Final = ("benign", "mixed")
DURATION_S: Final = 300.0
PERIOD_S: Final = 1.0
ATTACK_START_S: Final = 10.0


def is_synthetic(spec: str) -> bool:
    return spec.startswith(PREFIX)


def parse_spec(spec: str) -> tuple[str, int]:
    """``synthetic:SCENARIO:SEED`` -> (scenario, seed); a clear ``ValueError`` otherwise."""
    scenario, _, seed = spec.removeprefix(PREFIX).partition(":")
    if scenario not in SCENARIOS or not seed.isdigit():
        raise ValueError(f"synthetic training input must be synthetic:SCENARIO:SEED with SCENARIO one of "
                         f"{list(SCENARIOS)} and SEED a non-negative integer, got {spec!r}")
    return scenario, int(seed)


def synthetic_flows(spec: str, window_s: float, duration_s: float = DURATION_S) -> pl.DataFrame:
    """Labelled flow records of the population named by ``spec`` (see the module docstring)."""
    name, seed = parse_spec(spec)
    attackers = dict.fromkeys(ATTACKS, 1) if name == "mixed" else None
    scenario = Scenario.build(benign=10, attackers=attackers, attack_start_s=ATTACK_START_S, seed=seed)
    block = 256 * (1 + seed % 250)
    scenario.ues = [replace(ue, ue_ipv4=ue.ue_ipv4 + block) for ue in scenario.ues]
    return labelled_scenario_flows(scenario, duration_s, window_s, PERIOD_S).with_columns(
        pl.lit(spec.removeprefix(PREFIX)).alias("source"))


def labelled_scenario_flows(scenario: Scenario, duration_s: float, window_s: float, period_s: float) -> pl.DataFrame:
    """Flow records of ``scenario`` with ground truth: an attacker's flows from its attack start are malicious."""
    sessions = SessionTable()
    scenario.establish(sessions)
    reports = period_reports(scenario.batches(0, duration_s, step_s=period_s), sessions, period_s)
    flows = windowed_flows(reports, sessions, window_s)
    t0 = scenario.start_ns / 1e9
    starts = {ue.supi: (ue.attack_start_s if ue.attack else None) for ue in scenario.ues}
    attack_at = pl.col("supi").replace_strict(starts, default=None, return_dtype=pl.Float64)
    malicious = attack_at.is_not_null() & (pl.col("start_ts") + window_s > t0 + attack_at)
    return flows.with_columns(
        pl.when(malicious).then(pl.lit(LABEL_MALICIOUS)).otherwise(pl.lit(LABEL_BENIGN)).alias("label"),
        pl.col("supi").replace_strict({u.supi: u.label for u in scenario.ues}, default=None).alias("label_detail"),
        pl.lit("synthetic").alias("source"),
    )
