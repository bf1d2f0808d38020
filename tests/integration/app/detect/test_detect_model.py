"""``nwdaf detect --model``: the offline engine scores with a trained model (a bundle file, or the champion of an
MLflow registry) as well as the rules, on traffic it was not trained on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.support.mtlf_data import labelled_flows
from typer.testing import CliRunner

from nwdaf.app.cli import app
from nwdaf.nf.mtlf.registry import ModelRegistry
from nwdaf.nf.mtlf.train import train
from nwdaf.nf.mtlf.train.config import TrainConfig

pytestmark = pytest.mark.integration

BOTS = {f"10.45.1.{h + 2}" for h in range(12, 18)}  # labelled_flows: 12 benign hosts, then 6 bots that scan


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A model trained on one synthetic population, registered and promoted to champion in a SQLite registry."""
    tmp = tmp_path_factory.mktemp("registry")
    config = TrainConfig(flows=labelled_flows(seed=7), candidates=["random_forest"], samplers=["undersample"],
                         n_splits=3, progress=False, report_dir=tmp / "reports",
                         tracking_uri=f"sqlite:///{tmp / 'mlflow.db'}", artifact_root=str(tmp / "artifacts"))
    result = train(config)
    assert result.version is not None
    ModelRegistry(config.tracking_uri, config.artifact_root).promote(result.model_name, result.version)
    return {"tracking_uri": config.tracking_uri, "name": result.model_name, "version": result.version,
            "bundle": result.bundle_path, "sha256": result.sha256}


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("NWDAF_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NWDAF_ML__ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    return CliRunner()


@pytest.fixture
def unseen(tmp_path: Path, write_flows: Any) -> str:
    """Another population of the same kind (other seed), as NFStream CSV with its label column."""
    return f"nfstream:{write_flows('nfstream', labelled_flows(seed=11).to_dicts(), tmp_path / 'u.csv', True)}"


def _detect(runner: CliRunner, spec: str, out: Path, *extra: str) -> dict[str, Any]:
    result = runner.invoke(app, ["detect", "--input", spec, "--window", "60", "--json", str(out), *extra])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(out.read_text())
    return report


def _flagged(report: dict[str, Any]) -> set[tuple[float, str, str]]:
    return {(w["start"], f["host"], f["exceptionId"]) for w in report["windows"] for f in w["flagged"]}


def test_detect_scores_with_a_model_file_and_the_registry_champion(
    runner: CliRunner, registry: dict[str, Any], unseen: str, tmp_path: Path
) -> None:
    rules = _detect(runner, unseen, tmp_path / "rules.json")
    assert rules["model"] is None
    assert not {f for f in _flagged(rules) if f[2] == "SUSPICION_OF_DDOS_ATTACK"}  # no flood: rules see scans only

    by_file = _detect(runner, unseen, tmp_path / "file.json", "--model", str(registry["bundle"]))
    assert by_file["model"] == {"uri": str(registry["bundle"]), "version": f"sha256:{registry['sha256'][:12]}"}
    champion = f"models:/{registry['name']}@champion"
    by_registry = _detect(runner, unseen, tmp_path / "registry.json", "--model", champion,
                          "--tracking-uri", registry["tracking_uri"])
    assert by_registry["model"] == {"uri": champion, "version": registry["version"]}
    assert by_registry["windows"] == by_file["windows"]  # the same bytes, wherever they come from

    model_findings = {f for f in _flagged(by_file) if f[2] == "SUSPICION_OF_DDOS_ATTACK"}
    assert {host for _, host, _ in model_findings} == BOTS  # every bot, and only bots
    assert {host for _, host, _ in _flagged(by_file)} == BOTS
    assert len(_flagged(by_file)) > len(_flagged(rules))  # the model catches bot windows the rules miss


def test_model_window_differing_from_detection_window_is_noted(
    runner: CliRunner, registry: dict[str, Any], unseen: str, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["detect", "--input", unseen, "--window", "30", "--json", str(tmp_path / "o.json"),
                                 "--model", str(registry["bundle"])])
    assert result.exit_code == 0, result.output
    assert "trained on 60 s windows, detecting on 30 s" in result.output


def test_unusable_model_is_a_clean_error(runner: CliRunner, registry: dict[str, Any], unseen: str,
                                         tmp_path: Path) -> None:
    not_a_model = tmp_path / "model.skops"
    not_a_model.write_bytes(b"not a skops file")
    for extra in (["--model", f"models:/{registry['name']}@nosuchalias", "--tracking-uri", registry["tracking_uri"]],
                  ["--model", str(tmp_path / "missing.skops")],
                  ["--model", str(not_a_model)]):
        result = runner.invoke(app, ["detect", "--input", unseen, "--json", str(tmp_path / "o.json"), *extra])
        assert result.exit_code == 2, result.output
        assert f"cannot use model {extra[1]}" in result.output
        assert "Traceback" not in result.output
