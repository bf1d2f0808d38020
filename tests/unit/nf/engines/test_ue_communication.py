"""UE_COMMUNICATION engine: applications from the feature frame end up in ``trafChar.appId``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from nwdaf.nf.anlf.reports import ue_communication
from nwdaf.nf.anlf.state import Finding
from nwdaf.nf.engines import UeCommunicationEngine
from nwdaf.platform.events import AnalyticsResult, UeFeatureBatch
from nwdaf.platform.models import to_wire

pytestmark = pytest.mark.unit


def _batch(**extra: list[Any]) -> UeFeatureBatch:
    cols: dict[str, list[Any]] = {"supi": ["a", "b", "c"], "host": ["10.45.0.2", "10.45.0.3", "10.45.0.4"],
                                  "bytes_out": [10.0, 20.0, 30.0], "bytes_in": [1.0, 2.0, 3.0],
                                  "distinct_dst": [1.0, 2.0, 3.0], **extra}
    return UeFeatureBatch(window_start=100.0, window_end=110.0, columns=cols)


def _traffic(result: AnalyticsResult) -> dict[str, Any]:
    finding = Finding(result, datetime.now(UTC) + timedelta(minutes=1))
    return to_wire(ue_communication(finding))["trafChar"]


def test_application_of_the_feature_frame_becomes_app_id() -> None:
    apps = [["web"], ["video", None, "", "-", "video", "dns"], None]
    results = {r.supi: r for r in UeCommunicationEngine().evaluate(_batch(app_ids=apps))}
    assert {s: r.ue_comm.app_ids for s, r in results.items() if r.ue_comm} == {
        "a": ["web"], "b": ["video", "dns"], "c": []}
    assert _traffic(results["a"]) == {"appId": "web", "ulVol": 10, "dlVol": 1}
    # several applications in one UE's window: the volumes are the UE's, not one application's, so no appId
    assert "appId" not in _traffic(results["b"])
    assert "appId" not in _traffic(results["c"])


def test_frame_without_applications_reports_none() -> None:
    results = UeCommunicationEngine().evaluate(_batch())
    assert [r.ue_comm.app_ids for r in results if r.ue_comm] == [[], [], []]
