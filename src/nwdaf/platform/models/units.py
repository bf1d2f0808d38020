"""The string forms TS 29.571 gives volumes and rates: ``TrafficVolume`` ("1500 B", "2.5 MB"),
``BitRate`` ("100 Mbps", "1.5 Kbps") and ``PacketRate`` ("10 kpps").

Every prefix is a x1000 multiplier; one space separates number and unit, and the number has no sign or
exponent. ``format_*`` always returns a string matching the YAML pattern; ``parse_*`` rejects anything else with
:class:`UnitFormatError`.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

# The YAML patterns, with [0-9] for \d: JSON Schema regexes are ECMA-262, where \d is ASCII only.
TRAFFIC_VOLUME_PATTERN = r"^[0-9]+(\.[0-9]+)? (B|kB|MB|GB|TB)$"
BIT_RATE_PATTERN = r"^[0-9]+(\.[0-9]+)? (bps|Kbps|Mbps|Gbps|Tbps)$"
PACKET_RATE_PATTERN = r"^[0-9]+(\.[0-9]+)? (pps|kpps|Mpps|Gpps|Tpps)$"

# "K" (not "k") in BitRate is what TS 29.571 specifies; TrafficVolume and PacketRate use "k".
_VOLUME_UNITS = ("B", "kB", "MB", "GB", "TB")
_BIT_RATE_UNITS = ("bps", "Kbps", "Mbps", "Gbps", "Tbps")
_PACKET_RATE_UNITS = ("pps", "kpps", "Mpps", "Gpps", "Tpps")
_THOUSAND = Decimal(1000)


class UnitFormatError(ValueError):
    """A volume or rate string (or number) that has no TS 29.571 representation."""


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern.strip("^$"), re.ASCII)


_VOLUME_RE = _compile(TRAFFIC_VOLUME_PATTERN)
_BIT_RATE_RE = _compile(BIT_RATE_PATTERN)
_PACKET_RATE_RE = _compile(PACKET_RATE_PATTERN)


def _parse(text: object, regex: re.Pattern[str], units: tuple[str, ...], kind: str) -> Decimal:
    if not isinstance(text, str):
        raise UnitFormatError(f"{kind} must be a string such as '1.5 {units[1]}', got {type(text).__name__}")
    match = regex.fullmatch(text)
    if match is None:
        raise UnitFormatError(
            f"{kind} {text!r} is not '<number> <unit>' with one space and unit one of {', '.join(units)} (TS 29.571)"
        )
    number, unit = text.split(" ")
    return Decimal(number) * _THOUSAND ** units.index(unit)


def _decimal(value: object, kind: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise UnitFormatError(f"{kind} must be a number, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise UnitFormatError(f"{kind} must be finite, got {value}")
    try:
        result = Decimal(value) if not isinstance(value, float) else Decimal(repr(value))
    except InvalidOperation as exc:
        raise UnitFormatError(f"{kind} {value!r} is not a number") from exc
    if not result.is_finite():
        raise UnitFormatError(f"{kind} must be finite, got {value}")
    if result < 0:
        raise UnitFormatError(f"{kind} cannot be negative, got {value}")
    return result


def _format(value: Decimal, units: tuple[str, ...], decimals: int | None) -> str:
    """Largest unit that keeps the number >= 1; ``decimals=None`` keeps every digit (exact)."""
    if decimals is not None and decimals < 0:
        raise UnitFormatError(f"decimals must be >= 0, got {decimals}")
    exponent = 0
    while exponent < len(units) - 1 and value >= _THOUSAND ** (exponent + 1):
        exponent += 1
    while True:
        scaled = value / _THOUSAND**exponent
        if decimals is not None:
            scaled = scaled.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)
        if scaled < _THOUSAND or exponent == len(units) - 1:
            break
        exponent += 1  # 999.9996 Kbps rounds to 1000.000: say 1 Mbps instead
    text = format(scaled, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} {units[exponent]}"


def parse_traffic_volume(text: str) -> int:
    """``"2.5 MB"`` -> 2500000 bytes. A fractional byte count ("1.5 B") is rounded half-to-even."""
    value = _parse(text, _VOLUME_RE, _VOLUME_UNITS, "TrafficVolume")
    return int(value.to_integral_value(rounding=ROUND_HALF_EVEN))


def format_traffic_volume(n_bytes: int) -> str:
    """Bytes -> TrafficVolume, exactly (1500 -> ``"1.5 kB"``, 1234567 -> ``"1.234567 MB"``)."""
    if isinstance(n_bytes, bool) or not isinstance(n_bytes, int):
        raise UnitFormatError(f"TrafficVolume needs a whole number of bytes, got {n_bytes!r}")
    return _format(_decimal(n_bytes, "TrafficVolume"), _VOLUME_UNITS, None)


def parse_bit_rate(text: str) -> float:
    """``"1.5 Kbps"`` -> 1500.0 bit/s."""
    return float(_parse(text, _BIT_RATE_RE, _BIT_RATE_UNITS, "BitRate"))


def format_bit_rate(bits_per_second: float, decimals: int = 3) -> str:
    """bit/s -> BitRate in the largest unit keeping the number >= 1, rounded to ``decimals`` places."""
    return _format(_decimal(bits_per_second, "BitRate"), _BIT_RATE_UNITS, decimals)


def parse_packet_rate(text: str) -> float:
    """``"10 kpps"`` -> 10000.0 packets/s."""
    return float(_parse(text, _PACKET_RATE_RE, _PACKET_RATE_UNITS, "PacketRate"))


def format_packet_rate(packets_per_second: float, decimals: int = 3) -> str:
    """packets/s -> PacketRate in the largest unit keeping the number >= 1, rounded to ``decimals`` places."""
    return _format(_decimal(packets_per_second, "PacketRate"), _PACKET_RATE_UNITS, decimals)
