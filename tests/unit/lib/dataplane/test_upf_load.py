"""The benchmark load generator: UPF NotificationData from the UPF's report builder, at a known size."""

from __future__ import annotations

import cProfile
import os

import pytest
from tests.support.profiling import process_cpu_s, profile_summary
from tests.support.upf_load import UpfLoad, measurement_count

from nwdaf.lib.flows.convert import notification_rows
from nwdaf.platform.models.upf_ee import NotificationData

pytestmark = pytest.mark.unit


def test_every_flow_reports_every_period_packed_as_asked() -> None:
    load = UpfLoad.build(ues=3, flows_per_ue=2)
    bodies = load.notifications(periods=2, first_end_s=1_750_000_000, per_notification=4)
    assert load.flows == 6
    assert measurement_count(bodies) == 12
    assert [measurement_count([b]) for b in bodies] == [4, 2, 4, 2]  # whole UEs per notification, at most 4
    for body in bodies:
        NotificationData.model_validate(body)
    rows = [r for body in bodies[:2] for r in notification_rows(body)]
    assert len(rows) == 6
    assert {r["src_ip"] for r in rows} == {"10.45.0.1", "10.45.0.2", "10.45.0.3"}  # the UE is the source
    assert {r["end_ts"] for r in rows} == {1_750_000_000.0}
    assert all(r["pkts_fwd"] > 0 and r["bytes_bwd"] > 0 for r in rows)


def test_profile_summary_names_modules_and_functions() -> None:
    profile = cProfile.Profile()
    profile.enable()
    UpfLoad.build(ues=2, flows_per_ue=1).notifications(1, 1_750_000_000, 10)
    profile.disable()
    summary = profile_summary(profile, top=50)
    assert any(name.startswith("nwdaf.nf.upf.reports") for name, _ in summary["modules"])
    assert summary["functions"]
    assert process_cpu_s(os.getpid()) > 0
