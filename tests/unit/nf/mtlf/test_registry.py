"""The MLflow registry on a temporary SQLite store: registration tags, promote, rollback, artifact checksum."""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from nwdaf.lib.ml.bundle import ModelBundle
from nwdaf.nf.mtlf.registry import CHALLENGER, CHAMPION, ModelRegistry, RegistryConflictError, RegistryError, quiet
from nwdaf.nf.mtlf.train import TrainResult, train
from nwdaf.nf.mtlf.train.config import TrainConfig

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def registered(
    flows: pl.DataFrame, tmp_path_factory: pytest.TempPathFactory, make_config: Callable[..., TrainConfig]
) -> tuple[ModelRegistry, list[TrainResult]]:
    tmp = tmp_path_factory.mktemp("registry")
    results = [
        train(make_config(flows, tmp, register_model=True, seed=seed, candidates=["logistic_regression"],
                          samplers=["undersample"], alias=alias))
        for seed, alias in ((0, "champion"), (1, "challenger"), (2, "none"))
    ]
    return ModelRegistry(f"sqlite:///{tmp / 'mlflow.db'}", str(tmp / "artifacts")), results


def test_versions_carry_tags_and_aliases(registered: tuple[ModelRegistry, list[TrainResult]]) -> None:
    registry, results = registered
    name = results[0].model_name
    versions = registry.versions(name)
    assert [v.version for v in versions] == ["1", "2", "3"]
    assert versions[0].aliases == (CHAMPION,)
    assert versions[1].aliases == (CHALLENGER,)
    tags = versions[0].tags
    assert tags["nwdafEvent"] == "ABNORMAL_BEHAVIOUR"
    assert tags["exceptionId"] == "SUSPICION_OF_DDOS_ATTACK"
    assert tags["sha256"] == results[0].sha256
    assert json.loads(tags["featureColumns"]) == list(results[0].bundle.meta.feature_columns)
    assert tags["datasetFingerprint"] == results[0].dataset_fingerprint
    run = next(r for r in registry.runs() if r["runId"] == versions[0].run_id)
    assert run["metrics"]["test_f1"] == pytest.approx(results[0].metrics["test"]["f1"])
    assert run["params"]["kind"] == "host_window"


def test_artifact_is_verified_and_loadable(registered: tuple[ModelRegistry, list[TrainResult]]) -> None:
    registry, results = registered
    data = registry.artifact_bytes(results[1].model_name, "2")
    bundle = ModelBundle.from_bytes(data, results[1].sha256)
    assert bundle.meta.feature_columns == results[1].bundle.meta.feature_columns
    champion = registry.artifact_bytes_for_uri(f"models:/{results[0].model_name}@champion")
    assert champion == results[0].bundle_path.read_bytes()


def test_promote_then_rollback_restores_the_previous_champion(
    registered: tuple[ModelRegistry, list[TrainResult]],
) -> None:
    registry, results = registered
    name = results[0].model_name
    promoted = registry.promote(name, "2")
    assert promoted.version == "2"
    assert CHAMPION in promoted.aliases
    assert registry.by_alias(name, CHALLENGER) is None, "promoting the challenger clears that alias"
    assert registry.version(name, "2").tags["previousChampion"] == "1"
    registry.promote(name, "3")
    assert registry.rollback(name).version == "2"
    assert registry.rollback(name).version == "1"
    model = next(m for m in registry.models() if m["name"] == name)
    assert json.loads(model["tags"]["championHistory"]) == ["1"]
    last = json.loads(model["tags"]["lastTransition"])
    assert (last["action"], last["from"], last["to"]) == ("rollback", "2", "1")
    with pytest.raises(RegistryConflictError, match="no previous champion"):
        registry.rollback(name)


def test_unknown_model_or_version(registered: tuple[ModelRegistry, list[TrainResult]], tmp_path: Path) -> None:
    registry, results = registered
    with pytest.raises(RegistryError):
        registry.promote(results[0].model_name, "99")
    with pytest.raises(RegistryError):
        registry.versions("no-such-model")


def test_quiet_holds_while_another_thread_leaves_it() -> None:
    # Thread A enters, thread B enters, A leaves, B warns: with catch_warnings A's exit restored the "error" filter
    # under B (an MLflow warning then failed a training run in a worker thread).
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[BaseException] = []

    def a() -> None:
        with quiet():
            a_in.set()
            b_in.wait(5)
        a_out.set()

    def b() -> None:
        a_in.wait(5)
        with quiet():
            b_in.set()
            a_out.wait(5)
            try:
                warnings.warn("MLflow chatter", DeprecationWarning, stacklevel=1)
            except DeprecationWarning as exc:
                seen.append(exc)

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert seen == []
        with pytest.raises(DeprecationWarning):  # the last one out restored the filters
            warnings.warn("after", DeprecationWarning, stacklevel=1)
