"""UPF data plane: pcap/pcapng tap, PDU sessions, usage accounting and synthetic UE traffic.

Pipeline: :class:`PcapReader` (or :class:`Scenario`) -> :class:`PacketBatch` ->
:meth:`SessionTable.classify` -> :class:`UsageAccounting` -> :class:`UsageReport` per period.
"""

from nwdaf.lib.dataplane.accounting import (
    AccountingConfig,
    AppUsage,
    FlowUsage,
    SessionUsage,
    UsageAccounting,
    UsageReport,
)
from nwdaf.lib.dataplane.apps import APPLICATIONS, app_ids, app_name
from nwdaf.lib.dataplane.batch import PacketBatch, format_ip, format_ips, ip_to_pair, pair_to_ip, parse_ips
from nwdaf.lib.dataplane.counters import Measures
from nwdaf.lib.dataplane.flowtable import FlowEnd
from nwdaf.lib.dataplane.reader import PcapError, PcapReader, ReaderStats, read_pcap, replay
from nwdaf.lib.dataplane.sessions import (
    Direction,
    PduSession,
    SessionMatch,
    SessionState,
    SessionTable,
    Snssai,
)
from nwdaf.lib.dataplane.synthetic import ATTACKS, BENIGN, BENIGN_PROFILES, Scenario, SyntheticUe
from nwdaf.lib.dataplane.writer import render_pcap_records, write_pcap, write_pcapng

__all__ = [
    "APPLICATIONS",
    "ATTACKS",
    "BENIGN",
    "BENIGN_PROFILES",
    "AccountingConfig",
    "AppUsage",
    "Direction",
    "FlowEnd",
    "FlowUsage",
    "Measures",
    "PacketBatch",
    "PcapError",
    "PcapReader",
    "PduSession",
    "ReaderStats",
    "Scenario",
    "SessionMatch",
    "SessionState",
    "SessionTable",
    "SessionUsage",
    "Snssai",
    "SyntheticUe",
    "UsageAccounting",
    "UsageReport",
    "app_ids",
    "app_name",
    "format_ip",
    "format_ips",
    "ip_to_pair",
    "pair_to_ip",
    "parse_ips",
    "read_pcap",
    "render_pcap_records",
    "replay",
    "write_pcap",
    "write_pcapng",
]
