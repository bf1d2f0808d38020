"""Labelled training data for the abnormal-behaviour model from synthetic UE populations.

The flows go through the same UPF accounting and the same per-flow rows as live traffic (see
:mod:`nwdaf.lib.flows.upf_usage`), so the model is trained on the features it will score. Seeds differ from the
live demo's, so the model never saw the traffic it is judged on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import polars as pl

from nwdaf.lib.dataplane import ATTACKS, Scenario
from nwdaf.nf.mtlf.train.synthetic import labelled_scenario_flows

TRAINING_SEEDS = (1001, 1002, 1003, 1004)


def synthetic_training_flows(
    *, window_s: float, period_s: float, seeds: Sequence[int] = TRAINING_SEEDS, benign: int = 20,
    duration_s: float = 120.0,
) -> pl.DataFrame:
    """Several populations, every attack kind, attacks starting at different times."""
    frames = []
    for i, seed in enumerate(seeds):
        scenario = Scenario.build(benign=benign, attackers={a: 1 for a in ATTACKS}, seed=seed,
                                  start_s=1_700_000_000 + 10_000 * i)
        start = 20.0 + 10.0 * i
        # Each population gets its own /24 (10.45.i.0): group-aware CV holds out hosts, and a host address shared
        # by every population would hold out one attack kind entirely (the model would never see it).
        scenario.ues = [replace(ue, ue_ipv4=ue.ue_ipv4 + 256 * i, attack_start_s=start if ue.attack else 0.0)
                        for ue in scenario.ues]
        frames.append(labelled_scenario_flows(scenario, duration_s, window_s, period_s))
    return pl.concat(frames, how="diagonal_relaxed")
