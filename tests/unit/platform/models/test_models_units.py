"""TrafficVolume / BitRate / PacketRate string helpers (TS 29.571)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from nwdaf.platform.models.units import (
    BIT_RATE_PATTERN,
    PACKET_RATE_PATTERN,
    TRAFFIC_VOLUME_PATTERN,
    UnitFormatError,
    format_bit_rate,
    format_packet_rate,
    format_traffic_volume,
    parse_bit_rate,
    parse_packet_rate,
    parse_traffic_volume,
)

pytestmark = pytest.mark.unit

# The patterns exactly as written in TS29571_CommonData.yaml, to check our output against the spec's text.
YAML_VOLUME = re.compile(r"^\d+(\.\d+)? (B|kB|MB|GB|TB)$")
YAML_BIT_RATE = re.compile(r"^\d+(\.\d+)? (bps|Kbps|Mbps|Gbps|Tbps)$")
YAML_PACKET_RATE = re.compile(r"^\d+(\.\d+)? (pps|kpps|Mpps|Gpps|Tpps)$")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0 B", 0),
        ("1500 B", 1500),
        ("1.5 kB", 1500),
        ("2.5 MB", 2_500_000),
        ("1 GB", 10**9),
        ("3 TB", 3 * 10**12),
        ("1.234567 MB", 1_234_567),
        ("0.5 B", 0),
        ("1.5 B", 2),
        ("007 kB", 7000),
    ],
)
def test_parse_traffic_volume(text: str, expected: int) -> None:
    assert parse_traffic_volume(text) == expected


@pytest.mark.parametrize(
    ("n_bytes", "expected"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1 kB"),
        (1500, "1.5 kB"),
        (1_234_567, "1.234567 MB"),
        (2_500_000, "2.5 MB"),
        (10**15, "1000 TB"),
    ],
)
def test_format_traffic_volume(n_bytes: int, expected: str) -> None:
    assert format_traffic_volume(n_bytes) == expected


@pytest.mark.parametrize("n_bytes", [0, 1, 7, 999, 1000, 1001, 123_456_789, 10**12 + 1, 2**63 - 1, 10**20])
def test_traffic_volume_round_trip_is_exact_and_matches_yaml(n_bytes: int) -> None:
    text = format_traffic_volume(n_bytes)
    assert YAML_VOLUME.match(text)
    assert parse_traffic_volume(text) == n_bytes


@pytest.mark.parametrize(
    ("text", "expected"),
    [("100 Mbps", 1e8), ("1.5 Kbps", 1500.0), ("1344 bps", 1344.0), ("2 Gbps", 2e9), ("0.001 Tbps", 1e9)],
)
def test_parse_bit_rate(text: str, expected: float) -> None:
    assert parse_bit_rate(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("bps", "expected"),
    [
        (0, "0 bps"),
        (1344, "1.344 Kbps"),
        (1500.0, "1.5 Kbps"),
        (100e6, "100 Mbps"),
        (999_999.9, "1 Mbps"),
        (0.25, "0.25 bps"),
        (123_456_789.123, "123.457 Mbps"),
        (5e15, "5000 Tbps"),
    ],
)
def test_format_bit_rate(bps: float, expected: str) -> None:
    assert format_bit_rate(bps) == expected


def test_bit_rate_prefix_is_capital_k_but_packet_rate_is_small_k() -> None:
    assert format_bit_rate(2000) == "2 Kbps"
    assert format_packet_rate(2000) == "2 kpps"
    with pytest.raises(UnitFormatError):
        parse_bit_rate("2 kbps")
    with pytest.raises(UnitFormatError):
        parse_packet_rate("2 Kpps")


def test_format_rate_decimals_control_precision() -> None:
    assert format_bit_rate(1319.3333, decimals=0) == "1 Kbps"
    assert format_bit_rate(1319.3333, decimals=6) == "1.319333 Kbps"
    assert format_packet_rate(12.345, decimals=1) == "12.3 pps"
    with pytest.raises(UnitFormatError, match="decimals"):
        format_bit_rate(1.0, decimals=-1)


@pytest.mark.parametrize("value", [0, 1e-9, 0.4, 7, 999.9996, 1000, 65_432.1, 1e9 + 1, 3.3e13, 1e20])
def test_rates_always_match_yaml_and_round_trip_within_rounding(value: float) -> None:
    bits, packets = format_bit_rate(value), format_packet_rate(value)
    assert YAML_BIT_RATE.match(bits)
    assert YAML_PACKET_RATE.match(packets)
    assert parse_bit_rate(bits) == pytest.approx(value, rel=5e-4, abs=5e-4)
    assert parse_packet_rate(packets) == pytest.approx(value, rel=5e-4, abs=5e-4)


def test_parse_packet_rate() -> None:
    assert parse_packet_rate("10 kpps") == 10_000.0
    assert parse_packet_rate("2 pps") == 2.0
    assert parse_packet_rate("1.5 Mpps") == 1.5e6


@pytest.mark.parametrize(
    "text",
    [
        "1000B",
        "1 kb",
        "1 KB",
        "-1 B",
        "1e3 B",
        " 1 B",
        "1 B ",
        "1  B",
        "1.5 B\n",
        ".5 B",
        "5. B",
        "1,5 kB",
        "",
        "\u0661 B",
        "1 bps",
        None,
        5,
    ],
)
def test_parse_traffic_volume_rejects_bad_input(text: object) -> None:
    with pytest.raises(UnitFormatError, match="TrafficVolume"):
        parse_traffic_volume(text)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["1344bps", "1.5 kbps", "1 Bps", "1 Mb/s", "1 B", "NaN bps"])
def test_parse_bit_rate_rejects_bad_input(text: str) -> None:
    with pytest.raises(UnitFormatError, match="BitRate"):
        parse_bit_rate(text)


@pytest.mark.parametrize("text", ["2pps", "2 PPS", "2 Kpps", "2 pkt/s"])
def test_parse_packet_rate_rejects_bad_input(text: str) -> None:
    with pytest.raises(UnitFormatError, match="PacketRate"):
        parse_packet_rate(text)


@pytest.mark.parametrize("value", [-1, -0.5, float("nan"), float("inf"), True, "100", None, Decimal("NaN")])
def test_format_rejects_values_without_representation(value: object) -> None:
    with pytest.raises(UnitFormatError):
        format_bit_rate(value)  # type: ignore[arg-type]
    with pytest.raises(UnitFormatError):
        format_packet_rate(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [1.5, -1, True, "1500"])
def test_format_traffic_volume_needs_whole_non_negative_bytes(value: object) -> None:
    with pytest.raises(UnitFormatError, match="TrafficVolume"):
        format_traffic_volume(value)  # type: ignore[arg-type]


def test_published_patterns_are_the_yaml_patterns_with_ascii_digits() -> None:
    assert TRAFFIC_VOLUME_PATTERN.replace("[0-9]", r"\d") == YAML_VOLUME.pattern
    assert BIT_RATE_PATTERN.replace("[0-9]", r"\d") == YAML_BIT_RATE.pattern
    assert PACKET_RATE_PATTERN.replace("[0-9]", r"\d") == YAML_PACKET_RATE.pattern
