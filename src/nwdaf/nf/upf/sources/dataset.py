"""A public flow dataset as a UPF packet source: ``dataset:FORMAT:PATH[:SPEED]``.

The file is imported with :func:`nwdaf.lib.flows.read_flows` when the source is made (start-up: a missing file or an
unreadable format fails there, naming it; malformed rows are skipped, counted and logged with their line). Its
records are replayed as the packets they stand for (:mod:`nwdaf.lib.dataplane.flowreplay`), so the session table,
accounting and Nupf_EventExposure reports work on them as on a capture.

What a record does not say is filled in and counted in :class:`DatasetStats`: Argus ``.binetflow`` gives only
``TotPkts``, so its packets are split between the directions in proportion to ``SrcBytes`` / the rest (a
direction with bytes gets at least one packet); a direction with bytes but no packets gets one. Records without an
IP protocol or with non-IP addresses (Argus ARP rows), records without packets or bytes and records no packet
stream can carry are left out. Ports
count only for TCP, UDP and SCTP, as in the data plane's decoder. Volumes are the record's byte counters (IP
bytes for Zeek; CICFlowMeter counts payload bytes only).

With ``learn_sessions`` every flow initiator becomes a UE (flow records name the initiator; the private-address
rule of pcap learning would miss CTU-13's public bot addresses). A record between two UEs is classified as a capture
is: each packet belongs to its sender's session (uplink), so the responder's answers are its own uplink.

Labels never reach the data plane or the wire: the source keeps them (:meth:`DatasetSource.flow_labels`,
:meth:`DatasetSource.host_labels`) for training and evaluation.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from numpy.typing import NDArray

from nwdaf.lib.dataplane.accounting import FlowUsage
from nwdaf.lib.dataplane.batch import PacketBatch, format_ip, ip_to_pair
from nwdaf.lib.dataplane.flowreplay import MAX_RECORD_PACKETS, FlowRecords, replay_records
from nwdaf.lib.dataplane.sessions import SessionTable
from nwdaf.lib.flows import LABEL_BACKGROUND, LABEL_BENIGN, LABEL_MALICIOUS, SkipReport, read_flows
from nwdaf.nf.upf.config import SourceSpec

log = logging.getLogger("nwdaf.upf")

I64 = NDArray[np.int64]
_PORTED = (6, 17, 132)
_U32_MAX = 2**32 - 1
_RANK = {LABEL_MALICIOUS: 3, LABEL_BENIGN: 2, LABEL_BACKGROUND: 1}
PACED_SLICE_S = 0.01
"""Wall-clock seconds of traffic per batch of a paced replay (as the pcap replay's tick)."""


@dataclass
class DatasetStats:
    """What an import kept, left out and filled in."""

    rows: int = 0
    rows_skipped: int = 0
    """Malformed rows (the bad-row policy of :mod:`nwdaf.lib.flows.skips`), logged with their first line numbers;
    ``skipped_by_reason`` splits them by kind of fault."""
    skipped_by_reason: dict[str, int] = field(default_factory=dict)
    records: int = 0
    non_ip: int = 0
    empty: int = 0
    implausible: int = 0
    """Records no packet stream can carry (over 2^31 packets, or over 2^32-1 bytes per packet)."""
    split_estimated: int = 0
    """Records whose packets were split between the directions in proportion to their bytes."""
    packets_added: int = 0
    """Packets given to a direction that had bytes but no packet count."""
    packets: int = 0
    bytes: int = 0


def _address_columns(flows: pl.DataFrame) -> tuple[NDArray[np.uint64], NDArray[np.uint64], NDArray[np.bool_]]:
    """``(n, 2)`` address columns of ``src_ip`` / ``dst_ip`` and which rows hold IP addresses in both."""
    pairs: dict[str, tuple[int, int] | None] = {}
    for text in pl.concat([flows["src_ip"], flows["dst_ip"]]).drop_nulls().unique().to_list():
        try:
            pairs[text] = ip_to_pair(ipaddress.ip_address(text))
        except ValueError:
            pairs[text] = None
    columns = []
    for name in ("src_ip", "dst_ip"):
        got = [pairs.get(v) if v is not None else None for v in flows[name].to_list()]
        columns.append((np.array([g or (0, 0) for g in got], np.uint64).reshape(-1, 2),
                        np.array([g is not None for g in got], np.bool_)))
    return columns[0][0], columns[1][0], columns[0][1] & columns[1][1]


def _column(flows: pl.DataFrame, name: str) -> I64:
    """An integer counter column, -1 where null."""
    return flows[name].fill_null(-1).cast(pl.Int64).to_numpy().astype(np.int64)


def _directions(flows: pl.DataFrame, stats: DatasetStats) -> tuple[I64, I64, I64, I64]:
    """Packets and bytes per direction (see the module docstring for what is filled in)."""
    bf, bb, bt = (_column(flows, c) for c in ("bytes_fwd", "bytes_bwd", "bytes_total"))
    fwd_b = np.where(bf >= 0, bf, np.where((bt >= 0) & (bb >= 0), bt - bb, np.maximum(bt, 0)))
    bwd_b = np.where(bb >= 0, bb, np.where((bt >= 0) & (bf >= 0), bt - bf, 0))
    fwd_b, bwd_b = np.maximum(fwd_b, 0), np.maximum(bwd_b, 0)
    pf, pb, pt = (_column(flows, c) for c in ("pkts_fwd", "pkts_bwd", "pkts_total"))
    total = np.maximum(pt, 0)
    unsplit = (pf < 0) & (pb < 0)
    share = np.rint(total * (fwd_b / np.maximum(fwd_b + bwd_b, 1))).astype(np.int64)
    share = np.where(fwd_b + bwd_b > 0, share, total)
    low = np.where((fwd_b > 0) & (total >= 1), 1, 0)
    high = np.where((bwd_b > 0) & (total >= 2), total - 1, total)
    estimate = np.clip(share, low, high)
    fwd_p = np.where(pf >= 0, pf, np.where(pb >= 0, np.maximum(total - pb, 0), estimate))
    bwd_p = np.where(pb >= 0, pb, np.where(pf >= 0, np.maximum(total - pf, 0), total - estimate))
    stats.split_estimated += int((unsplit & (total > 0) & (bwd_b > 0)).sum())
    added = [(b > 0) & (p == 0) for p, b in ((fwd_p, fwd_b), (bwd_p, bwd_b))]
    stats.packets_added += int(added[0].sum() + added[1].sum())
    return fwd_p + added[0], bwd_p + added[1], fwd_b, bwd_b


def _ports(flows: pl.DataFrame, proto: NDArray[np.uint8]) -> tuple[NDArray[np.uint16], NDArray[np.uint16]]:
    ported = np.isin(proto, _PORTED)
    sport = np.where(ported, np.maximum(_column(flows, "src_port"), 0), 0).astype(np.uint16)
    dport = np.where(ported, np.maximum(_column(flows, "dst_port"), 0), 0).astype(np.uint16)
    return sport, dport


def flow_records(flows: pl.DataFrame, stats: DatasetStats) -> tuple[FlowRecords, pl.DataFrame]:
    """The replayable records of an imported frame and, row for row before sorting, their endpoints and labels."""
    src, dst, is_ip = _address_columns(flows)
    is_ip &= flows["proto_num"].is_not_null().to_numpy()
    stats.rows, stats.non_ip = flows.height, int((~is_ip).sum())
    flows, src, dst = flows.filter(pl.Series(is_ip)), src[is_ip], dst[is_ip]
    fwd_p, bwd_p, fwd_b, bwd_b = _directions(flows, stats)
    keep = fwd_p + bwd_p > 0
    stats.empty = int((~keep).sum())
    most = _U32_MAX * np.stack([fwd_p, bwd_p]).astype(np.float64)  # float: the product may pass 2^63
    carried = (fwd_p + bwd_p <= MAX_RECORD_PACKETS) & (fwd_b <= most[0]) & (bwd_b <= most[1])
    stats.implausible = int((keep & ~carried).sum())
    keep &= carried
    flows = flows.filter(pl.Series(keep))
    proto = flows["proto_num"].cast(pl.UInt8).to_numpy().astype(np.uint8)
    sport, dport = _ports(flows, proto)
    start_ns = np.rint(flows["start_ts"].to_numpy() * 1e9).astype(np.int64)
    duration_ns = np.rint(flows["duration_s"].fill_null(0.0).to_numpy() * 1e9).astype(np.int64)
    records = FlowRecords.build(start_ns=start_ns, duration_ns=duration_ns, fwd_packets=fwd_p[keep],
                                bwd_packets=bwd_p[keep], fwd_bytes=fwd_b[keep], bwd_bytes=bwd_b[keep],
                                src=src[keep], dst=dst[keep], sport=sport, dport=dport, proto=proto)
    stats.records, stats.packets = len(records), int(records.packets.sum())
    stats.bytes = int(records.fwd_bytes.sum() + records.bwd_bytes.sum())
    labels = pl.DataFrame({"src_hi": src[keep][:, 0], "src_lo": src[keep][:, 1], "sport": sport,
                           "dst_hi": dst[keep][:, 0], "dst_lo": dst[keep][:, 1], "dport": dport, "proto": proto,
                           "start_ns": start_ns}).with_columns(
        (flows[c] if c in flows.columns else pl.lit(None, pl.String)).alias(c) for c in ("label", "label_detail"))
    return records, labels


def _worst(current: tuple[str | None, str | None] | None, label: str | None,
           detail: str | None) -> tuple[str | None, str | None]:
    """Of two labels of one flow or host, the more severe (malicious, benign, background, none)."""
    if current is None or _RANK.get(label or "", 0) > _RANK.get(current[0] or "", 0):
        return label, detail
    return current


class DatasetSource:
    """Replay a flow dataset once (module docstring), at ``speed`` x recorded speed (None: as fast as possible).

    ``learn_hosts`` (``upf.learn_sessions``): every flow initiator no session holds gets a learned PDU session
    when the UPF starts, in order of first appearance.
    """

    live = False

    def __init__(self, spec: SourceSpec, batch_size: int, *, learn_hosts: bool = False) -> None:
        assert spec.path is not None
        assert spec.flow_format is not None
        self.name = f"dataset:{spec.flow_format}:{spec.path}"
        self.speed, self.batch_size, self.learn_hosts = spec.speed, batch_size, learn_hosts
        self.skips = SkipReport()
        flows = read_flows(f"{spec.flow_format}:{spec.path}", skips=self.skips)
        self.stats = DatasetStats(rows_skipped=self.skips.skipped, skipped_by_reason={
            reason: count for reason, (count, _) in self.skips.by_reason().items()})
        self.records, self.labels = flow_records(flows, self.stats)
        self._flow_index: dict[tuple[int, ...], tuple[str | None, str | None]] | None = None
        self._stop = threading.Event()
        if self.skips.skipped or self.skips.failed_files:
            log.warning("%s: %s", self.name, self.skips.summary())
        st = self.stats
        log.info("%s: %d flow records (%d packets) to replay; left out: %d non-IP, %d empty, %d implausible; %d with "
                 "an estimated direction split", self.name, st.records, st.packets, st.non_ip, st.empty,
                 st.implausible, st.split_estimated)

    def prepare(self, sessions: SessionTable) -> None:
        if self.learn_hosts:
            learned = sessions.learn(self.records.src, self.records.start_ns)
            log.info("%s: %d flow initiators learned as UEs", self.name, learned)

    def batches(self) -> Iterator[PacketBatch]:
        slice_ns = int(PACED_SLICE_S * 1e9 * self.speed) if self.speed else 600 * 10**9
        wall0, t0 = time.monotonic(), int(self.records.start_ns[0]) if len(self.records) else 0
        for batch in replay_records(self.records, batch_size=self.batch_size, slice_ns=max(slice_ns, 1)):
            if self.speed is not None:
                delay = wall0 + (int(batch.ts_ns[0]) - t0) / 1e9 / self.speed - time.monotonic()
                if delay > 0:
                    self._stop.wait(delay)
            if self._stop.is_set():
                return
            yield batch

    def close(self) -> None:
        self._stop.set()

    def flow_labels(self, flows: FlowUsage) -> pl.DataFrame:
        """``label`` and ``label_detail`` of each reported flow (row for row; null for a flow no record has).

        A UPF flow is matched to records by protocol and its two endpoints, either way round; where several
        records share them, the most severe label wins.
        """
        if self._flow_index is None:
            self._flow_index = {}
            for *key, _, label, detail in self.labels.iter_rows():
                k = _flow_key(*key)
                self._flow_index[k] = _worst(self._flow_index.get(k), label, detail)
        found = [self._flow_index.get(_flow_key(int(f.ue_addr[i, 0]), int(f.ue_addr[i, 1]), int(f.ue_port[i]),
                                                int(f.remote_addr[i, 0]), int(f.remote_addr[i, 1]),
                                                int(f.remote_port[i]), int(f.proto[i])), (None, None))
                 for f in (flows,) for i in range(len(f))]
        return pl.DataFrame(found, schema={"label": pl.String, "label_detail": pl.String}, orient="row")

    def host_labels(self) -> dict[str, str | None]:
        """The most severe label of each flow initiator's records, by address (as the UPF formats it)."""
        hosts: dict[str, tuple[str | None, str | None]] = {}
        for hi, lo, label in self.labels.select("src_hi", "src_lo", "label").iter_rows():
            address = format_ip(hi, lo)
            hosts[address] = _worst(hosts.get(address), label, None)
        return {address: label for address, (label, _) in hosts.items()}


def _flow_key(a_hi: int, a_lo: int, a_port: int, b_hi: int, b_lo: int, b_port: int, proto: int) -> tuple[int, ...]:
    a, b = sorted(((a_hi, a_lo, a_port), (b_hi, b_lo, b_port)))
    return (proto, *a, *b)
