"""``nwdaf eval`` scoring: host recall per active window, flow recall, delay, share of non-attackers flagged."""

from __future__ import annotations

import polars as pl

from nwdaf.app.eval_data import ATTACK_CLASS, Labelled
from nwdaf.app.eval_score import class_scores, flagged_frame, population_scores


def _truth() -> Labelled:
    rows = [  # (start_ts, src, dst, class)
        (0.0, "bot", "victim", "ddos"), (5.0, "bot", "victim", "ddos"), (65.0, "bot", "victim", "ddos"),
        (130.0, "bot", "victim", "ddos"), (10.0, "pc1", "srv", None), (70.0, "pc1", "srv", None),
        (75.0, "pc2", "srv", None), (135.0, "normal", "srv", None),
    ]
    flows = pl.DataFrame(rows, schema={"start_ts": pl.Float64, "src_ip": pl.String, "dst_ip": pl.String,
                                       ATTACK_CLASS: pl.String}, orient="row")
    return Labelled(flows, frozenset({"bot"}), frozenset({"normal"}))


def _report(flagged: dict[float, list[str]]) -> dict[str, object]:
    return {"windows": [{"start": w, "flagged": [{"host": h} for h in hosts]} for w, hosts in flagged.items()]}


def test_host_and_flow_recall_and_delay() -> None:
    flagged = flagged_frame(_report({60.0: ["bot"], 120.0: ["bot"]}))
    (c,) = class_scores(_truth(), flagged, 60.0)
    assert c["class"] == "ddos"
    assert c["active_host_windows"] == 3
    assert c["attackers"] == 1
    assert c["host_recall"] == round(2 / 3, 4)
    assert c["flow_recall"] == 0.5  # the two flows of the first window were missed
    assert c["max_delay_windows"] == 1


def test_never_flagged_class_has_no_delay() -> None:
    (c,) = class_scores(_truth(), flagged_frame(_report({})), 60.0)
    assert c["host_recall"] == 0.0
    assert c["max_delay_windows"] is None


def test_share_of_non_attackers_and_verified_normal() -> None:
    flagged = flagged_frame(_report({60.0: ["pc1", "bot"], 120.0: ["normal"]}))
    p = population_scores(_truth(), flagged, 60.0)
    # window 60: pc1, pc2, srv, victim are non-attackers (bot excluded); pc1 flagged -> 1/4
    assert p["windows"] == 3
    assert p["fp_host_windows"] == 2
    assert p["worst_share"] == 0.33333  # window 120: normal, srv, victim
    assert p["worst_share_hosts"] == 3
    assert p["normal_windows"] == 1
    assert p["normal_flagged_windows"] == 1
