"""The model trained exactly as the README shows (its ``nwdaf ml train`` command, on the shared data, promoted)
flags no benign UE of the synthetic populations ``nwdaf run all`` and ``nwdaf demo`` run, scored as the live
engine scores them: UPF accounting -> the processor's sliding windows and features -> the ABNORMAL_BEHAVIOUR engine
with the champion loaded. The populations' seeds are not the training inputs' (``synthetic:benign:1001/1002``).
Skips when the datasets are absent."""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

import pytest
from tests.support.datasets import DATASETS, MISSING_REASON, REPO_ROOT
from typer.testing import CliRunner

from nwdaf.app.cli import app
from nwdaf.app.detect import load_scorer
from nwdaf.lib.dataplane import Scenario, SessionTable
from nwdaf.lib.flows.upf_usage import period_reports, report_rows
from nwdaf.nf.engines.abnormal_behaviour import AbnormalBehaviourEngine
from nwdaf.nf.processor.processor import columns_of, ue_features
from nwdaf.nf.processor.windows import SlidingWindows
from nwdaf.nf.upf.sources import build_scenario
from nwdaf.platform.events import UeFeatureBatch

pytestmark = pytest.mark.integration

MODEL = "models:/nwdaf-abnormal-behaviour-host@champion"
WINDOW_S, PERIOD_S, DURATION_S = 10.0, 1.0, 60.0


def readme_train_command() -> list[str]:
    """The README's ``nwdaf ml train -i ...`` command (continuation lines joined, comment dropped), with the
    datasets folder of this machine."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"^\.venv/bin/nwdaf ml train -i (?:.*\\\n)*.*$", text, re.MULTILINE)
    assert found is not None, "README shows no `nwdaf ml train -i ...` command"
    command = found.group(0).replace("\\\n", " ").split(" #", 1)[0]
    args = shlex.split(command.replace("../shared/datasets", str(DATASETS)))
    return args[1:]  # drop the executable


def live_batches(scenario: Scenario) -> list[UeFeatureBatch]:
    """The feature batches the processor publishes for ``scenario`` (reports every second, 10 s windows)."""
    sessions = SessionTable()
    scenario.establish(sessions)
    windows = SlidingWindows(WINDOW_S)
    batches = []
    for report in period_reports(scenario.batches(0, DURATION_S, step_s=PERIOD_S), sessions, PERIOD_S):
        window = windows.add(report_rows(report, sessions))
        if window is not None:
            feats = ue_features(window, WINDOW_S)
            if not feats.is_empty():
                batches.append(UeFeatureBatch(window_start=window.start, window_end=window.end,
                                              columns=columns_of(feats)))
    return batches


def model_findings(engine: AbnormalBehaviourEngine, scenario: Scenario) -> dict[str, int]:
    """Per ground-truth label, how many findings the model (not a rule) raised."""
    truth = scenario.labels()
    counts: dict[str, int] = {}
    for batch in live_batches(scenario):
        for result in engine.evaluate(batch):
            if result.model_version is not None:
                counts[truth[result.supi]] = counts.get(truth[result.supi], 0) + 1
    return counts


@pytest.fixture(scope="module")
def champion(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any]]:
    if not DATASETS.is_dir():
        pytest.skip(MISSING_REASON)
    tmp = tmp_path_factory.mktemp("readme-model")
    env = {"NWDAF_DATA_DIR": str(tmp), "NWDAF_ML__TRACKING_URI": f"sqlite:///{tmp}/mlflow.db",
           "NWDAF_ML__ARTIFACT_ROOT": str(tmp / "artifacts")}
    args = readme_train_command()
    assert "--promote" in args
    result = CliRunner().invoke(app, [*args, "--json", str(tmp / "train.json")], env=env)
    assert result.exit_code == 0, result.output
    trained = json.loads((tmp / "train.json").read_text())
    scorer = load_scorer(MODEL, tracking_uri=env["NWDAF_ML__TRACKING_URI"],
                         artifact_root=env["NWDAF_ML__ARTIFACT_ROOT"])
    return scorer, trained


def test_readme_model_detects_held_out_real_attacks(champion: tuple[Any, dict[str, Any]]) -> None:
    """A model that flags nothing would pass the benign tests below: it must find real attacks it never saw."""
    scorer, trained = champion
    metrics = trained["metrics"]
    assert scorer.threshold == metrics["threshold"]["threshold"]
    assert metrics["threshold"]["attainable"]
    assert metrics["test"]["per_class"]["malicious"]["recall"] >= 0.3
    assert metrics["test"]["per_class"]["malicious"]["precision"] >= 0.9


@pytest.mark.parametrize("population", ["run all (synthetic:mixed:0)", "demo (20 benign, seed 42)"])
def test_readme_model_flags_no_benign_synthetic_ue(champion: tuple[Any, dict[str, Any]], population: str) -> None:
    scorer, _ = champion
    scenario = build_scenario("mixed", 0) if population.startswith("run all") else Scenario.build(
        benign=20, attackers={"scan": 1, "udp_flood": 1}, attack_start_s=10, seed=42)
    with_model = AbnormalBehaviourEngine(scorer=scorer)
    assert model_findings(with_model, scenario).get("benign", 0) == 0
