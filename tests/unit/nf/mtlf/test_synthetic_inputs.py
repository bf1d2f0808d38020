"""``synthetic:SCENARIO:SEED`` training inputs (UPF path) and labels that name no verified bot."""

from __future__ import annotations

import polars as pl
import pytest

from nwdaf.lib.flows import LABEL_BENIGN, LABEL_MALICIOUS
from nwdaf.nf.mtlf.train.dataset import UNVERIFIED_DETAILS, _fingerprint, host_window_set
from nwdaf.nf.mtlf.train.synthetic import parse_spec, synthetic_flows

pytestmark = pytest.mark.unit


def test_benign_population_is_labelled_benign_in_its_own_block() -> None:
    flows = synthetic_flows("synthetic:benign:7", 10.0, duration_s=5.0)
    ues = flows.filter(pl.col("supi").is_not_null())
    assert set(ues.get_column("label").unique()) == {LABEL_BENIGN}
    assert ues.get_column("src_ip").str.starts_with("10.45.8.").all()  # 1 + 7 % 250
    assert set(flows.get_column("source").unique()) == {"benign:7"}


def test_mixed_population_has_attack_windows_and_the_seed_names_the_data() -> None:
    flows = synthetic_flows("synthetic:mixed:3", 10.0, duration_s=12.0)
    assert set(flows.get_column("label").unique()) == {LABEL_BENIGN, LABEL_MALICIOUS}
    assert _fingerprint(["synthetic:mixed:3"], None, None) == _fingerprint(["synthetic:mixed:3"], None, None)
    assert _fingerprint(["synthetic:mixed:3"], None, None) != _fingerprint(["synthetic:mixed:4"], None, None)


@pytest.mark.parametrize("spec", ["synthetic:nope:1", "synthetic:benign", "synthetic:benign:x"])
def test_bad_synthetic_specs_are_refused_clearly(spec: str) -> None:
    with pytest.raises(ValueError, match="synthetic:SCENARIO:SEED"):
        parse_spec(spec)


def test_sources_of_unverified_malicious_labels_are_no_bots(flows: pl.DataFrame) -> None:
    scanner = flows.filter(pl.col("label") == LABEL_BENIGN).head(50).with_columns(
        pl.lit("203.0.113.9").alias("src_ip"), pl.lit(LABEL_MALICIOUS).alias("label"),
        pl.lit(UNVERIFIED_DETAILS[0]).alias("label_detail"))
    data = host_window_set(pl.concat([flows, scanner], how="diagonal_relaxed"), 60.0, "src_ip", "fp")
    assert "203.0.113.9" not in data.keys.get_column("host").to_list()
