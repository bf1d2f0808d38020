"""Property: whatever a line holds, each importer either parses it into a valid flow row or counts it as a skip;
nothing else is raised and no line is lost (hypothesis: random text and mutations of real-looking lines)."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nwdaf.lib.flows import BadRowError, SkipReport, read_flows

pytestmark = pytest.mark.unit

ARGUS = (
    "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes,Label",
    "2011/08/18 15:47:57.983212,0.000197,udp,147.32.84.165,1025,  <->,147.32.80.9,53,CON,0,0,2,203,64,"
    "flow=From-Botnet-V52-1-UDP-DNS",
    ",",
)
ZEEK_FIELDS = ("ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration orig_bytes resp_bytes "
               "conn_state local_orig local_resp missed_bytes history orig_pkts orig_ip_bytes resp_pkts "
               "resp_ip_bytes tunnel_parents label detailedlabel")
ZEEK = (
    "#separator \\x09\n#empty_field\t(empty)\n#unset_field\t-\n#fields\t" + ZEEK_FIELDS.replace(" ", "\t"),
    "1655071198.444458 C1 147.32.81.167 62771 40.74.108.123 443 tcp ssl 1.135424 1596 4039 SF T F 5138 "
    "ShADdaFf 14 1016 16 1226 (empty) Benign Microsoft".replace(" ", "\t"),
    "\t",
)
CICFLOW = (
    "Src IP,Src Port,Dst IP,Dst Port,Protocol,Timestamp,Flow Duration,Total Fwd Packet,Total Bwd packets,"
    "Total Length of Fwd Packet,Total Length of Bwd Packet,Flow Bytes/s,Label,Attempted Category",
    "192.168.10.5,53709,205.174.165.73,8080,6,2017-07-07 13:39:36.267908,81379,5,4,196,128,3981.37,Botnet,-1",
    ",",
)
NFSTREAM = (
    "src_ip,dst_ip,src_port,dst_port,protocol,bidirectional_first_seen_ms,bidirectional_duration_ms,"
    "src2dst_packets,dst2src_packets,src2dst_bytes,dst2src_bytes,application_name,label",
    "10.0.0.1,10.0.0.2,41000,443,6,1700000000000,1500,10,8,1200,9000,TLS.Google,benign",
    ",",
)
FORMATS = {"binetflow": ARGUS, "zeek": ZEEK, "cicflow": CICFLOW, "nfstream": NFSTREAM}

# Text without line breaks or control characters (Python and polars agree on what a blank line is).
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")) | st.sampled_from("\t,\"' -"),
               max_size=60)
FIELD = st.one_of(
    TEXT,
    st.sampled_from(["", "-", "(empty)", "0x0303", "0x2020597d", "0xzz", "-5", "65536", "1e400", "NaN", "Infinity",
                     "inf", "99999999999999999999999", "::1", "0:1e:49:db:19:c3", "  <?>", "who", '"a,b"', "\\x09"]),
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)


@st.composite
def line(draw: st.DrawFn, fmt: str) -> str:
    _, good, sep = FORMATS[fmt]
    sep = sep if sep != "," else ","
    fields = good.split(sep)
    kind = draw(st.sampled_from(["random", "mutate", "mutate", "drop", "extra", "good"]))
    if kind == "random":
        return draw(TEXT)
    if kind == "good":
        return good
    if kind == "drop":
        del fields[draw(st.integers(0, len(fields) - 1))]
    elif kind == "extra":
        fields.insert(draw(st.integers(0, len(fields))), draw(FIELD))
    else:
        for _ in range(draw(st.integers(1, 3))):
            fields[draw(st.integers(0, len(fields) - 1))] = draw(FIELD)
    return sep.join(fields)


def _rows(fmt: str, lines: list[str]) -> int:
    """Lines that are rows: not blank and, for Zeek, not a ``#`` directive."""
    return sum(1 for x in lines if x.strip() and not (fmt == "zeek" and x.startswith("#")))


def _check_valid(flows: pl.DataFrame) -> None:
    assert flows["start_ts"].is_not_null().all()
    assert all(math.isfinite(t) for t in flows["start_ts"].to_list())
    for col in ("src_ip", "dst_ip", "proto"):
        assert flows[col].is_not_null().all()
    for col in ("src_port", "dst_port"):
        assert flows[col].drop_nulls().is_between(0, 65535).all()
    for col in ("pkts_total", "bytes_total", "pkts_fwd", "pkts_bwd", "bytes_fwd", "bytes_bwd", "duration_s"):
        assert (flows[col].drop_nulls() >= 0).all(), col


@pytest.mark.parametrize("fmt", list(FORMATS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_line_parses_or_is_a_counted_skip(fmt: str, data: st.DataObject) -> None:
    lines = data.draw(st.lists(line(fmt), min_size=1, max_size=12))
    if fmt == "zeek":
        lines = [x for x in lines if not x.startswith("#")]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"f.{fmt}"
        path.write_text("\n".join([FORMATS[fmt][0], *lines]) + "\n", encoding="utf-8")
        skips = SkipReport()
        flows = read_flows(f"{fmt}:{path}", skips=skips)
        assert skips.total_rows == _rows(fmt, lines)
        assert flows.height + skips.skipped == skips.total_rows
        _check_valid(flows)
        if skips.skipped:
            with pytest.raises(BadRowError) as exc:
                read_flows(f"{fmt}:{path}", strict=True)
            assert exc.value.line is not None
        else:
            assert read_flows(f"{fmt}:{path}", strict=True).height == flows.height
