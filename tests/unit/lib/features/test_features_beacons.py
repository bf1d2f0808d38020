"""Beaconing across windows: contacts (new 5-tuples, or back after an idle gap), bounded history, features."""

from __future__ import annotations

import polars as pl
import pytest

from nwdaf.lib.features.beacons import ContactHistory, beacon_window_features
from nwdaf.lib.flows import FLOW_SCHEMA_NO_LABELS

T0 = 1_700_000_000.0


def _flows(times: list[float], sport: int | None = None, dport: int = 6667, size: int = 300) -> pl.DataFrame:
    rows = [{"start_ts": t, "duration_s": 1.0, "proto": "tcp", "src_ip": "10.45.0.1",
             "src_port": sport if sport is not None else 40000 + k, "dst_ip": "192.0.2.66", "dst_port": dport,
             "state": "SF", "pkts_fwd": 4, "pkts_bwd": 3, "pkts_total": 7, "bytes_fwd": size, "bytes_bwd": 200,
             "bytes_total": size + 200, "source": "test"} for k, t in enumerate(times)]
    return pl.DataFrame(rows, schema=FLOW_SCHEMA_NO_LABELS)


def test_new_connections_at_a_regular_interval_are_contacts() -> None:
    history = ContactHistory()
    history.add(_flows([T0 + 30.0 * k for k in range(10)]))
    feats = history.features(T0 + 300.0).row(0, named=True)
    assert feats["beacon_contacts"] == 10
    assert feats["beacon_gap_s"] == pytest.approx(30.0)
    assert feats["beacon_gap_cv"] == pytest.approx(0.0)
    assert feats["beacon_span_s"] == pytest.approx(270.0)


def test_a_persistent_connection_is_one_contact_and_comes_back_after_idle() -> None:
    history = ContactHistory(idle_s=60.0)
    history.add(_flows([T0 + 10.0 * k for k in range(30)], sport=50000))  # keep-alives every 10 s
    assert history.contacts.height == 1
    history.add(_flows([T0 + 600.0], sport=50000))  # back after 300 s without traffic
    assert history.contacts.height == 2


def test_memory_is_bounded() -> None:
    history = ContactHistory(lookback_s=900.0, max_per_service=16)
    for k in range(100):
        history.add(_flows([T0 + 20.0 * k], sport=41000 + k))
    assert history.contacts.height == 16  # the newest of the service
    assert float(history.contacts["t"].min()) == T0 + 20.0 * 84  # type: ignore[arg-type]
    later = ContactHistory(lookback_s=300.0)
    for k in range(100):
        later.add(_flows([T0 + 20.0 * k], sport=41000 + k))
    assert later.contacts.height == 15  # the last 300 s before the newest flow ended: one every 20 s


def test_offline_windows_match_the_history_fed_window_by_window() -> None:
    flows = _flows([T0 + 45.0 * k for k in range(20)])
    offline = beacon_window_features(flows, 60.0)
    live = ContactHistory()
    for start in sorted(set(int(t // 60) * 60.0 for t in flows["start_ts"].to_list())):
        live.add(flows.filter((pl.col("start_ts") >= start) & (pl.col("start_ts") < start + 60.0)))
        feats = live.features(start + 60.0)
        row = offline.filter(pl.col("window_start") == start)
        assert row.drop("window_start").equals(feats) if not feats.is_empty() else row.is_empty()


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="idle_s"):
        ContactHistory(lookback_s=60.0, idle_s=120.0)
