"""Flow description strings (IPFilterRule as profiled by TS 29.212 clause 5.4.2)."""

from __future__ import annotations

import pytest

from nwdaf.platform.models import FlowDescriptionError, IpFlow, format_flow_description, parse_flow_description

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("flow", "text"),
    [
        (
            IpFlow(17, "142.250.1.1", "10.42.0.2", "443", "50000"),
            "permit out 17 from 142.250.1.1 443 to 10.42.0.2 50000",
        ),
        (IpFlow(None, "any", "assigned"), "permit out ip from any to assigned"),
        (
            IpFlow(6, "192.0.2.0/24", "10.42.0.2", "8000-8080,9000"),
            "permit out 6 from 192.0.2.0/24 8000-8080,9000 to 10.42.0.2",
        ),
        (
            IpFlow(58, "2001:db8::1", "2001:db8:abcd:12::/64", None, "5001"),
            "permit out 58 from 2001:db8::1 to 2001:db8:abcd:12::/64 5001",
        ),
    ],
)
def test_format_and_parse_round_trip(flow: IpFlow, text: str) -> None:
    assert format_flow_description(flow) == text
    assert parse_flow_description(text) == flow


def test_parse_accepts_common_protocol_names() -> None:
    assert parse_flow_description("permit out udp from any to assigned 53").protocol == 17
    assert parse_flow_description("permit out tcp from any 443 to assigned").protocol == 6


@pytest.mark.parametrize(
    "text",
    [
        "deny out 17 from any to assigned",
        "permit in 17 from any to assigned",
        "permit out 17 from any to assigned 53 frag",
        "permit out 256 from any to assigned",
        "permit out sctp-ish from any to assigned",
        "permit out 17 from 10.0.0.300 to assigned",
        "permit out 17 from assigned to any",
        "permit out 17 from any to assigned 70000",
        "permit out 17 from any to assigned 1-",
        "permit out 17  from any to assigned",
        "",
    ],
)
def test_parse_rejects_what_ts_29212_does_not_allow(text: str) -> None:
    with pytest.raises(FlowDescriptionError):
        parse_flow_description(text)


@pytest.mark.parametrize(
    "flow",
    [IpFlow(300, "any", "assigned"), IpFlow(6, "example.org", "assigned"), IpFlow(6, "any", "10.0.0.1", "http")],
)
def test_format_rejects_bad_parts(flow: IpFlow) -> None:
    with pytest.raises(FlowDescriptionError):
        format_flow_description(flow)
