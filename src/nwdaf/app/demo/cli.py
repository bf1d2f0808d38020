"""The ``nwdaf demo`` command: settings for the embedded run, the summary table, the JSON report."""

from __future__ import annotations

import asyncio
import logging
import tempfile
import uuid
from pathlib import Path
from typing import Any

import orjson
import typer

from nwdaf.app.config import Settings, load_settings
from nwdaf.app.demo.run import DemoOptions, run_demo


def demo_settings(base: Settings, run_dir: Path, registry_dir: Path, period_s: int, window_s: float) -> Settings:
    """Embedded defaults, free ports, a fresh data dir per run; the model registry is kept between runs."""
    overrides: dict[str, Any] = {
        "data_dir": str(run_dir),
        "nwdaf_sbi": {"port": 0}, "upf_sbi": {"port": 0}, "smf_sbi": {"port": 0},
        "collector": {"upf_ee": [{"rep_period_s": period_s}]},
        "processor": {"window_s": window_s},
        "smf": {"exception_ids": ["SUSPICION_OF_DDOS_ATTACK", "WRONG_DESTINATION_ADDRESS"]},
    }
    if base.bus.url.startswith("kafka://") and not base.bus.namespace:
        # a shared cluster keeps every earlier run's records; a fresh namespace keeps this run's windows clean
        overrides["bus"] = {**base.bus.model_dump(mode="json"), "namespace": f"demo-{uuid.uuid4().hex[:8]}."}
    if base.storage.warehouse_url == Settings().storage.warehouse_url:
        overrides["storage"] = {"timeseries_url": f"chdb://{run_dir}/chdb", "warehouse_url": f"chdb://{run_dir}/chdb"}
    if base.ml.tracking_uri == Settings().ml.tracking_uri:
        registry_dir.mkdir(parents=True, exist_ok=True)
        overrides["ml"] = {"tracking_uri": f"sqlite:///{registry_dir.resolve()}/mlflow.db",
                           "artifact_root": str(registry_dir.resolve() / "mlartifacts")}
    return load_settings(None, **{**base.model_dump(mode="json", exclude_unset=True), **overrides})


def _fmt(t: float | None, since: float | None) -> str:
    return "-" if t is None or since is None else f"{t - since:6.1f}"


def summary_table(report: dict[str, Any]) -> str:
    rows = [f"{'SUPI':<22}{'IP':<13}{'role':<8}{'attack':<11}{'released':<9}"
            f"{'report':>7}{'detect':>7}{'notify':>7}{'release':>8}   (seconds after attack start)"]
    for ue in sorted(report["ues"], key=lambda u: (u["role"] != "bot", u["supi"])):
        t0 = ue["t_attack_start"]
        rows.append(f"{ue['supi']:<22}{ue['ip']:<13}{ue['role']:<8}{ue['attack'] or '-':<11}"
                    f"{'YES' if ue['released'] else 'no':<9}{_fmt(ue['t_first_report'], t0):>7}"
                    f"{_fmt(ue['t_detected'], t0):>7}{_fmt(ue['t_notified'], t0):>7}{_fmt(ue['t_released'], t0):>8}")
    return "\n".join(rows)


def verdict(report: dict[str, Any]) -> tuple[bool, str]:
    bots = [u for u in report["ues"] if u["role"] == "bot"]
    benign = [u for u in report["ues"] if u["role"] == "benign"]
    bots_out = sum(u["released"] for u in bots)
    benign_out = sum(u["released"] for u in benign)
    ok = bots_out == len(bots) and benign_out == 0
    text = (f"{'LOOP CLOSED' if ok else 'LOOP NOT CLOSED'}: {bots_out}/{len(bots)} bots released, "
            f"{benign_out}/{len(benign)} benign UEs released")
    return ok, text


def _quiet_logs(base: Settings) -> None:
    """The demo narrates itself; service logs stay at WARNING unless the config asked for more."""
    if "level" not in base.logging.model_fields_set:
        logging.getLogger("nwdaf").setLevel(logging.WARNING)
    for noisy in ("mlflow", "alembic", "hypercorn"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def demo_command(base: Settings, report_path: Path | None, period_s: int, window_s: float, seed: int,
                 registry_dir: Path, testbed: bool = False) -> int:
    _quiet_logs(base)
    with tempfile.TemporaryDirectory(prefix="nwdaf-demo-") as tmp:
        settings = demo_settings(base, Path(tmp), registry_dir, period_s, window_s)
        typer.echo(f"nwdaf demo: UPF report period {period_s} s, detection window {window_s:g} s, bus "
                   f"{settings.bus.url}, warehouse {settings.storage.warehouse_url}")
        if testbed:
            from nwdaf.app.demo.testbed import run_testbed_demo

            report = asyncio.run(run_testbed_demo(settings, DemoOptions(seed=seed, attack_window_s=(8, 15)),
                                                  typer.echo))
        else:
            report = asyncio.run(run_demo(settings, DemoOptions(seed=seed), typer.echo))
    typer.echo("\n" + summary_table(report))
    ok, text = verdict(report)
    typer.echo("\n" + text)
    if report_path is not None:
        report_path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
        typer.echo(f"report written to {report_path}")
    return 0 if ok else 1
