"""``nwdaf eval``: detection (rules; rules + model) scored over every labelled dataset in the shared folder.

Each case of :data:`nwdaf.app.eval_data.CASES` is loaded with its labels, the labels are dropped, the flows go
through :func:`nwdaf.app.detect.detect` (the live engine code) and the report is scored by
:mod:`nwdaf.app.eval_score`. Cases are marked ``tuning`` or ``held-out``: thresholds may only be tuned on the
former, and both are reported (``docs/detection.md``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from nwdaf.app.detect import detect
from nwdaf.app.eval_data import ATTACK_CLASS, CASES, EvalCase
from nwdaf.app.eval_score import class_scores, flagged_frame, population_scores
from nwdaf.lib.flows import LABEL_COLUMNS, SkipReport
from nwdaf.nf.engines.abnormal_behaviour import AbnormalBehaviourEngine

TRUTH_COLUMNS = (*LABEL_COLUMNS, ATTACK_CLASS)


def evaluate_case(case: EvalCase, root: Path, window_s: float, engine: AbnormalBehaviourEngine) -> dict[str, Any]:
    """One case: load with labels (bad rows skipped and counted by the importers' policy), detect without them,
    score."""
    began = time.monotonic()
    skips = SkipReport()
    truth = case.load(root, skips)
    blind = truth.flows.drop([c for c in TRUTH_COLUMNS if c in truth.flows.columns])
    report = detect(blind, window_s, engine)
    flagged = flagged_frame(report)
    return {
        "dataset": case.name, "split": case.split, "unit": case.unit, "note": case.note, "notes": list(truth.notes),
        "flows": truth.flows.height, "rows_skipped": skips.skipped,
        "skips": skips.summary(),
        "classes": class_scores(truth, flagged, window_s), **population_scores(truth, flagged, window_s),
        "seconds": round(time.monotonic() - began, 1),
    }


def run_eval(root: Path, window_s: float, engine: AbnormalBehaviourEngine, only: Sequence[str] = (),
             progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Every case (or those named in ``only``); a case whose data cannot be read is reported with its error."""
    results: list[dict[str, Any]] = []
    for case in CASES:
        if only and case.name not in only:
            continue
        progress(f"{case.name} ({case.split}) ...")
        try:
            results.append(evaluate_case(case, root, window_s, engine))
        except (OSError, ValueError) as exc:
            results.append({"dataset": case.name, "split": case.split, "error": f"import failed: {exc}"})
        progress(f"{case.name}: " + summary_line(results[-1]))
    return {"window_s": window_s, "datasets": results}


def summary_line(r: dict[str, Any]) -> str:
    if "error" in r:
        return str(r["error"])
    recalls = ", ".join(f"{c['class']} {_pct(c['host_recall'])}" for c in r["classes"])
    return (f"host recall {recalls or '-'}; worst FP share {_pct(r['worst_share'], 2)} of {r['worst_share_hosts']}, "
            f"verified-normal flagged {r['normal_flagged_windows']}/{r['normal_windows']} ({r['seconds']} s); "
            f"{r['skips']}")


def _pct(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{100 * x:.{digits}f} %"


def markdown_table(result: dict[str, Any], title: str) -> str:
    """The eval result as the markdown tables of ``docs/detection.md``."""
    lines = [f"**{title}** (windows of {result['window_s']:g} s)", "",
             "| dataset | split | class | attackers | active host-windows | host recall | flows | flow recall "
             "| max delay (windows) |", "|---|---|---|---|---|---|---|---|---|"]
    for r in result["datasets"]:
        if "error" in r:
            lines.append(f"| {r['dataset']} | {r['split']} | {r['error']} | | | | | | |")
            continue
        for c in r["classes"]:
            delay = "never" if c["max_delay_windows"] is None else c["max_delay_windows"]
            lines.append(f"| {r['dataset']} | {r['split']} | {c['class']} | {c['attackers']} | "
                         f"{c['active_host_windows']} | {_pct(c['host_recall'])} | {c['flows']} | "
                         f"{_pct(c['flow_recall'])} | {delay} |")
    lines += ["", "| dataset | split | windows | hosts/window (median) | FP host-windows | worst share flagged "
              "(of hosts) | mean share flagged | precision | verified-normal flagged windows | rows skipped |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["datasets"]:
        if "error" in r:
            continue
        lines.append(f"| {r['dataset']} | {r['split']} | {r['windows']} | {r['hosts_per_window_median']} | "
                     f"{r['fp_host_windows']} | {_pct(r['worst_share'], 2)} ({r['worst_share_hosts']}) | "
                     f"{_pct(r['mean_share'], 3)} | {_pct(r['precision'])} | "
                     f"{r['normal_flagged_windows']}/{r['normal_windows']} | "
                     f"{r['rows_skipped']} |")
    return "\n".join(lines) + "\n"
