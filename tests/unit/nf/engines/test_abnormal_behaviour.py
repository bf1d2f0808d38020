"""ABNORMAL_BEHAVIOUR engine: rules and the provisioned model, on hand-made feature windows."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pytest

from nwdaf.nf.engines import AbnormalBehaviourEngine, AbnormalBehaviourSettings, UeCommunicationEngine
from nwdaf.nf.engines.abnormal_behaviour import exception_level
from nwdaf.platform.events import UeFeatureBatch

pytestmark = pytest.mark.unit

BASE = {"flows_out": 5.0, "flows_in": 0.0, "bytes_out": 5e4, "bytes_in": 5e5, "pkts_out": 100.0, "pkts_in": 400.0,
        "distinct_dst": 2.0, "distinct_dst_ports": 2.0, "tcp_short_frac": 0.0, "flow_rate": 0.5,
        "top_destinations": ["10.61.0.1"]}


def _batch(**rows: dict[str, Any]) -> UeFeatureBatch:
    records = [{**BASE, **vals, "supi": supi, "host": f"10.45.0.{i + 2}"}
               for i, (supi, vals) in enumerate(rows.items())]
    cols = {k: [r[k] for r in records] for k in records[0]}
    return UeFeatureBatch(window_start=100.0, window_end=110.0, columns=cols)


def _by_supi(results: list[Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for r in results:
        out.setdefault(r.supi, set()).add(r.abnormal.excep_id)
    return out


def test_benign_ue_gives_no_finding() -> None:
    assert AbnormalBehaviourEngine().evaluate(_batch(benign={})) == []


def test_scan_is_wrong_destination_with_evidence() -> None:
    scan = {"distinct_dst_ports": 60.0, "distinct_dst": 20.0, "tcp_short_frac": 0.95,
            "top_destinations": ["10.61.0.1", "10.61.0.2"]}
    (res,) = AbnormalBehaviourEngine().evaluate(_batch(bot=scan, a={}, b={}, c={}))
    assert res.abnormal is not None
    assert res.abnormal.excep_id == "WRONG_DESTINATION_ADDRESS"
    assert res.abnormal.ratio == 25  # one UE of the four analysed
    assert res.abnormal.confidence == 99  # 3x the port threshold
    assert res.abnormal.addt_meas == {"wrgDest": {"ipv4Addrs": ["10.61.0.1", "10.61.0.2"]}}
    assert res.ue_ip == "10.45.0.2"


def test_threshold_sits_at_fifty_confidence() -> None:
    s = AbnormalBehaviourSettings()
    row = {"distinct_dst_ports": s.scan_distinct_ports, "tcp_short_frac": 1.0}
    (res,) = AbnormalBehaviourEngine(s).evaluate(_batch(edge=row))
    assert res.abnormal is not None
    assert res.abnormal.confidence == 50


def test_flood_is_ddos_and_large_rate() -> None:
    flood = {"pkts_out": 50_000.0, "pkts_in": 10.0, "bytes_out": 7.5e7}
    kinds = _by_supi(AbnormalBehaviourEngine().evaluate(_batch(flood=flood, benign={})))
    assert kinds == {"flood": {"SUSPICION_OF_DDOS_ATTACK", "UNEXPECTED_LARGE_RATE_FLOW"}}


def test_frequent_access_needs_few_destinations() -> None:
    kinds = _by_supi(AbnormalBehaviourEngine().evaluate(_batch(
        hammer={"flow_rate": 40.0, "distinct_dst": 1.0}, spread={"flow_rate": 40.0, "distinct_dst": 9.0})))
    assert kinds == {"hammer": {"TOO_FREQUENT_SERVICE_ACCESS"}}


class FakeModel:
    version = "3"
    threshold = 0.5

    def score(self, features: pl.DataFrame) -> np.ndarray[Any, Any]:
        return np.where(features["supi"] == "bot", 0.87, 0.02)


def test_model_flags_ddos_with_calibrated_confidence_and_version() -> None:
    results = AbnormalBehaviourEngine(scorer=FakeModel()).evaluate(_batch(bot={}, benign={}))
    assert len(results) == 1
    (res,) = results
    assert res.supi == "bot"
    assert res.model_version == "3"
    assert res.abnormal is not None
    assert (res.abnormal.excep_id, res.abnormal.confidence, res.abnormal.score) == (
        "SUSPICION_OF_DDOS_ATTACK", 87, pytest.approx(0.87))


def test_model_findings_use_the_models_own_threshold_unless_overridden() -> None:
    class Strict(FakeModel):
        threshold = 0.9  # chosen at training for a target false-positive rate

    assert AbnormalBehaviourEngine(scorer=Strict()).evaluate(_batch(bot={}, benign={})) == []
    override = AbnormalBehaviourSettings(model_threshold=0.8)
    (res,) = AbnormalBehaviourEngine(override, scorer=Strict()).evaluate(_batch(bot={}, benign={}))
    assert (res.supi, res.model_version) == ("bot", "3")
    assert AbnormalBehaviourSettings().model_threshold is None


def test_ue_communication_reports_every_ue() -> None:
    results = UeCommunicationEngine().evaluate(_batch(a={}, b={"bytes_out": 1.0}))
    assert {r.supi for r in results} == {"a", "b"}
    a = next(r for r in results if r.supi == "a")
    assert a.ue_comm is not None
    assert (a.ue_comm.ul_volume_bytes, a.ue_comm.dl_volume_bytes, a.ue_comm.comm_dur_s) == (50000, 500000, 10)


def test_flood_starting_late_in_the_window_is_caught_in_the_newest_period() -> None:
    # 0.4 s of a 2000 pkt/s flood at the end of a 10 s window: 80 pkt/s on average, under the 300 threshold,
    # and the UE's answered web traffic earlier in the period keeps the window's in/out ratio above 0.1.
    diluted = {"pkts_out": 900.0, "pkts_in": 400.0, "flow_rate": 80.0, "distinct_dst": 2.0}
    newest = {"recent_s": 1.0, "recent_pkts_out": 850.0, "recent_pkts_in": 120.0, "recent_flow_rate": 801.0,
              "recent_distinct_dst": 2.0, "recent_unanswered_out_share": 0.94}
    assert _by_supi(AbnormalBehaviourEngine().evaluate(_batch(flood=diluted))) == {
        "flood": {"TOO_FREQUENT_SERVICE_ACCESS"}}
    kinds = _by_supi(AbnormalBehaviourEngine().evaluate(_batch(flood={**diluted, **newest})))
    assert kinds == {"flood": {"SUSPICION_OF_DDOS_ATTACK", "TOO_FREQUENT_SERVICE_ACCESS"}}


def test_busy_but_answered_newest_period_is_no_flood() -> None:
    video = {"recent_s": 1.0, "recent_pkts_out": 900.0, "recent_pkts_in": 1800.0, "recent_flow_rate": 2.0,
             "recent_distinct_dst": 2.0, "recent_unanswered_out_share": 0.0}
    assert AbnormalBehaviourEngine().evaluate(_batch(video=video)) == []


SCAN = {"distinct_dst_ports": 60.0, "distinct_dst": 20.0, "tcp_short_frac": 0.95}
FLOOD = {"pkts_out": 50_000.0, "pkts_in": 10.0, "bytes_out": 7.5e7, "top_destinations": ["10.61.0.9"]}
HAMMER = {"flow_rate": 40.0, "distinct_dst": 1.0, "bytes_out": 12_345.0}


def _by_exception(results: list[Any]) -> dict[tuple[str, str], Any]:
    return {(r.supi, r.abnormal.excep_id): r for r in results}


def test_ratio_is_the_share_of_analysed_ues_showing_the_exception() -> None:
    results = _by_exception(AbnormalBehaviourEngine().evaluate(
        _batch(s1=SCAN, s2=SCAN, flood=FLOOD, benign={})))
    assert {k: r.abnormal.ratio for k, r in results.items()} == {
        ("s1", "WRONG_DESTINATION_ADDRESS"): 50, ("s2", "WRONG_DESTINATION_ADDRESS"): 50,
        ("flood", "SUSPICION_OF_DDOS_ATTACK"): 25, ("flood", "UNEXPECTED_LARGE_RATE_FLOW"): 25}


def test_ratio_rounds_up_so_one_ue_in_many_is_still_reported() -> None:
    benign = {f"b{i}": {} for i in range(299)}
    (res,) = AbnormalBehaviourEngine().evaluate(_batch(scan=SCAN, **benign))
    assert res.abnormal is not None
    assert res.abnormal.ratio == 1


def test_large_rate_flow_names_the_flows_as_ip_filters() -> None:
    results = _by_exception(AbnormalBehaviourEngine().evaluate(_batch(flood=FLOOD)))
    large = results[("flood", "UNEXPECTED_LARGE_RATE_FLOW")].abnormal
    assert large.addt_meas == {"unexpFlowTeps": [{"ipTrafficFilter": "permit out ip from 10.61.0.9 to 10.45.0.2"}]}
    ddos = results[("flood", "SUSPICION_OF_DDOS_ATTACK")].abnormal
    assert ddos.addt_meas == {"ddosAttack": {"ipv4Addrs": ["10.61.0.9"]}}


def test_too_frequent_access_describes_the_circumstance() -> None:
    (res,) = AbnormalBehaviourEngine().evaluate(_batch(hammer=HAMMER))
    assert res.abnormal is not None
    assert res.abnormal.excep_id == "TOO_FREQUENT_SERVICE_ACCESS"
    assert res.abnormal.ratio == 100
    assert res.abnormal.addt_meas == {"circums": [{"freq": 40.0, "tm": "1970-01-01T00:01:40Z", "vol": 12345}]}


def test_circumstance_of_the_newest_period_starts_with_that_period() -> None:
    newest = {"recent_s": 2.0, "recent_flow_rate": 90.0, "recent_distinct_dst": 1.0, "recent_bytes_out": 800.0}
    (res,) = AbnormalBehaviourEngine().evaluate(_batch(ue={**newest, "flow_rate": 1.0}))
    assert res.abnormal is not None
    assert res.abnormal.addt_meas == {"circums": [{"freq": 90.0, "tm": "1970-01-01T00:01:48Z", "vol": 800}]}


def test_ipv6_peers_go_into_ipv6_addresses_and_garbage_is_left_out() -> None:
    scan = {**SCAN, "top_destinations": ["2001:db8::7", "10.61.0.1", "not-an-ip", "2001:db8::7"]}
    (res,) = AbnormalBehaviourEngine().evaluate(_batch(bot=scan))
    assert res.abnormal is not None
    assert res.abnormal.addt_meas == {"wrgDest": {"ipv4Addrs": ["10.61.0.1"], "ipv6Addrs": ["2001:db8::7"]}}


def test_model_finding_has_ratio_evidence_and_version_but_rule_findings_no_version() -> None:
    results = _by_exception(AbnormalBehaviourEngine(scorer=FakeModel()).evaluate(
        _batch(bot={"top_destinations": ["192.0.2.8"]}, scanner=SCAN, benign={})))
    model = results[("bot", "SUSPICION_OF_DDOS_ATTACK")]
    assert model.model_version == "3"
    assert model.abnormal is not None
    assert (model.abnormal.ratio, model.abnormal.addt_meas) == (34, {"ddosAttack": {"ipv4Addrs": ["192.0.2.8"]}})
    rule = results[("scanner", "WRONG_DESTINATION_ADDRESS")]
    assert rule.model_version is None


def test_rule_flood_stronger_than_the_model_carries_no_model_version() -> None:
    class Unsure(FakeModel):
        def score(self, features: pl.DataFrame) -> np.ndarray[Any, Any]:
            return np.full(features.height, 0.6)

    (ddos,) = [r for r in AbnormalBehaviourEngine(scorer=Unsure()).evaluate(_batch(flood=FLOOD))
               if r.abnormal is not None and r.abnormal.excep_id == "SUSPICION_OF_DDOS_ATTACK"]
    assert ddos.abnormal is not None
    assert ddos.abnormal.score == 1.0  # the flood rule (0.6 from the model lost)
    assert ddos.model_version is None


def test_model_not_yet_provisioned_gives_rule_findings_only() -> None:
    class NotLoaded(FakeModel):
        version = None  # type: ignore[assignment]

    results = AbnormalBehaviourEngine(scorer=NotLoaded()).evaluate(_batch(bot={}, scanner=SCAN))
    assert [(r.supi, r.model_version) for r in results] == [("scanner", None)]


def test_findings_carry_the_pdu_session_slice_dnn_and_an_exception_level() -> None:
    s = AbnormalBehaviourSettings()
    at_threshold = {"distinct_dst_ports": s.scan_distinct_ports, "tcp_short_frac": 1.0, "snssai": "1-0000ab",
                    "dnn": "internet"}
    twice = {"distinct_dst_ports": 2 * s.scan_distinct_ports, "tcp_short_frac": 1.0, "snssai": "2", "dnn": "ims"}
    unknown = {"distinct_dst_ports": 3 * s.scan_distinct_ports, "tcp_short_frac": 1.0, "snssai": "not-a-slice",
               "dnn": None}
    results = {r.supi: r for r in AbnormalBehaviourEngine(s).evaluate(_batch(a=at_threshold, b=twice, c=unknown))}
    assert (results["a"].snssai, results["a"].dnn) == ({"sst": 1, "sd": "0000ab"}, "internet")
    assert (results["b"].snssai, results["b"].dnn) == ({"sst": 2}, "ims")
    assert (results["c"].snssai, results["c"].dnn) == (None, None)
    # excepLevel is the score in percent: a rule at its threshold is 50, twice the threshold or more 100.
    assert [results[k].abnormal.excep_level for k in "abc"] == [50, 100, 100]  # type: ignore[union-attr]
    comm = {r.supi: r for r in UeCommunicationEngine().evaluate(_batch(a=at_threshold, b=twice))}
    assert (comm["a"].snssai, comm["b"].dnn) == ({"sst": 1, "sd": "0000ab"}, "ims")


def test_model_finding_level_is_its_probability_in_percent() -> None:
    assert [exception_level(p) for p in (0.0, 0.004, 0.5, 0.874, 1.0, 1.7)] == [1, 1, 50, 87, 100, 100]
