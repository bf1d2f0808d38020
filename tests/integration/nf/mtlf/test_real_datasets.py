"""Training on the real captures (``../shared/datasets``, or ``NWDAF_DATASETS_DIR``): importer -> features ->
labels -> train, kept small (one candidate, 3 folds). Skips when the datasets are absent."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.datasets import datasets_dir

from nwdaf.nf.mtlf.train import train
from nwdaf.nf.mtlf.train.config import TrainConfig
from nwdaf.nf.mtlf.train.dataset import align_sources, host_window_set, load_flows

pytestmark = pytest.mark.integration

ROOT = datasets_dir()
CTU = f"binetflow:{ROOT}/ctu13_sc11_sc12_botnet_only/*.gz"
IOT = f"zeek:{ROOT}/iot23_ctu_iot_malware_capture_34_1/conn.log.labeled.gz"


@pytest.fixture(scope="module", autouse=True)
def datasets() -> None:
    if not (ROOT / "iot23_ctu_iot_malware_capture_34_1").is_dir():
        pytest.skip(f"real datasets not found at {ROOT} (set NWDAF_DATASETS_DIR)")


def test_ctu13_bots_are_the_infected_hosts_only() -> None:
    flows, fingerprint = load_flows([CTU, IOT], None)
    data = host_window_set(align_sources(flows), 60.0, "src_ip", fingerprint)
    bots = set(data.keys.filter(data.keys["source"].str.starts_with("binetflow"))["host"].to_list())
    assert bots == {"147.32.84.165", "147.32.84.191", "147.32.84.192"}, "P2P peers contacting a bot are not bots"
    assert "pkts_out" not in data.feature_columns, "Argus has no per-direction packets: dropped for all sources"
    assert len(fingerprint) == 64


def test_iot23_host_window_model(tmp_path: Path) -> None:
    result = train(TrainConfig(inputs=[IOT], candidates=["random_forest"], samplers=["smote"], n_splits=3,
                               register_model=False, progress=False, report_dir=tmp_path))
    test = result.metrics["test"]
    assert result.group_kind == "window", "one infected device: groups are time windows"
    # At the operating threshold (no benign host of any out-of-fold window flagged) recall gives way to precision.
    assert result.bundle.meta.threshold == result.metrics["threshold"]["threshold"] >= 0.5
    assert test["average_precision"] > 0.9
    assert test["per_class"]["malicious"]["precision"] >= 0.9
    assert test["mcc"] > 0.4
    assert 0.0 <= test["ece"] < 0.1
