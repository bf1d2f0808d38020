"""The UPF's /metrics carry the malformed rows a dataset source skipped, by reason."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from nwdaf.nf.upf.api.oam import UpfCollector
from nwdaf.nf.upf.state import PumpStats

pytestmark = pytest.mark.unit


def test_source_rows_skipped_metric() -> None:
    outcomes = ("enqueued", "delivered", "dropped_queue_full", "dropped_undeliverable", "rejected",
                "discarded_on_close", "retries")
    totals = SimpleNamespace(**dict.fromkeys(outcomes, 0))
    ctx: Any = SimpleNamespace(
        sessions=SimpleNamespace(sessions=[], unmatched_packets=0), accounting=SimpleNamespace(packets=0, bytes=0),
        subscriptions={}, notifier=SimpleNamespace(totals=lambda: totals, channels={}),
        pump=PumpStats(source_rows_skipped={"column dst_port: expected a port": 3, "expected 15 fields": 1}),
    )
    [family] = [m for m in UpfCollector(ctx).collect() if m.name == "upf_source_rows_skipped"]
    got = {s.labels["reason"]: s.value for s in family.samples if s.name.endswith("_total")}
    assert got == {"column dst_port: expected a port": 3, "expected 15 fields": 1}
