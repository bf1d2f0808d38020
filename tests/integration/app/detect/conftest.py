"""Flow files for ``nwdaf detect`` tests: flow rows written as Argus binetflow, CICFlowMeter CSV or NFStream CSV,
with or without the format's label column(s)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

FlowRow = Mapping[str, Any]
"""``start_ts, duration_s, proto, src_ip, src_port, dst_ip, dst_port, state, pkts_fwd, pkts_bwd, bytes_fwd,
bytes_bwd, label`` (``label``: benign or malicious)."""
FlowWriter = Callable[[str, Sequence[FlowRow], Path, bool], Path]

_PROTO_NUMBERS = {"tcp": 6, "udp": 17, "icmp": 1}


def _time(ts: float, fmt: str) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime(fmt)


def _binetflow(rows: Sequence[FlowRow], labels: bool) -> list[str]:
    header = "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes"
    lines = [header + (",Label" if labels else "")]
    for r in rows:
        label = "flow=From-Botnet-V1-TCP-Scan" if r["label"] == "malicious" else "flow=From-Normal-V1-Web"
        line = (f"{_time(r['start_ts'], '%Y/%m/%d %H:%M:%S.%f')},{r['duration_s']},{r['proto']},{r['src_ip']},"
                f"{r['src_port']},   ->,{r['dst_ip']},{r['dst_port']},{r['state']},0,0,"
                f"{r['pkts_fwd'] + r['pkts_bwd']},{r['bytes_fwd'] + r['bytes_bwd']},{r['bytes_fwd']}")
        lines.append(line + (f",{label}" if labels else ""))
    return lines


def _cicflow(rows: Sequence[FlowRow], labels: bool) -> list[str]:
    header = ("id,Flow ID,Src IP,Src Port,Dst IP,Dst Port,Protocol,Timestamp,Flow Duration,Total Fwd Packet,"
              "Total Bwd packets,Total Length of Fwd Packet,Total Length of Bwd Packet")
    lines = [header + (",Label,Attempted Category" if labels else "")]
    for i, r in enumerate(rows):
        label = "PortScan" if r["label"] == "malicious" else "BENIGN"
        line = (f"{i},f{i},{r['src_ip']},{r['src_port']},{r['dst_ip']},{r['dst_port']},{_PROTO_NUMBERS[r['proto']]},"
                f"{_time(r['start_ts'], '%Y-%m-%d %H:%M:%S.%f')},{round(r['duration_s'] * 1e6)},{r['pkts_fwd']},"
                f"{r['pkts_bwd']},{r['bytes_fwd']},{r['bytes_bwd']}")
        lines.append(line + (f",{label},-1" if labels else ""))
    return lines


def _nfstream(rows: Sequence[FlowRow], labels: bool) -> list[str]:
    header = ("src_ip,dst_ip,src_port,dst_port,protocol,bidirectional_first_seen_ms,bidirectional_duration_ms,"
              "src2dst_packets,dst2src_packets,src2dst_bytes,dst2src_bytes,application_name")
    lines = [header + (",label" if labels else "")]
    for r in rows:
        app = "TLS" if r["dst_port"] == 443 else "Unknown"
        line = (f"{r['src_ip']},{r['dst_ip']},{r['src_port']},{r['dst_port']},{_PROTO_NUMBERS[r['proto']]},"
                f"{round(r['start_ts'] * 1e3)},{round(r['duration_s'] * 1e3)},{r['pkts_fwd']},{r['pkts_bwd']},"
                f"{r['bytes_fwd']},{r['bytes_bwd']},{app}")
        lines.append(line + (f",{r['label']}" if labels else ""))
    return lines


_FORMATS = {"binetflow": _binetflow, "cicflow": _cicflow, "nfstream": _nfstream}


def write_flow_file(fmt: str, rows: Sequence[FlowRow], path: Path, labels: bool) -> Path:
    path.write_text("\n".join(_FORMATS[fmt](rows, labels)) + "\n")
    return path


@pytest.fixture
def write_flows() -> FlowWriter:
    """``write_flows(fmt, rows, path, labels)``: the rows as a ``binetflow``/``cicflow``/``nfstream`` file."""
    return write_flow_file
