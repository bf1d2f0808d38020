"""The UPF's ``dataset:`` source on the real flow files of ../shared/datasets: every packet the records stand for is
forwarded, accounted and reported to a subscriber (notifications valid against the 3GPP YAML where it is present),
the flow initiators are the UEs, and the labels stay with the source."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import polars as pl
import pytest
from tests.support.datasets import DATASETS, needs_datasets

from nwdaf.lib.flows import read_flows
from nwdaf.nf.upf.config import UpfConfig
from nwdaf.nf.upf.processor import create_subscription
from nwdaf.nf.upf.reporting import reporting_tick
from nwdaf.nf.upf.service import create_upf_service, pump
from nwdaf.nf.upf.sources import DatasetSource
from nwdaf.nf.upf.state import DataClock
from nwdaf.platform.models.openapi import OpenApiUnavailable, SpecValidator
from nwdaf.platform.models.upf_ee import CreateEventSubscription
from nwdaf.platform.sbi import SbiClient

pytestmark = [pytest.mark.integration, needs_datasets]

IOT23 = "zeek:iot23_ctu_iot_malware_capture_34_1/conn.log.labeled.gz"
CTU13 = "binetflow:ctu13_sc11_sc12_botnet_only/capture20110818-2.botnet_only.binetflow.gz"
NOTIFICATION = "TS29564_Nupf_EventExposure.yaml#/components/schemas/NotificationData"


def _spec(name: str) -> str:
    fmt, _, rel = name.partition(":")
    if not (DATASETS / rel).is_file():
        pytest.skip(f"{DATASETS / rel} is absent from the datasets folder")
    return f"{fmt}:{DATASETS / rel}"


async def _run(spec: str) -> tuple[DatasetSource, list[dict[str, Any]], Any]:
    """Replay ``spec`` through a UPF with an any-UE per-session subscription; one report after the replay."""
    received: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        received.append(orjson.loads(request.content))
        return httpx.Response(204)

    svc = create_upf_service(UpfConfig(source=f"dataset:{spec}", learn_sessions=True, notify_backoff_s=0.0),
                             SbiClient(transport=httpx.MockTransport(handler)))
    svc.ctx.clock = DataClock(live=False)
    body = {"subscription": {
        "eventList": [{"type": "USER_DATA_USAGE_MEASURES", "measurementTypes": ["VOLUME_MEASUREMENT"],
                       "granularityOfMeasurement": "PER_SESSION"}],
        "eventNotifyUri": "http://nwdaf.test/notify", "notifyCorrelationId": "real",
        "eventReportingMode": {"trigger": "PERIODIC", "repPeriod": 1},
        "nfId": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "anyUe": True}}
    await create_subscription(svc.ctx, CreateEventSubscription.model_validate(body))
    assert isinstance(svc.source, DatasetSource)
    svc.source.prepare(svc.ctx.sessions)
    await pump(svc.ctx, svc.source, asyncio.Event())
    assert svc.ctx.pump.source_done, svc.ctx.pump.source_error
    assert await reporting_tick(svc.ctx)
    for channel in list(svc.ctx.notifier.channels.values()):
        await asyncio.wait_for(channel.wait_idle(), 30)
    await svc.ctx.notifier.close_all()
    return svc.source, received, svc.ctx


def _reported(notes: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    out = {}
    for item in (i for n in notes for i in n["notificationItems"]):
        v = item["userDataUsageMeasurements"][0]["volumeMeasurement"]
        out[item["ueIpv4Addr"]] = (v["ulNbOfPackets"], v["dlNbOfPackets"])
    return out


def _validate(notes: list[dict[str, Any]]) -> None:
    try:
        spec = SpecValidator()
    except OpenApiUnavailable:
        return
    for note in notes:
        assert spec.errors(note, NOTIFICATION) == []


def _per_ue(flows: pl.DataFrame) -> dict[str, list[int]]:
    """(UL, DL) packets per initiator, by the data plane's rule: a packet is its sender's uplink when the sender is
    a UE and its receiver's downlink when the receiver is one (a packet between two UEs is both)."""
    ues = set(flows["src_ip"].to_list())
    out: dict[str, list[int]] = {ue: [0, 0] for ue in ues}
    for src, dst, fwd, bwd in flows.select("src_ip", "dst_ip", "pkts_fwd", "pkts_bwd").iter_rows():
        out[src][0] += fwd
        out[src][1] += bwd
        if dst in ues:
            out[dst][0] += bwd
            out[dst][1] += fwd
    return out


async def test_iot23_conn_log_replayed_and_reported_per_ue() -> None:
    spec = _spec(IOT23)
    flows = read_flows(spec).filter((pl.col("pkts_total") > 0) | (pl.col("bytes_total") > 0))
    source, notes, ctx = await _run(spec)
    assert (source.stats.records, source.stats.packets) == (flows.height, flows["pkts_total"].sum())
    assert source.stats.empty == 14_260, "IoT-23's DDoS OTH records carry no packet"
    assert ctx.pump.forwarded == ctx.accounting.packets == source.stats.packets
    assert ctx.pump.unmatched == 0
    assert {ip: list(v) for ip, v in _reported(notes).items()} == _per_ue(flows)
    assert source.host_labels() == {"192.168.1.195": "malicious", "192.168.1.1": "benign"}
    assert b"alicious" not in orjson.dumps(notes)
    _validate(notes)


async def test_ctu13_binetflow_public_bot_addresses_become_ues() -> None:
    spec = _spec(CTU13)
    flows = read_flows(spec)
    source, notes, ctx = await _run(spec)
    assert source.stats.packets == flows["pkts_total"].sum() == ctx.accounting.packets
    assert ctx.accounting.bytes == flows["bytes_total"].sum()
    reported = _reported(notes)
    assert set(reported) == set(flows["src_ip"].unique()), "the three bots, though their addresses are public"
    assert sum(ul + dl for ul, dl in reported.values()) == source.stats.packets
    assert set(source.host_labels().values()) == {"malicious"}
    _validate(notes)
