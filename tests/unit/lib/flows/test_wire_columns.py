"""Property: the whole-column parsers give, row for row, what the scalar parsers give (value, or an error where
the scalar parser raises), on well-formed strings, near misses and random text; through the vectorised path and
through the memoised one-by-one path alike."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nwdaf.lib.flows import wire_columns as wc
from nwdaf.platform.models.flows import FlowDescriptionError, parse_flow_description
from nwdaf.platform.models.units import (
    UnitFormatError,
    parse_bit_rate,
    parse_packet_rate,
    parse_traffic_volume,
)

pytestmark = pytest.mark.unit

_DIGITS = st.text("0123456789", min_size=1, max_size=22)
_NUMBER = st.one_of(_DIGITS, st.builds(lambda a, b: f"{a}.{b}", _DIGITS, _DIGITS))
_NOISE = st.text(st.sampled_from("0123456789. kKMGTBbpsx-e+"), max_size=14)


def _unit_texts(units: tuple[str, ...]) -> st.SearchStrategy[str]:
    good = st.builds(lambda n, u: f"{n} {u}", _NUMBER, st.sampled_from(units))
    return st.one_of(good, good, good, _NOISE, st.text(max_size=10),
                     st.builds(lambda n, u: f"{n}  {u}", _NUMBER, st.sampled_from(units)))


def _expected(parse: Any, text: str | None) -> tuple[Any, bool]:
    if text is None:
        return None, False
    try:
        value = parse(text)
    except (UnitFormatError, FlowDescriptionError):
        return None, True
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        return None, True
    return value, False


def _check(parse: Any, column: Any, texts: list[str | None]) -> None:
    got = column(pl.Series(texts, dtype=pl.String))
    values, errors = got.values.to_list(), got.errors.to_list()
    for text, value, error in zip(texts, values, errors, strict=True):
        want, bad = _expected(parse, text)
        assert (value, error is not None) == (want, bad), text


CASES = [
    (parse_traffic_volume, wc.traffic_volumes, ("B", "kB", "MB", "GB", "TB")),
    (parse_bit_rate, wc.bit_rates, ("bps", "Kbps", "Mbps", "Gbps", "Tbps")),
    (parse_packet_rate, wc.packet_rates, ("pps", "kpps", "Mpps", "Gpps", "Tpps")),
]


@pytest.mark.parametrize(("parse", "column", "units"), CASES, ids=["volume", "bit_rate", "packet_rate"])
def test_unit_columns_match_the_scalar_parsers(parse: Any, column: Any, units: tuple[str, ...]) -> None:
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.one_of(st.none(), _unit_texts(units)), max_size=40))
    def check(texts: list[str | None]) -> None:
        _check(parse, column, texts)

    check()


def test_volume_rounding_and_edges_by_hand() -> None:
    texts = ["11.4 kB", "1.5 B", "2.5 B", "0.0005 kB", "0.0015 kB", "1.2345 kB", "1.23450001 kB", "007 MB",
             "9223372036854775807 B", "9223372036854775808 B", "1 EB", "1,5 kB", " 1 B", "1.5 Mbps"]
    _check(parse_traffic_volume, wc.traffic_volumes, texts)
    values = wc.traffic_volumes(pl.Series(texts[:6])).values.to_list()
    assert values == [11400, 2, 2, 0, 2, 1234]  # half to even, as Decimal does


def test_rates_by_hand() -> None:
    texts = ["1.1 Kbps", "143.04 Kbps", "1.858 Mbps", "0.1 bps", "3 Tbps", "1.0000000000000000001 Gbps", "1 kbps"]
    _check(parse_bit_rate, wc.bit_rates, texts)
    assert wc.bit_rates(pl.Series(texts[:2])).values.to_list() == [1100.0, 143040.0]


_V4 = st.builds(lambda o: ".".join(map(str, o)), st.lists(st.integers(0, 300), min_size=4, max_size=4))
_V6 = st.sampled_from(["2001:db8::1", "2001:db8:5::/64", "::", "::1", "fe80::1:2:3:4", "2001:DB8:0:0:8:800:200C:417A",
                       "1:2:3:4:5:6:7::", "1::2:3:4:5:6:7", "::ffff:1.2.3.4", "1:::2", "2001:db8::/129", "g::1",
                       "1:2:3:4:5:6:7:8:9", "2606:4700::1111"])
_ADDR = st.one_of(_V4, st.builds(lambda a, p: f"{a}/{p}", _V4, st.integers(0, 40)), _V6,
                  st.sampled_from(["any", "assigned", "host", "10.0.0.0/08", "1.2.3.4/255.0.0.0", "01.2.3.4"]))
_PORTS = st.one_of(st.none(), st.integers(0, 70000).map(str), st.sampled_from(["80-90", "1,2,3", "5-", "00080"]))
_PROTO = st.sampled_from(["6", "17", "1", "58", "0", "255", "256", "017", "ip", "tcp", "udp", "icmp", "ipv6-icmp",
                          "TCP", "gre", "47"])


def _flow(proto: str, src: str, sp: str | None, dst: str, dp: str | None, form: str) -> str:
    text = f"permit out {proto} from {src}{'' if sp is None else ' ' + sp} to {dst}{'' if dp is None else ' ' + dp}"
    return {"ok": text, "in": text.replace("permit out", "permit in"), "spaces": text.replace(" to ", "  to "),
            "tail": text + " ", "opt": text + " setup"}[form]


_FLOWS = st.builds(_flow, _PROTO, _ADDR, _PORTS, _ADDR, _PORTS,
                   st.sampled_from(["ok", "ok", "ok", "ok", "in", "spaces", "tail", "opt"]))


def _scalar_parts(text: str) -> tuple[Any, ...] | None:
    try:
        f = parse_flow_description(text)
    except FlowDescriptionError:
        return None
    return f.protocol, f.src, f.src_ports, f.dst, f.dst_ports


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_FLOWS, st.text(max_size=30), st.none()), max_size=30))
def test_flow_descriptions_match_the_scalar_parser(texts: list[str | None]) -> None:
    parts = wc.flow_descriptions(pl.Series(texts, dtype=pl.String))
    rows = parts.select("proto", "src_ip", "src_ports", "dst_ip", "dst_ports").rows()
    for text, row, error in zip(texts, rows, parts["error"].to_list(), strict=True):
        if text is None:
            assert (row, error) == ((None,) * 5, None)
            continue
        want = _scalar_parts(text)
        assert (row if error is None else None) == want, text


def test_flow_description_names_the_protocol_as_the_flow_records_do() -> None:
    texts = ["permit out 17 from 10.45.0.2 5000 to 8.8.8.8 53", "permit out ip from 10.0.0.0/8 to 1.2.3.4",
             "permit out 017 from 1.1.1.1 to 2.2.2.2", "permit out 200 from 1.1.1.1 to 2.2.2.2",
             "permit out tcp from 2001:db8::1 80-90 to assigned", "permit out 6 from ::ffff:1.2.3.4 to any 443"]
    parts = wc.flow_descriptions(pl.Series(texts))
    assert parts["proto_name"].to_list() == ["udp", "ip", "udp", "200", "tcp", "tcp"]
    assert parts["proto"].to_list() == [17, None, 17, 200, 6, 6]
    assert parts["src_ports"].to_list() == ["5000", None, None, None, "80-90", None]
    assert parts["error"].null_count() == len(texts)


MEMO_CASES = {
    "volume": (["11.4 kB", "1.5 B", "x", None, "3 TB"], [False, False, True, False, False]),
    "bit_rate": (["1.5 Mbps", "2 Kbps", "2 kbps", None], [False, False, True, False]),
    "packet_rate": (["10 kpps", "1.5 pps", "", None], [False, False, True, False]),
    "flow": (["permit out 6 from 1.1.1.1 80 to 10.45.0.2 4000", "deny", None,
              "permit out 17 from 2001:db8::1 1-9 to assigned"], [False, True, False, False]),
}


@pytest.mark.parametrize("kind", list(MEMO_CASES))
def test_memoised_parsers_agree_one_by_one_and_vectorised(kind: str) -> None:
    texts, bad = MEMO_CASES[kind]
    one_by_one = wc.parsers()[kind](texts)
    many = texts * (wc.VECTOR_MIN // len(texts) + 1) + [f"pad{i}" for i in range(wc.VECTOR_MIN)]
    vectorised = wc.parsers()[kind](many)
    assert vectorised[: len(texts)] == one_by_one
    assert [e is not None for _, e in one_by_one] == bad
    memo = wc.parsers()[kind]
    assert memo(texts) == memo(texts) == one_by_one  # the second call answers from the memo
