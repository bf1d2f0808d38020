"""The UPF data plane's per-flow period reports as processor rows, without the HTTP hop.

Used where packets are processed locally (offline detection on a pcap, training on synthetic traffic). The rows
come out of the same conversion as the processor's rows of the UPF's ``NotificationData``
(:func:`nwdaf.lib.flows.convert.usage_frame`), so features computed either way match.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import polars as pl

from nwdaf.lib.dataplane import PacketBatch, PcapError, PcapReader, SessionTable, UsageAccounting, UsageReport
from nwdaf.lib.dataplane.accounting import AccountingConfig
from nwdaf.lib.dataplane.batch import format_ips
from nwdaf.lib.features._common import UNSOLICITED
from nwdaf.lib.features.answered import AnsweredFlows, solicited
from nwdaf.lib.flows.convert import USAGE_FIELDS, aggregate_flows, rows_frame, usage_frame
from nwdaf.lib.flows.skips import BadRowError, SkipReport
from nwdaf.platform.models.common import snssai_key


def report_rows(report: UsageReport, sessions: SessionTable) -> pl.DataFrame:
    """One row per flow active in the report's period, through :func:`~nwdaf.lib.flows.convert.usage_frame`;
    ``supi``, ``snssai`` and ``dnn`` are the flow's PDU session's (as a UPF notification item carries them)."""
    f = report.flows
    if len(f) == 0:
        return usage_frame({name: [] for name in USAGE_FIELDS})
    m = f.measures
    owners = [sessions.sessions[i] if i >= 0 else None for i in f.session.tolist()]
    keys = {s.index: snssai_key(s.snssai) for s in owners if s is not None}
    return usage_frame({
        "start_ts": report.start_ns / 1e9, "end_ts": report.end_ns / 1e9, "proto": f.proto.tolist(),
        "ue_ip": format_ips(f.ue_addr), "ue_port": f.ue_port.tolist(),
        "remote_ip": format_ips(f.remote_addr), "remote_port": f.remote_port.tolist(),
        "ul_packets": m.ul_packets.tolist(), "dl_packets": m.dl_packets.tolist(),
        "ul_bytes": m.ul_bytes.tolist(), "dl_bytes": m.dl_bytes.tolist(),
        "supi": [s.supi if s is not None else None for s in owners],
        "snssai": [keys[s.index] if s is not None else None for s in owners],
        "dnn": [s.dnn if s is not None else None for s in owners],
    })


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
    """Tumbling windows of ``window_s``: per-period rows merged into one flow record per window, marked window after
    window as the processor marks them (:class:`~nwdaf.lib.features.answered.AnsweredFlows`: conversations
    answered before), and without the records a UE only received (a peer's probe of it), as the processor's
    features leave them out."""
    rows = [report_rows(r, sessions) for r in reports]
    frame = pl.concat([r for r in rows if not r.is_empty()] or [rows_frame([])])
    if frame.is_empty():
        return aggregate_flows(frame, 0.0)
    frame = frame.with_columns(((pl.col("start_ts") / window_s).floor() * window_s).alias("_w"))
    memory = AnsweredFlows()
    parts = [solicited(memory.mark(aggregate_flows(part.drop("_w"), float(w)), float(w) + window_s))
             for (w,), part in frame.sort("_w", maintain_order=True).group_by("_w", maintain_order=True)]
    return pl.concat(parts, how="diagonal_relaxed").drop(UNSOLICITED, strict=False)


def initiators(path: Path, skips: SkipReport | None = None) -> list[str]:
    """Addresses that open connections in a capture: TCP SYN (without ACK) senders and UDP senders from an
    ephemeral port to a port below 1024. In an arbitrary capture these play the UE role."""
    found: dict[str, None] = {}
    for batch in counted_frames(PcapReader(path), path, None if skips is None else SkipReport(strict=skips.strict)):
        syn = (batch.proto == 6) & ((batch.tcp_flags & 0x12) == 0x02)
        udp = (batch.proto == 17) & (batch.dport < 1024) & (batch.sport >= 1024)
        for addr in format_ips(batch.src[syn | udp]):
            found.setdefault(addr, None)
    return list(found)


def pcap_flow_records(path: Path, window_s: float = 60.0, period_s: float = 1.0, *,
                      skips: SkipReport | None = None) -> pl.DataFrame:
    """Flow records of a pcap through the UPF data plane: each connection initiator gets a PDU session, so its
    traffic is accounted as a UE's (local addresses that only answer are learned as UEs too).

    With ``skips`` the capture follows the bad-row policy of :mod:`nwdaf.lib.flows.skips`: frames the data plane
    cannot decode (non-IP, unsupported link type, truncated or bad headers) are counted by reason, and a capture
    whose records break off (corrupt or cut short) keeps the packets before the fault, counted as one skip; a
    strict report raises :class:`~nwdaf.lib.flows.skips.BadRowError` there. Without ``skips`` a fault raises
    :class:`~nwdaf.lib.dataplane.PcapError`.
    """
    sessions = SessionTable(learn_sessions=True)
    for i, addr in enumerate(initiators(path, skips), start=1):
        if ":" in addr:
            sessions.establish(f"imsi-99999{i:010d}", 1, ue_ipv6_prefix=f"{addr}/64")
        else:
            sessions.establish(f"imsi-99999{i:010d}", 1, ue_ipv4=addr)
    return windowed_flows(period_reports(counted_frames(PcapReader(path), path, skips), sessions, period_s), sessions,
                          window_s)


def counted_frames(reader: PcapReader, path: Path, skips: SkipReport | None) -> Iterator[PacketBatch]:
    """The reader's batches; with ``skips``, a fault after the first record ends the read as a counted skip and
    the frames left out are counted when the read ends."""
    if skips is not None:
        skips.file(path, unit="frames")
    try:
        yield from reader
    except PcapError as exc:
        if skips is None or reader.stats.records == 0:
            raise
        if skips.strict:
            raise BadRowError(path, None, f"capture breaks off at byte {exc.offset}: {exc}") from None
        skips.skip(path, f"capture breaks off (byte {exc.offset}): {exc}")
    if skips is not None:
        skips.read(path, reader.stats.records, unit="frames")
        skips.skip_counts(path, {f"frame left out: {k}": v for k, v in reader.stats.skipped.items()})
