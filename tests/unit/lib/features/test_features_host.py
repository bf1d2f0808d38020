"""host_window_features with expected values computed by hand."""

from __future__ import annotations

import polars as pl
import pytest

from nwdaf.lib.features import HOST_FEATURE_COLUMNS, host_window_features
from nwdaf.lib.features._common import tcp_failed_expr
from nwdaf.lib.flows import conform_flows

pytestmark = pytest.mark.unit

# (start_ts, src, dst, proto, dst_port, state, pkts fwd/bwd, bytes fwd/bwd, duration)
FLOWS = [
    (1.0, "A", "B", "tcp", 80, "SF", 3, 2, 300, 200, 2.0),
    (2.0, "A", "C", "tcp", 22, "S0", 1, 0, 60, 0, None),
    (3.0, "A", "B", "udp", 53, None, 1, 1, 80, 120, 0.5),
    (4.0, "C", "A", "icmp", None, None, 2, 2, 196, 196, 1.0),
    (12.0, "A", "D", "tcp", 443, "REJ", 1, 1, 60, 40, 0.1),
]
COLUMNS = ["start_ts", "src_ip", "dst_ip", "proto", "dst_port", "state"]
COLUMNS += ["pkts_fwd", "pkts_bwd", "bytes_fwd", "bytes_bwd", "duration_s"]


def flows() -> pl.DataFrame:
    return conform_flows(pl.DataFrame(FLOWS, schema=COLUMNS, orient="row"))


def row(features: pl.DataFrame, window: float, host: str) -> dict[str, object]:
    match = features.filter((pl.col("window_start") == window) & (pl.col("host") == host))
    assert match.height == 1
    return match.row(0, named=True)


def test_columns_and_keys() -> None:
    features = host_window_features(flows(), 10.0)
    assert features.columns == ["window_start", "host", *HOST_FEATURE_COLUMNS]
    assert all(features.schema[c] == pl.Float64 for c in HOST_FEATURE_COLUMNS)
    assert features.select("window_start", "host").rows() == [
        (0.0, "A"),
        (0.0, "B"),
        (0.0, "C"),
        (10.0, "A"),
        (10.0, "D"),
    ]


def test_initiator_and_responder_views() -> None:
    features = host_window_features(flows(), 10.0)
    a = row(features, 0.0, "A")
    # A initiated flows 1-3 and answered flow 4 (C -> A): out = fwd of 1-3 + bwd of 4.
    assert (a["flows_out"], a["flows_in"]) == (3, 1)
    assert (a["bytes_out"], a["bytes_in"]) == (300 + 60 + 80 + 196, 200 + 0 + 120 + 196)
    assert (a["pkts_out"], a["pkts_in"]) == (3 + 1 + 1 + 2, 2 + 0 + 1 + 2)
    assert a["mean_pkt_size"] == pytest.approx((500 + 60 + 200 + 392) / (5 + 1 + 2 + 4))  # 96
    assert a["max_pkt_size"] == pytest.approx(100.0)  # flows 1 and 3: 500/5, 200/2
    assert (a["distinct_dst"], a["distinct_dst_ports"]) == (2, 3)
    assert a["tcp_failed_frac"] == pytest.approx(0.5)  # SF ok, S0 failed
    assert a["tcp_short_frac"] == pytest.approx(0.5)  # 5 packets vs 1 packet
    assert a["icmp_share"] == pytest.approx(0.25)
    assert a["flow_rate"] == pytest.approx(0.3)
    assert a["mean_duration_s"] == pytest.approx((2.0 + 0.5 + 1.0) / 3)
    b = row(features, 0.0, "B")
    assert (b["flows_out"], b["flows_in"], b["bytes_out"], b["bytes_in"]) == (0, 2, 320, 380)
    assert (b["distinct_dst"], b["tcp_failed_frac"], b["tcp_short_frac"], b["flow_rate"]) == (0, None, None, 0)
    c = row(features, 0.0, "C")
    assert (c["flows_out"], c["flows_in"], c["bytes_out"], c["bytes_in"]) == (1, 1, 196, 256)
    assert (c["distinct_dst"], c["distinct_dst_ports"], c["icmp_share"]) == (1, 0, 0.5)
    later = row(features, 10.0, "A")
    assert (later["flows_out"], later["tcp_failed_frac"], later["tcp_short_frac"]) == (1, 1.0, 1.0)


def test_missing_split_gives_null_not_zero() -> None:
    argus_like = flows().with_columns(pl.lit(None, dtype=pl.Int64).alias("pkts_fwd"))
    argus_like = argus_like.with_columns(pl.lit(None, dtype=pl.Int64).alias("pkts_bwd"))
    argus_like = argus_like.with_columns(pl.Series("pkts_total", [5, 1, 2, 4, 2]))
    a = row(host_window_features(argus_like, 10.0), 0.0, "A")
    assert (a["pkts_out"], a["pkts_in"], a["bytes_out"]) == (None, None, 636)
    assert a["mean_pkt_size"] == pytest.approx(96.0)


def test_other_host_column_has_no_mirroring() -> None:
    per_ue = flows().with_columns(pl.Series("supi", ["u1", "u1", "u2", "u2", "u1"]))
    features = host_window_features(per_ue, 10.0, host_col="supi")
    assert features.select("window_start", "host", "flows_out", "flows_in", "bytes_out").rows() == [
        (0.0, "u1", 2.0, 0.0, 360.0),
        (0.0, "u2", 2.0, 0.0, 276.0),
        (10.0, "u1", 1.0, 0.0, 60.0),
    ]


def test_tcp_failure_from_zeek_and_argus_states() -> None:
    states = pl.DataFrame(
        {
            "proto": ["tcp"] * 8 + ["udp"],
            "state": ["S0", "REJ", "SF", "OTH", "S_", "S_RA", "SR_SA", "FSPA_FSPA", "S0"],
        }
    )
    verdicts = states.select(tcp_failed_expr()).to_series().to_list()
    assert verdicts == [True, True, False, None, True, True, False, False, None]


@pytest.mark.parametrize("window", [0, -5.0, float("nan"), float("inf")])
def test_bad_window(window: float) -> None:
    with pytest.raises(ValueError, match="window_s must be a positive number"):
        host_window_features(flows(), window)


def test_missing_columns() -> None:
    with pytest.raises(ValueError, match=r"host_window_features needs column\(s\) \['state'\]"):
        host_window_features(flows().drop("state"), 10.0)


def test_empty_input_gives_empty_frame() -> None:
    features = host_window_features(flows().clear(), 10.0)
    assert features.height == 0
    assert features.columns == ["window_start", "host", *HOST_FEATURE_COLUMNS]


def test_package_exports() -> None:
    import nwdaf.lib.features as features

    assert set(features.__all__) <= set(dir(features))
    for columns in (features.HOST_FEATURE_COLUMNS, features.GRAPH_FEATURE_COLUMNS, features.SLICE_FEATURE_COLUMNS):
        assert len(set(columns)) == len(columns)


def test_end_of_flow_records_without_packets_are_not_traffic() -> None:
    """The UPF reports a flow that ended idle once more, with zero packets in that period: such records make no
    flow, destination or short TCP connection in the window (a host's quiet TLS sessions timing out together
    are not a scan), offline and live alike (every feature function reads :func:`with_traffic`)."""
    from nwdaf.lib.features import graph_features
    from nwdaf.lib.features.host import unanswered_out_share
    from nwdaf.lib.features.peers import rule_window_features

    ended = [(5.0, "A", f"10.9.0.{i}", "tcp", 443, None, 0, 0, 0, 0, 2.0) for i in range(1, 21)]
    frame = conform_flows(pl.DataFrame(FLOWS + ended, schema=COLUMNS, orient="row"))
    for fn in (host_window_features, graph_features, rule_window_features):
        assert fn(frame, 10.0).equals(fn(flows(), 10.0)), fn.__name__
    assert unanswered_out_share(frame).sort("host").equals(unanswered_out_share(flows()).sort("host"))
    a = row(host_window_features(frame, 10.0), 0.0, "A")
    assert (a["flows_out"], a["distinct_dst"]) == (3.0, 2.0)
