"""A subscription naming one UE by ``ueIpAddress`` (IPv4 address, IPv6 address or IPv6 prefix) reports that UE only."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.unit.nf.upf.helpers import Subscriber, packets, subscription

from nwdaf.nf.upf.processor import create_subscription
from nwdaf.nf.upf.reporting import reporting_tick
from nwdaf.nf.upf.service import UpfService, process_batch
from nwdaf.platform.models.upf_ee import CreateEventSubscription

pytestmark = pytest.mark.unit

T0 = 1_700_000_000 * 10**9
V4_A, V4_B = "10.60.0.11", "10.60.0.12"
V6_C, V6_D = "2001:db8:0:1::/64", "2001:db8:0:2::/64"
SERVER_V4, SERVER_V6 = "10.61.0.10", "2001:db8:ff::1"
PER_FLOW = {"type": "USER_DATA_USAGE_MEASURES", "measurementTypes": ["VOLUME_MEASUREMENT"],
            "granularityOfMeasurement": "PER_FLOW"}


def _ue(item: dict[str, Any]) -> str:
    return str(item.get("ueIpv4Addr") or item["ueIpv6Prefix"])


async def _report(upf: UpfService, subscriber: Subscriber, target: dict[str, str], level: str,
                  *, traffic: bool = True) -> list[dict[str, Any]]:
    """Four UEs (two IPv4, two IPv6), each with traffic; one report of a subscription targeting ``target``."""
    table = upf.ctx.sessions
    table.establish("imsi-001010000000001", ue_ipv4=V4_A)
    table.establish("imsi-001010000000002", ue_ipv4=V4_B)
    table.establish("imsi-001010000000003", ue_ipv6_prefix=V6_C)
    table.establish("imsi-001010000000004", ue_ipv6_prefix=V6_D)
    body = subscription(anyUe=False, ueIpAddress=target, eventList=[{**PER_FLOW, "granularityOfMeasurement": level}])
    await create_subscription(upf.ctx, CreateEventSubscription.model_validate(body))
    if traffic:
        for n, (ue, server) in enumerate([(V4_A, SERVER_V4), (V4_B, SERVER_V4), ("2001:db8:0:1::5", SERVER_V6),
                                          ("2001:db8:0:2::5", SERVER_V6)], start=1):
            process_batch(upf.ctx, packets(ue, server, n, t0_ns=T0))
            process_batch(upf.ctx, packets(ue, server, n, t0_ns=T0, uplink=False))
    else:
        upf.ctx.clock.observe(T0)
    assert await reporting_tick(upf.ctx)
    for channel in list(upf.ctx.notifier.channels.values()):
        await asyncio.wait_for(channel.wait_idle(), 5)
    return [item for note in subscriber.received for item in note["notificationItems"]]


@pytest.mark.parametrize("level", ["PER_SESSION", "PER_FLOW", "PER_APPLICATION"])
@pytest.mark.parametrize(("target", "ue", "packets_each_way"), [
    ({"ipv4Addr": V4_B}, V4_B, 2),
    ({"ipv6Addr": "2001:db8:0:1::5"}, V6_C, 3),
    ({"ipv6Addr": "2001:db8:0:1::ffff"}, V6_C, 3),  # any address inside the UE's /64
    ({"ipv6Prefix": V6_D}, V6_D, 4),
])
async def test_only_the_targeted_ue_is_reported(
    upf: UpfService, subscriber: Subscriber, target: dict[str, str], ue: str, packets_each_way: int, level: str
) -> None:
    items = await _report(upf, subscriber, target, level)
    assert [_ue(i) for i in items] == [ue]
    (measurement,) = items[0]["userDataUsageMeasurements"]
    volume = measurement["volumeMeasurement"]
    assert (volume["ulNbOfPackets"], volume["dlNbOfPackets"]) == (packets_each_way, packets_each_way)
    assert volume["totalVolume"] == f"{2 * packets_each_way} kB"


@pytest.mark.parametrize("target", [{"ipv4Addr": "10.60.0.99"}, {"ipv6Addr": "2001:db8:0:3::1"},
                                    {"ipv6Prefix": "2001:db8:0:3::/64"}])
async def test_an_address_no_session_holds_reports_nothing(
    upf: UpfService, subscriber: Subscriber, target: dict[str, str]
) -> None:
    assert await _report(upf, subscriber, target, "PER_SESSION") == []
    assert subscriber.received == []


@pytest.mark.parametrize(("target", "ue"), [({"ipv4Addr": V4_A}, V4_A), ({"ipv6Prefix": V6_C}, V6_C)])
async def test_an_idle_targeted_ue_is_reported_alone(
    upf: UpfService, subscriber: Subscriber, target: dict[str, str], ue: str
) -> None:
    items = await _report(upf, subscriber, target, "PER_FLOW", traffic=False)
    assert [(_ue(i), "userDataUsageMeasurements" in i) for i in items] == [(ue, False)]
