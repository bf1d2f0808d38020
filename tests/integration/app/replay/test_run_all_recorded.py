"""Acceptance of the time model (issue 11): ``nwdaf run all`` on recorded traffic closes the loop.

The whole stack in one process on embedded defaults (in-process bus, chdb), with an SMF subscribed: a shared
capture recorded long ago kept at its **original** times (the hard case: every time is years old), and the
synthetic source at its original times (2023). Findings are judged on the data's clock (none expired), storage
keeps every row it wrote (retention counts from ingestion), and the warehouse range trains a model.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.support.datasets import DATASETS, needs_datasets
from tests.support.polling import wait_until
from typer.testing import CliRunner

from nwdaf.app.cli import app
from nwdaf.app.config import Settings, load_settings
from nwdaf.app.replay import ReplayOptions, replay_settings, run_replay, storage_facts
from nwdaf.app.runtime import start_runtime

pytestmark = pytest.mark.integration
pytest.importorskip("chdb", reason="the chdb extra is not installed (pip install 'nwdaf[chdb]')")

SSH_PCAP = DATASETS / "slips_test_pcaps" / "test19-malicious-ssh__malicious-ssh-bruteforce.pcap"
SSH_ATTACKER = "147.32.80.40"
"""nmap's ssh-brute against 147.32.80.37:902 (the capture's README); the only flow initiator."""


def _original_times(base: Settings) -> Settings:
    return load_settings(None, **{**base.model_dump(mode="json", exclude_unset=True),
                                  "upf": {**base.upf.model_dump(mode="json", exclude_unset=True),
                                          "replay_time": "original"}})


@pytest.fixture(scope="module")
def ssh_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not SSH_PCAP.is_file():
        pytest.skip(f"{SSH_PCAP} not found (shared datasets)")
    opts = ReplayOptions(f"pcap:{SSH_PCAP}", speed=20.0)
    settings = replay_settings(_original_times(load_settings(None)), opts, tmp_path_factory.mktemp("ssh"))
    return asyncio.run(run_replay(settings, opts, lambda line: None))


@needs_datasets
def test_a_capture_at_its_original_times_is_judged_and_stored(ssh_report: dict[str, Any]) -> None:
    assert ssh_report["offset_s"] == 0  # original times: the recording's own clock
    assert ssh_report["findings_accepted"] > 0
    assert ssh_report["findings_expired"] == 0
    storage = ssh_report["storage"]
    assert storage["written"]["flow_records"] > 0
    assert storage["refused"] == {}
    assert storage["stored"] == storage["written"]
    assert [h["host"] for h in ssh_report["hosts"] if h["released"] and h["host"] != SSH_ATTACKER] == []
    (attacker,) = [h for h in ssh_report["hosts"] if h["host"] == SSH_ATTACKER]
    assert datetime.fromtimestamp(attacker["t_first_seen"], UTC).year == 2026  # recording time (March 2026)


@needs_datasets
def test_the_capture_s_attacker_is_released(ssh_report: dict[str, Any]) -> None:
    (attacker,) = [h for h in ssh_report["hosts"] if h["host"] == SSH_ATTACKER]
    assert attacker["released"]
    assert attacker["t_first_seen"] <= attacker["t_first_finding"] <= attacker["t_released"]


async def _synthetic_loop(settings: Settings) -> tuple[list[str], str, dict[str, Any], tuple[float, float]]:
    """Run until the scanner is released and two more windows passed; return the released addresses, the
    scanner's, the storage facts and the scenario's time range (epoch seconds)."""
    async with AsyncExitStack() as stack:
        rt = await start_runtime(settings, ["all"], stack)
        upf = next(s for s in rt.services if s.name == "upf")
        scenario = upf.source.scenario
        scanner = next(ue for ue in scenario.ues if ue.attack == "scan")
        address = next(s.ue_ipv4 for s in upf.ctx.sessions.sessions if s.supi == scanner.supi)

        def released() -> list[str]:
            return sorted(s.ue_ipv4 for s in upf.ctx.sessions.sessions if not s.active)

        await wait_until(lambda: address in released(), timeout_s=120, message="the scanner's release")
        end = upf.ctx.clock.now_ns() + 2 * int(settings.processor.window_s * 1e9)
        await wait_until(lambda: upf.ctx.clock.now_ns() >= end, timeout_s=120, message="two more windows")
        facts = await storage_facts(rt)
        span = (scenario.start_ns / 1e9, upf.ctx.clock.now_ns() / 1e9)
        return released(), address, facts, span


def test_synthetic_source_at_original_times_closes_the_loop_and_trains(tmp_path: Path) -> None:
    base = replay_settings(_original_times(load_settings(None)), ReplayOptions("pcap:unused"), tmp_path / "run")
    settings = load_settings(None, **{**base.model_dump(mode="json", exclude_unset=True),
                                      "upf": {**base.upf.model_dump(mode="json", exclude_unset=True),
                                              "source": "synthetic:scan:3", "learn_sessions": False}})
    released, scanner, storage, (start, end) = asyncio.run(_synthetic_loop(settings))
    assert released == [scanner]
    assert storage["stored"] == storage["written"]
    assert storage["written"]["flow_records"] > 0
    assert datetime.fromtimestamp(start, UTC).year == 2023  # the scenario's own clock, kept
    labels = tmp_path / "labels.csv"
    labels.write_text(f"host,label\n{scanner},malicious\n" + "".join(
        f"10.45.0.{i},benign\n" for i in range(2, 11) if f"10.45.0.{i}" != scanner))
    out = tmp_path / "train.json"
    result = CliRunner().invoke(app, [
        "ml", "train", "--warehouse", settings.storage.warehouse_url,
        "--start", datetime.fromtimestamp(start - 60, UTC).isoformat(),
        "--end", datetime.fromtimestamp(end + 60, UTC).isoformat(), "--labels", str(labels),
        "--window", str(settings.processor.window_s), "--candidates", "random_forest", "--samplers", "undersample",
        "--splits", "2", "--no-register", "--json", str(out)], env={"NWDAF_DATA_DIR": str(tmp_path / "train")})
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())["metrics"]["data"]
    assert data["warehouse_rows"] == storage["written"]["flow_records"]
    assert data["positives"] > 0
