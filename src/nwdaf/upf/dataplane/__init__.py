"""UPF data plane: pcap/pcapng tap, PDU sessions, usage accounting and synthetic UE traffic."""

from nwdaf.upf.dataplane.batch import PacketBatch, format_ip, format_ips, ip_to_pair, parse_ips
from nwdaf.upf.dataplane.reader import PcapError, PcapReader, ReaderStats, read_pcap, replay
from nwdaf.upf.dataplane.writer import write_pcap, write_pcapng

__all__ = [
    "PacketBatch",
    "PcapError",
    "PcapReader",
    "ReaderStats",
    "format_ip",
    "format_ips",
    "ip_to_pair",
    "parse_ips",
    "read_pcap",
    "replay",
    "write_pcap",
    "write_pcapng",
]
