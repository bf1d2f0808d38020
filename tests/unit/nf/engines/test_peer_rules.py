"""Peer rules: a flood from dozens of UEs at one target, each too slow to stand out alone, flags every participant
(offline through ``detect()`` and live through the processor's feature function); benign UEs stay unflagged."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from nwdaf.app.detect import detect
from nwdaf.lib.features.peers import rule_window_features
from nwdaf.lib.flows import FLOW_SCHEMA_NO_LABELS
from nwdaf.nf.engines import AbnormalBehaviourEngine
from nwdaf.nf.processor.processor import ue_features
from nwdaf.nf.processor.windows import ClosedWindow
from nwdaf.platform.events import UeFeatureBatch

T0 = 1_700_000_040.0
TARGET = "198.51.100.10"


def _flow(rng: np.random.Generator, src: str, dst: str, proto: str, dport: int, pf: int, pb: int,
          size: int) -> dict[str, object]:
    return {"start_ts": T0 + float(rng.uniform(0, 50)), "duration_s": 1.0, "proto": proto, "src_ip": src,
            "src_port": int(rng.integers(1024, 65535)), "dst_ip": dst, "dst_port": dport,
            "state": None, "pkts_fwd": pf, "pkts_bwd": pb, "pkts_total": pf + pb, "bytes_fwd": pf * size,
            "bytes_bwd": pb * 700, "bytes_total": pf * size + pb * 700, "source": "test", "proto_num": None,
            "service": None}


def _frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=FLOW_SCHEMA_NO_LABELS)


def _population(kind: str, flooders: int = 40, benign: int = 40, seed: int = 1) -> tuple[pl.DataFrame, set[str]]:
    rng = np.random.default_rng(seed)
    rows = []
    attackers = {f"10.45.1.{i}" for i in range(flooders)}
    for ue in sorted(attackers):  # ~5 packets/s each: nothing a per-UE rate threshold would see
        for _ in range(int(rng.integers(3, 6))):
            if kind == "icmp":
                rows.append(_flow(rng, ue, TARGET, "icmp", 0, int(rng.integers(40, 80)), 0, 84))
            elif kind == "udp":
                rows.append(_flow(rng, ue, TARGET, "udp", int(rng.integers(1, 65535)), int(rng.integers(40, 80)), 0,
                                  540))
            else:
                rows.append(_flow(rng, ue, TARGET, "tcp", 80, 1, 0, 60) | {"state": "S0"})
    for i in range(benign):  # web browsing to shared servers, answered, sizes varied
        for _ in range(int(rng.integers(2, 8))):
            server = f"203.0.113.{int(rng.integers(1, 12))}"
            rows.append(_flow(rng, f"10.45.2.{i}", server, "tcp", 443, int(rng.integers(5, 40)),
                              int(rng.integers(5, 60)), int(rng.integers(80, 1400))) | {"state": "SF"})
    return _frame(rows), attackers


@pytest.mark.parametrize("kind", ["icmp", "udp", "syn"])
def test_slow_many_ue_flood_flags_every_participant_offline(kind: str) -> None:
    flows, attackers = _population(kind)
    report = detect(flows, 60.0, AbnormalBehaviourEngine())
    assert len(report["windows"]) == 1
    flagged = {f["host"]: f["exceptionId"] for f in report["windows"][0]["flagged"]}
    assert set(flagged) == attackers
    assert set(flagged.values()) == {"SUSPICION_OF_DDOS_ATTACK"}


def test_slow_many_ue_flood_flags_every_participant_live() -> None:
    flows, attackers = _population("icmp")
    flows = flows.with_columns(pl.lit(T0).alias("start_ts"), ("imsi-" + pl.col("src_ip")).alias("supi"),
                               pl.lit("1-000001").alias("snssai"), pl.lit("internet").alias("dnn"))
    feats = ue_features(ClosedWindow(T0, T0 + 10.0, flows), 10.0)
    assert feats.get_column("flood_fan_in").max() == len(attackers)
    columns = {c: feats[c].to_list() for c in feats.columns}
    batch = UeFeatureBatch(window_start=T0, window_end=T0 + 10.0, columns=columns)
    found = {r.ue_ip for r in AbnormalBehaviourEngine().evaluate(batch)
             if r.abnormal is not None and r.abnormal.excep_id == "SUSPICION_OF_DDOS_ATTACK"}
    assert found == attackers


def test_a_popular_answered_server_is_no_flood_target() -> None:
    flows, _ = _population("icmp", flooders=0, benign=60)
    feats = rule_window_features(flows, 60.0)
    assert feats.get_column("flood_fan_in").max() == 0
    assert detect(flows, 60.0, AbnormalBehaviourEngine())["windows"][0]["flagged"] == []


@pytest.mark.parametrize(("port", "flood"), [(53, False), (8080, True)])
def test_regular_sizes_mark_a_flood_except_at_an_infrastructure_service(port: int, flood: bool) -> None:
    """Twenty UEs each asking one server 3-5 times, every request and answer one size: at a DNS resolver that is
    every network (the demo's 20 benign UEs were released as a DDoS on their resolver); at a web port, a flood."""
    rng = np.random.default_rng(5)
    rows = [_flow(rng, f"10.45.3.{i}", TARGET, "udp", port, 1, 1, 60) for i in range(20)
            for _ in range(int(rng.integers(3, 6)))]
    fan_in = rule_window_features(_frame(rows), 60.0).get_column("flood_fan_in").max()
    assert (fan_in == 20) is flood


def test_icmp_sweep_and_brute_force() -> None:
    rng = np.random.default_rng(3)
    rows = [_flow(rng, "10.45.3.1", f"192.0.2.{i}", "icmp", 0, 1, 1, 84) for i in range(15)]
    rows += [_flow(rng, "10.45.3.2", "192.0.2.200", "tcp", 22, 12, 10, 90) | {"state": "SF"} for _ in range(40)]
    rows += [_flow(rng, "10.45.3.4", "203.0.113.5", "tcp", 443, int(rng.integers(5, 40)), 9, 500) | {"state": "SF"}
             for _ in range(40)]
    flows = _frame(rows)
    report = detect(flows, 60.0, AbnormalBehaviourEngine())
    flagged = {f["host"]: f["exceptionId"] for f in report["windows"][0]["flagged"]}
    assert flagged == {"10.45.3.1": "WRONG_DESTINATION_ADDRESS", "10.45.3.2": "TOO_FREQUENT_SERVICE_ACCESS"}


def test_beaconing_is_flagged_once_it_persists_across_windows() -> None:
    """One small C&C connection every 30 s (a new 5-tuple each time): invisible in one window, flagged from the
    window in which six contacts over two minutes are in the history; a persistent connection's keep-alives every
    10 s (one 5-tuple, MQTT-like) and a burst of connections are not beaconing."""
    rng = np.random.default_rng(4)
    rows = [_flow(rng, "10.45.3.3", "192.0.2.66", "tcp", 6667, 4, 3, 100) | {"state": "SF", "start_ts": T0 + 30.0 * k}
            for k in range(20)]
    rows += [_flow(rng, "10.45.3.5", "192.0.2.18", "tcp", 1883, 1, 1, 120) | {"state": "SF", "src_port": 50005,
                                                                              "start_ts": T0 + 10.0 * k}
             for k in range(60)]
    rows += [_flow(rng, "10.45.3.6", "203.0.113.7", "tcp", 8000, 4, 3, 100) | {"state": "SF", "start_ts": T0 + 0.3 * k}
             for k in range(8)]
    report = detect(_frame(rows), 60.0, AbnormalBehaviourEngine())
    per_window = [{f["host"]: f["exceptionId"] for f in w["flagged"]} for w in report["windows"]]
    assert per_window[:2] == [{}, {}]
    assert all(w == {"10.45.3.3": "UNEXPECTED_WAKEUP"} for w in per_window[2:10]), per_window
