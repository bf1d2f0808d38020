"""slice_window_features over per-UE records with supi / snssai / dnn, expected values by hand."""

from __future__ import annotations

import polars as pl
import pytest

from nwdaf.lib.features import (
    SLICE_FEATURE_COLUMNS,
    SLICE_KEY_COLUMNS,
    scoped_slice_features,
    slice_window_features,
)
from nwdaf.lib.flows import conform_flows

pytestmark = pytest.mark.unit

# (start_ts, supi, snssai, dnn, ul bytes, dl bytes, ul pkts, dl pkts)
RECORDS = [
    (0.5, "imsi-1", "1-000001", "internet", 1000, 4000, 10, 20),
    (1.5, "imsi-1", "1-000001", "internet", 500, 500, 5, 5),
    (2.0, "imsi-2", "1-000001", "internet", 100, 900, 1, 9),
    (3.0, "imsi-3", "2-000002", "ims", 40, 60, 1, 1),
    (11.0, "imsi-2", "1-000001", "internet", 10, 10, 1, 1),
]
COLUMNS = ["start_ts", "supi", "snssai", "dnn", "bytes_fwd", "bytes_bwd", "pkts_fwd", "pkts_bwd"]


def records() -> pl.DataFrame:
    base = pl.DataFrame(RECORDS, schema=COLUMNS, orient="row")
    return conform_flows(base.with_columns(proto=pl.lit("udp"), src_ip=pl.lit("10.45.0.1"), dst_ip=pl.lit("1.1.1.1")))


def test_per_slice_and_dnn() -> None:
    features = slice_window_features(records(), 10.0)
    assert features.columns == [*SLICE_KEY_COLUMNS, *SLICE_FEATURE_COLUMNS]
    embb = features.row(0, named=True)
    assert (embb["window_start"], embb["snssai"], embb["dnn"]) == (0.0, "1-000001", "internet")
    assert (embb["flows"], embb["ul_bytes"], embb["dl_bytes"], embb["ul_pkts"], embb["dl_pkts"]) == (
        3,
        1600,
        5400,
        16,
        34,
    )
    assert embb["total_bytes"] == 7000
    assert (embb["ul_bps"], embb["dl_bps"]) == (pytest.approx(1600 * 8 / 10), pytest.approx(5400 * 8 / 10))
    assert (embb["active_ues"], embb["bytes_per_ue"], embb["flows_per_ue"]) == (2, 3500, 1.5)
    ims = features.row(1, named=True)
    assert (ims["snssai"], ims["dnn"], ims["active_ues"], ims["total_bytes"]) == ("2-000002", "ims", 1, 100)
    later = features.row(2, named=True)
    assert (later["window_start"], later["flows"], later["active_ues"]) == (10.0, 1, 1)


def test_grouping_by_snssai_only_and_missing_split() -> None:
    no_split = records().with_columns(
        pl.when(pl.col("supi") == "imsi-3").then(None).otherwise(pl.col("pkts_fwd")).alias("pkts_fwd")
    )
    features = slice_window_features(no_split, 60.0, by=("snssai",))
    assert features.columns[:2] == ["window_start", "snssai"]
    assert features["ul_pkts"].to_list() == [17.0, None]
    assert features["flows"].to_list() == [4.0, 1.0]


def test_missing_columns_and_keys() -> None:
    with pytest.raises(ValueError, match=r"slice_window_features needs column\(s\) \['supi'\]"):
        slice_window_features(records().drop("supi"), 10.0)
    with pytest.raises(ValueError, match=r"needs column\(s\) \['dnn'\]"):
        slice_window_features(records().drop("dnn"), 10.0)
    with pytest.raises(ValueError, match="at least one grouping column"):
        slice_window_features(records(), 10.0, by=())


def test_scoped_per_slice_per_dnn_and_both_by_hand() -> None:
    """imsi-1 has a session on each DNN of slice 1: the slice counts it once, its DNN rows once each."""
    rows = [
        (0.5, "imsi-1", "1-000001", "internet", 1000, 4000, 10, 20),
        (1.0, "imsi-1", "1-000001", "ims", 200, 300, 2, 3),
        (2.0, "imsi-2", "1-000001", "internet", 100, 900, 1, 9),
        (3.0, "imsi-3", "2-000002", "ims", 40, 60, 1, 1),
    ]
    base = pl.DataFrame(rows, schema=COLUMNS, orient="row")
    flows = conform_flows(base.with_columns(proto=pl.lit("udp"), src_ip=pl.lit("10.45.0.1"),
                                            dst_ip=pl.lit("1.1.1.1")))
    features = scoped_slice_features(flows, 60.0)
    assert features.columns == ["window_start", "scope", "snssai", "dnn", *SLICE_FEATURE_COLUMNS]
    got = features.select("scope", "snssai", "dnn", "flows", "total_bytes", "active_ues").rows()
    assert got == [
        ("dnn", None, "ims", 2.0, 600.0, 2.0),
        ("dnn", None, "internet", 2.0, 6000.0, 2.0),
        ("snssai", "1-000001", None, 3.0, 6500.0, 2.0),
        ("snssai", "2-000002", None, 1.0, 100.0, 1.0),
        ("snssai_dnn", "1-000001", "ims", 1.0, 500.0, 1.0),
        ("snssai_dnn", "1-000001", "internet", 2.0, 6000.0, 2.0),
        ("snssai_dnn", "2-000002", "ims", 1.0, 100.0, 1.0),
    ]
    slice1 = features.filter((pl.col("scope") == "snssai") & (pl.col("snssai") == "1-000001")).row(0, named=True)
    assert (slice1["ul_bytes"], slice1["dl_bytes"], slice1["bytes_per_ue"]) == (1300.0, 5200.0, 3250.0)
    assert set(features["window_start"]) == {0.0}


def test_scoped_features_keep_flows_without_slice_or_dnn() -> None:
    """A UPF that reported neither S-NSSAI nor DNN: one row per scope, keys null."""
    flows = records().with_columns(pl.lit(None, dtype=pl.String).alias("snssai"), pl.lit(None, dtype=pl.String)
                                   .alias("dnn"))
    features = scoped_slice_features(flows, 60.0)
    assert features.select("scope", "snssai", "dnn", "flows", "active_ues").rows() == [
        ("dnn", None, None, 5.0, 3.0), ("snssai", None, None, 5.0, 3.0), ("snssai_dnn", None, None, 5.0, 3.0)]
