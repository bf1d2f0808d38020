"""The UPF data plane's per-flow period reports as processor rows, without the HTTP hop.

Used where packets are processed locally (offline detection on a pcap, training on synthetic traffic). The rows
have the same columns and orientation as :func:`nwdaf.lib.flows.convert.notification_rows` produces from the
UPF's ``NotificationData``, so features computed either way match.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import polars as pl

from nwdaf.lib.dataplane import PacketBatch, PcapReader, SessionTable, UsageAccounting, UsageReport
from nwdaf.lib.dataplane.accounting import AccountingConfig
from nwdaf.lib.dataplane.batch import format_ips
from nwdaf.lib.flows.convert import aggregate_flows, rows_frame
from nwdaf.lib.flows.schema import PROTO_NAMES


def report_rows(report: UsageReport, sessions: SessionTable) -> pl.DataFrame:
    """One row per flow active in the report's period (UE as source, uplink forward)."""
    f = report.flows
    if len(f) == 0:
        return rows_frame([])
    m = f.measures
    supis = [sessions.sessions[i].supi if i >= 0 else None for i in f.session.tolist()]
    return pl.DataFrame({
        "start_ts": report.start_ns / 1e9, "end_ts": report.end_ns / 1e9,
        "duration_s": (m.last_seen_ns - m.first_seen_ns) / 1e9,
        "proto": [PROTO_NAMES.get(p, str(p)) for p in f.proto.tolist()],
        "src_ip": format_ips(f.ue_addr), "src_port": f.ue_port.astype("int32"),
        "dst_ip": format_ips(f.remote_addr), "dst_port": f.remote_port.astype("int32"),
        "pkts_fwd": m.ul_packets.astype("int64"), "pkts_bwd": m.dl_packets.astype("int64"),
        "bytes_fwd": m.ul_bytes.astype("int64"), "bytes_bwd": m.dl_bytes.astype("int64"),
        "supi": supis, "snssai": None, "dnn": None,
    }, schema=rows_frame([]).schema)


def period_reports(batches: Iterable[PacketBatch], sessions: SessionTable, period_s: float,
                   config: AccountingConfig | None = None) -> Iterator[UsageReport]:
    """Account ``batches`` and close a report every ``period_s`` of packet time."""
    acct: UsageAccounting | None = None
    period_ns = int(period_s * 1e9)
    next_cut = 0
    for batch in batches:
        if len(batch) == 0:
            continue
        if acct is None:
            first = int(batch.ts_ns[0])
            acct = UsageAccounting(sessions, config, start_ns=first)
            next_cut = first + period_ns
        while int(batch.ts_ns[-1]) >= next_cut:
            cut = int(batch.ts_ns.searchsorted(next_cut))
            acct.process(batch.take(slice(0, cut)))  # type: ignore[arg-type]
            batch = batch.take(slice(cut, None))  # type: ignore[arg-type]
            yield acct.snapshot_and_reset_period(next_cut)
            next_cut += period_ns
        acct.process(batch)
    if acct is not None:
        yield acct.snapshot_and_reset_period(next_cut)


def windowed_flows(reports: Iterable[UsageReport], sessions: SessionTable, window_s: float) -> pl.DataFrame:
    """Tumbling windows of ``window_s``: per-period rows merged into one flow record per window."""
    rows = [report_rows(r, sessions) for r in reports]
    frame = pl.concat([r for r in rows if not r.is_empty()] or [rows_frame([])])
    if frame.is_empty():
        return aggregate_flows(frame, 0.0)
    frame = frame.with_columns(((pl.col("start_ts") / window_s).floor() * window_s).alias("_w"))
    parts = [aggregate_flows(part.drop("_w"), float(w)) for (w,), part in frame.group_by("_w", maintain_order=True)]
    return pl.concat(parts)


def initiators(path: Path) -> list[str]:
    """Addresses that open connections in a capture: TCP SYN (without ACK) senders and UDP senders from an
    ephemeral port to a port below 1024. In an arbitrary capture these play the UE role."""
    found: dict[str, None] = {}
    for batch in PcapReader(path):
        syn = (batch.proto == 6) & ((batch.tcp_flags & 0x12) == 0x02)
        udp = (batch.proto == 17) & (batch.dport < 1024) & (batch.sport >= 1024)
        for addr in format_ips(batch.src[syn | udp]):
            found.setdefault(addr, None)
    return list(found)


def pcap_flow_records(path: Path, window_s: float = 60.0, period_s: float = 1.0) -> pl.DataFrame:
    """Flow records of a pcap through the UPF data plane: each connection initiator gets a PDU session, so its
    traffic is accounted as a UE's (local addresses that only answer are learned as UEs too)."""
    sessions = SessionTable(learn_sessions=True)
    for i, addr in enumerate(initiators(path), start=1):
        if ":" in addr:
            sessions.establish(f"imsi-99999{i:010d}", 1, ue_ipv6_prefix=f"{addr}/64")
        else:
            sessions.establish(f"imsi-99999{i:010d}", 1, ue_ipv4=addr)
    return windowed_flows(period_reports(PcapReader(path), sessions, period_s), sessions, window_s)
