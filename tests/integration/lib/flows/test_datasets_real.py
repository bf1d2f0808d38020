"""The importers on the real third-party datasets in ../shared/datasets (counts from its README)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from tests.support.datasets import DATASETS, needs_datasets

from nwdaf.lib.features import graph_features, host_window_features
from nwdaf.lib.flows import FLOW_SCHEMA, FLOW_SCHEMA_NO_LABELS, read_flows

pytestmark = [pytest.mark.integration, needs_datasets]

CTU = "ctu13_sc11_sc12_botnet_only"
IOT23 = "iot23_ctu_iot_malware_capture_34_1/conn.log.labeled.gz"
CIC = "cicids2017_improved_random_samples"
SLIPS = "slips_test_pcaps/test18-malicious-ctu-sme-11-win__zeek-labeled__conn.log.labeled"


@pytest.mark.parametrize(
    ("name", "rows"),
    [("capture20110818-2.botnet_only.binetflow.gz", 8164), ("capture20110819.botnet_only.binetflow.gz", 2168)],
)
def test_ctu13_botnet_flows(name: str, rows: int) -> None:
    flows = read_flows(f"binetflow:{DATASETS / CTU / name}")
    assert flows.schema == FLOW_SCHEMA
    assert flows.height == rows
    assert flows["label"].unique().to_list() == ["malicious"]
    assert flows["label_detail"].str.starts_with("flow=From-Botnet-").all()
    assert flows["pkts_fwd"].null_count() == rows
    assert flows["bytes_fwd"].null_count() == 0


def test_iot23_connections_and_detailed_labels() -> None:
    flows = read_flows(f"zeek:{DATASETS / IOT23}")
    assert flows.height == 23_145
    counts = dict(flows.group_by("label_detail").len().iter_rows())
    assert counts == {"DDoS": 14_394, "C&C": 6_706, "PartOfAHorizontalPortScan": 122, "Benign": 1_923}
    assert dict(flows.group_by("label").len().iter_rows()) == {"malicious": 21_222, "benign": 1_923}


def test_cicids2017_per_class_counts_match_file_names() -> None:
    result = read_flows(f"cicflow:{DATASETS / CIC}/*.csv.gz", on_error="count")
    assert result.rows_skipped == 0
    assert result.flows.height == 43_419
    expected: Counter[str] = Counter()
    for stats in result.stats:
        stem = Path(stats.path).name.removesuffix(".csv.gz")
        label, _, count = stem.rpartition("_")
        expected[label.replace("_", " ")] += int(count)
        assert stats.rows_read == int(count)
    got = Counter(dict(result.flows.group_by("label_detail").len().iter_rows()))
    assert got == expected
    assert result.flows.filter(pl.col("label") == "benign").height == expected["BENIGN"]
    assert result.flows["label"].unique().sort().to_list() == ["benign", "malicious"]


def test_slips_hand_labelled_conn_log() -> None:
    flows = read_flows(f"zeek:{DATASETS / SLIPS}")
    assert flows.height == 766
    assert dict(flows.group_by("label").len().iter_rows()) == {"malicious": 719, "benign": 44, "background": 3}


def test_labels_hidden_for_detection_and_features_run() -> None:
    flows = read_flows(f"binetflow:{DATASETS / CTU}/*.binetflow.gz", include_labels=False)
    assert flows.schema == FLOW_SCHEMA_NO_LABELS
    assert flows.height == 8164 + 2168
    hosts = host_window_features(flows, 60.0)
    graph = graph_features(flows, 60.0)
    assert hosts.select(pl.col("flows_out").sum()).item() == flows.height
    assert set(graph.get_column("host")) <= set(hosts.get_column("host"))
