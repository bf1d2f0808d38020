"""Closed-loop benchmark logic on fake ``run_demo`` reports: samples, percentiles, summaries, tables, figure."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from benchmarks.support import closed_loop as bench
from tests.support.profiling import cpu_ticks

from nwdaf.app.config import load_settings
from nwdaf.app.demo.run import DemoOptions, build_population, timelines

pytestmark = pytest.mark.unit

T0 = 1_700_000_000.0


def _ue(supi: str, role: str, *, attack_at: float | None = None, steps: tuple[float | None, ...] = (),
        released: bool | None = None) -> dict[str, Any]:
    times = [None if attack_at is None or s is None else attack_at + s for s in (*steps, None, None, None, None)[:4]]
    return {"supi": supi, "ip": "10.45.0.2", "role": role, "attack": "scan" if role == "bot" else None,
            "released": times[3] is not None if released is None else released, "t_attack_start": attack_at,
            "t_first_report": times[0], "t_detected": times[1], "t_notified": times[2], "t_released": times[3]}


def _report(period: int, bots: list[tuple[float | None, ...]], benign: int = 3,
            benign_released: int = 0) -> dict[str, Any]:
    ues = [_ue(f"bot-{i}", "bot", attack_at=T0 + 10 * i, steps=s) for i, s in enumerate(bots)]
    ues += [_ue(f"ue-{i}", "benign", released=i < benign_released) for i in range(benign)]
    return {"period_s": period, "window_s": bench.window_for(period), "ues": ues}


def test_bot_samples_are_seconds_after_each_bots_attack_start() -> None:
    samples = bench.bot_samples(_report(1, [(0.5, 1.5, 1.7, 1.8), (0.2, None, None, None)]), seed=7)

    assert [(s.seed, s.period_s, s.attack) for s in samples] == [(7, 1, "scan"), (7, 1, "scan")]
    assert samples[0].report == pytest.approx(0.5)
    assert samples[0].release == pytest.approx(1.8)
    assert samples[1].detect is None
    assert samples[1].release is None


def test_bot_samples_reject_something_that_is_not_a_report() -> None:
    with pytest.raises(ValueError, match="period_s"):
        bench.bot_samples({"ues": []}, seed=1)
    with pytest.raises(ValueError, match="ues"):
        bench.bot_samples({"period_s": 1, "ues": None}, seed=1)


def test_percentile_interpolates_like_numpy_and_treats_never_as_infinitely_late() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    assert bench.percentile(values, 50) == pytest.approx(2.5)
    assert bench.percentile(values, 95) == pytest.approx(3.85)
    assert bench.percentile([5.0], 99) == 5.0
    assert bench.percentile([1.0, 2.0, math.inf], 50) == 2.0
    assert bench.percentile([1.0, 2.0, math.inf], 95) == math.inf
    assert math.isnan(bench.percentile([], 50))
    with pytest.raises(ValueError, match="within"):
        bench.percentile(values, 101)


def test_summary_meets_the_targets_when_releases_are_within_one_period_at_the_median() -> None:
    reports = [_report(3, [(1.0, 2.0, 2.4, 2.5), (1.0, 2.5, 2.7, 2.8)]), _report(3, [(0.5, 2.0, 3.9, 4.0)])]

    s = bench.summarise(3, reports, seeds=[1, 2])

    assert (s.runs, s.bots, s.bots_released, s.benign_ues, s.benign_released) == (2, 3, 3, 6, 0)
    assert s.release_p50_s == pytest.approx(2.8)
    assert s.p50_periods == pytest.approx(2.8 / 3)
    assert s.p95_periods <= bench.TARGET_P95
    assert s.targets_met
    assert s.stages["release"].mean == pytest.approx((2.5 + 2.8 + 4.0) / 3)
    assert s.stages["report"].std == pytest.approx(0.288675, rel=1e-4)
    assert s.to_json()["targets_met"] is True


def test_summary_misses_the_targets_on_a_benign_release_or_a_bot_never_released() -> None:
    benign_hit = bench.summarise(1, [_report(1, [(0.2, 0.5, 0.6, 0.7)], benign_released=1)], seeds=[1])
    assert benign_hit.benign_released == 1
    assert not benign_hit.targets_met

    missed = bench.summarise(1, [_report(1, [(0.2, 0.5, 0.6, 0.7), (0.3, None, None, None)])], seeds=[1])
    assert missed.bots_released == 1
    assert missed.release_p95_s == math.inf
    assert not missed.targets_met
    assert missed.stages["release"].mean == pytest.approx(0.7)  # the stage means use complete loops only


def test_summary_wants_one_seed_per_report() -> None:
    with pytest.raises(ValueError, match="seeds"):
        bench.summarise(1, [_report(1, [])], seeds=[1, 2])


def test_tables_show_periods_multiples_and_a_never_for_unreleased_bots() -> None:
    ok = bench.summarise(5, [_report(5, [(2.0, 4.0, 6.0, 6.5)])], seeds=[1])
    missed = bench.summarise(1, [_report(1, [(0.2, None, None, None)])], seeds=[1])

    table = bench.markdown_table([ok, missed])
    assert "| 5 | 15 | 1 | 1/1 | 0/3 | 6.50 (1.30×) |" in table
    assert "never" in table.splitlines()[-1]
    stages = bench.stages_table([ok, missed])
    assert "| 5 | 2.00 ± 0.00 | 4.00 ± 0.00 | 6.00 ± 0.00 | 6.50 ± 0.00 |" in stages
    assert stages.splitlines()[-1] == "| 1 | n/a | n/a | n/a | n/a |"


def test_plot_writes_a_small_png(tmp_path: Path) -> None:
    summaries = [bench.summarise(p, [_report(p, [(0.3 * p, 0.8 * p, 1.1 * p, 1.2 * p)] * 3)], seeds=[1])
                 for p in (1, 3, 5)]
    out = tmp_path / "fig.png"

    bench.plot(summaries, out)

    data = out.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) < 200_000


def test_plot_refuses_when_no_bot_completed_the_loop(tmp_path: Path) -> None:
    missed = bench.summarise(1, [_report(1, [(0.2, None, None, None)])], seeds=[1])
    with pytest.raises(ValueError, match="nothing to plot"):
        bench.plot([missed], tmp_path / "fig.png")


def test_window_and_options_follow_the_period() -> None:
    assert [bench.window_for(p) for p in (1, 3, 5)] == [10.0, 10.0, 15.0]
    opts = bench.demo_options(5, seed=9, benign=4)
    assert opts.attack_window_s == (15.0, 20.0)
    assert (opts.seed, opts.benign, opts.settle_s, opts.exact_timing) == (9, 4, 0.0, True)
    assert opts.timeout_s == 50.0
    assert bench.registry_for(Path("/r"), 3) == Path("/r/p3-w10")


def test_bench_settings_subscribe_the_smf_periodically_at_the_period(tmp_path: Path) -> None:
    settings = bench.bench_settings(load_settings(None), tmp_path / "run", tmp_path / "registry", 3, "PERIODIC")

    assert settings.smf.notification_method == "PERIODIC"
    assert settings.smf.repetition_period_s == 3
    assert settings.collector.upf_ee[0].rep_period_s == 3
    assert settings.processor.window_s == 10.0
    assert "WRONG_DESTINATION_ADDRESS" in settings.smf.exception_ids  # the demo's settings are kept


def test_config_gives_each_period_its_own_seeds() -> None:
    config = bench.BenchConfig(Path("/r"), periods=(1, 3), runs=3)
    assert len(set(config.seeds(1)) | set(config.seeds(3))) == 6


def test_exact_timelines_start_attacks_on_the_generators_whole_second() -> None:
    scenario = build_population(DemoOptions(benign=2, seed=3, attack_window_s=(10.2, 10.8)), start_s=1000)

    planned, exact = timelines(scenario), timelines(scenario, exact=True)

    bots = [ue.supi for ue in scenario.ues if ue.attack]
    assert bots
    for supi in bots:
        assert planned[supi].t_attack_start is not None
        assert 1010.2 <= planned[supi].t_attack_start <= 1010.8
        assert exact[supi].t_attack_start == 1011.0


def test_bench_settings_keep_the_smf_on_reports_on_detection_by_default(tmp_path: Path) -> None:
    settings = bench.bench_settings(load_settings(None), tmp_path / "run", tmp_path / "registry", 5)

    assert settings.smf.notification_method == "ON_EVENT_DETECTION"
    assert settings.collector.upf_ee[0].rep_period_s == 5


def test_lateness_stats_keep_only_the_reports_due_in_the_window() -> None:
    times = {"a 100.0": 100.002, "a 101.0": 101.004, "b 100.5": 100.5, "a 99.0": 130.0, "b 102.0": 102.5}

    stats = bench.lateness_stats(times, 100.0, 102.0)

    assert stats["count"] == 3
    assert stats["p50_ms"] == pytest.approx(2.0)
    assert stats["max_ms"] == pytest.approx(4.0)
    empty = bench.lateness_stats({}, 0.0, 1.0)
    assert empty["count"] == 0
    assert math.isnan(empty["p99_ms"])


def test_reports_due_counts_anchor_plus_k_periods_within_the_window() -> None:
    assert bench.reports_due([0.25], 10.0, 20.0, 1.0) == 10  # 10.25 ... 19.25
    assert bench.reports_due([0.0], 10.0, 20.0, 1.0) == 10  # 10 ... 19: t0 counts, t1 does not
    assert bench.reports_due([0.0, 0.5], 10.0, 20.0, 5.0) == 4  # 10, 15 and 10.5, 15.5
    assert bench.reports_due([15.0], 10.0, 20.0, 1.0) == 4  # the first report is one period after its anchor
    assert bench.reports_due([25.0], 10.0, 20.0, 1.0) == 0


def _stat(proc: Path, pid: int, ppid: int, utime: int, stime: int, comm: str = "python (x)") -> None:
    (proc / str(pid)).mkdir()
    rest = ["S", str(ppid)] + ["0"] * 9 + [str(utime), str(stime)] + ["0"] * 5
    (proc / str(pid) / "stat").write_text(f"{pid} ({comm}) {' '.join(rest)}\n")


def test_cpu_ticks_sum_a_process_and_its_descendants_only(tmp_path: Path) -> None:
    _stat(tmp_path, 100, 1, 30, 10)
    _stat(tmp_path, 101, 100, 5, 1, comm="child (with) parens")
    _stat(tmp_path, 102, 101, 2, 2)
    _stat(tmp_path, 200, 1, 1000, 1000)
    (tmp_path / "self").mkdir()
    (tmp_path / "103").mkdir()  # vanished between listing and reading

    assert cpu_ticks(100, tmp_path) == 50
    assert cpu_ticks(101, tmp_path) == 10
    assert cpu_ticks(999, tmp_path) == 0
