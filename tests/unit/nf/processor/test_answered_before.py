"""A UE that serves inbound connections is not a scanner: records of conversations answered earlier are not
unanswered, and what a UE only received (scanners' probes of it) is not its own contacting anyone
(``nwdaf.lib.features.answered``), live, through the processor and the engine."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest
from tests.support.polling import wait_until
from tests.unit.nf.processor.test_processor import _collect, _item

from nwdaf.lib.features.answered import AnsweredFlows
from nwdaf.nf.engines import AbnormalBehaviourEngine
from nwdaf.nf.processor.config import ProcessorSettings
from nwdaf.nf.processor.processor import Processor
from nwdaf.platform.bus import InMemoryBus, Message, encode, topics
from nwdaf.platform.events import NF_NOTIFICATION, NfNotification

pytestmark = pytest.mark.unit

UE, PEER = "10.45.0.5", "198.51.100.7"


def _period(k: int) -> list[tuple[str, int, int, int, int, int]]:
    """Period ``k``: the peer opens a connection to the UE's SIP port from a new ephemeral port (answered in its
    first period); every earlier connection still open (24 s) gets one stray packet from the UE, nothing back."""
    rows = [(f"permit out 6 from {UE} 5060 to {PEER} {40000 + k}", 400, 300, 4, 4, 0)]
    rows += [(f"permit out 6 from {UE} 5060 to {PEER} {40000 + j}", 60, 0, 1, 0, 0) for j in range(max(0, k - 12), k)]
    return rows


def _probed(k: int) -> list[tuple[str, int, int, int, int, int]]:
    """Period ``k``: the UE browses one web server (answered), and eight Internet scanners probe eight of its ports;
    it answers none of them (a UPF counts each probe as the UE's downlink)."""
    rows = [(f"permit out 6 from {UE} 51000 to 93.184.216.34 443", 800, 4000, 6, 6, 0)]
    return rows + [(f"permit out 6 from {UE} {1000 + 8 * k + j} to 203.0.{k % 200}.{j + 1} {40000 + j}", 0, 60, 0, 1, 0)
                   for j in range(8)]


async def _findings(disable_memory: bool, period: Any = None) -> set[str]:
    bus = InMemoryBus()
    proc = Processor(bus, ProcessorSettings(window_s=10))
    if disable_memory:
        proc.answered.mark = lambda flows, now, remember=True: flows  # type: ignore[method-assign]
    _, feats = await _collect(bus)
    t0 = 1_750_000_000.0
    for k in range(60):
        note = NfNotification(source="upf-ee", received_at=datetime.now(UTC),
                              body={"notificationItems": [_item(UE, "imsi-5", t0 + 2.0 * k, (period or _period)(k))]})
        await proc.on_message(Message(topics.UPF_EE_NOTIFICATIONS, encode(note, type_=NF_NOTIFICATION)))
    await wait_until(lambda: len(feats) >= 59, message="a feature batch per report period")
    await bus.close()
    engine = AbnormalBehaviourEngine()
    return {r.abnormal.excep_id for b in feats for r in engine.evaluate(b) if r.abnormal is not None}


async def test_a_ue_serving_inbound_connections_is_not_flagged_as_a_scanner() -> None:
    assert await _findings(disable_memory=False) == set()


async def test_without_the_memory_the_same_traffic_reads_as_a_vertical_scan() -> None:
    """The case above is the one the memory exists for (else the test above would prove nothing)."""
    assert "WRONG_DESTINATION_ADDRESS" in await _findings(disable_memory=True)


async def test_a_ue_probed_by_internet_scanners_is_not_flagged_as_one() -> None:
    assert await _findings(disable_memory=False, period=_probed) == set()


async def test_without_the_unsolicited_mark_the_probes_read_as_the_ue_scanning() -> None:
    """The case above is the one the ``unsolicited`` mark exists for."""
    assert "WRONG_DESTINATION_ADDRESS" in await _findings(disable_memory=True, period=_probed)


def test_marks_what_the_ue_only_received_and_never_remembers_it_as_answered() -> None:
    memory = AnsweredFlows(lookback_s=60.0)
    probe = _flows([7], bwd=1).with_columns(pl.lit(0).alias("pkts_fwd"))
    first = memory.mark(probe, now=10.0)
    assert first["unsolicited"].to_list() == [True]
    assert memory.mark(probe, now=20.0)["answered_before"].to_list() == [False], "a probe is no conversation"
    spoke = _flows([8], bwd=0).with_columns(pl.lit(1).alias("pkts_fwd"))
    memory.mark(spoke, now=30.0)
    reply = _flows([8], bwd=2).with_columns(pl.lit(0).alias("pkts_fwd"))
    assert memory.mark(reply, now=40.0)["unsolicited"].to_list() == [False], "the answer to what the UE sent"


def _flows(ports: list[int], bwd: int, t: float = 0.0) -> pl.DataFrame:
    return pl.DataFrame({"start_ts": [t] * len(ports), "src_ip": [UE] * len(ports), "src_port": [5060] * len(ports),
                         "dst_ip": [PEER] * len(ports), "dst_port": ports, "proto": ["tcp"] * len(ports),
                         "pkts_bwd": [bwd] * len(ports)})


def test_marks_conversations_answered_in_an_earlier_call_only() -> None:
    memory = AnsweredFlows(lookback_s=60.0)
    first = memory.mark(_flows([1, 2], bwd=3), now=10.0)
    assert first["answered_before"].to_list() == [False, False], "answered now, not before"
    later = memory.mark(_flows([1, 2, 3], bwd=0), now=20.0)
    assert later["answered_before"].to_list() == [True, True, False]


def test_forgets_after_the_lookback_and_keeps_at_most_max_keys() -> None:
    memory = AnsweredFlows(lookback_s=60.0, max_keys=3)
    memory.mark(_flows([1], bwd=1), now=0.0)
    memory.mark(_flows([2, 3, 4], bwd=1), now=50.0)
    assert len(memory) == 3, "bounded: the oldest went first"
    marked: dict[str, Any] = memory.mark(_flows([1, 2], bwd=0), now=100.0).to_dict(as_series=False)
    assert marked["answered_before"] == [False, True]
    assert memory.mark(_flows([2], bwd=0), now=200.0)["answered_before"].to_list() == [False], "past the lookback"
