"""Tap benchmark: our reader + sessions + accounting against dpkt, nfstream and Scapy on one pcap.

All contenders parse the same file and keep bidirectional per-flow byte/packet counters, so the
packets/s figures compare like with like (one core each; nfstream runs with one meter).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nwdaf.lib.dataplane.accounting import AccountingConfig, UsageAccounting
from nwdaf.lib.dataplane.reader import PcapReader, read_pcap
from nwdaf.lib.dataplane.sessions import SessionTable
from nwdaf.lib.dataplane.synthetic import Scenario

SCAPY_SLICE = 20_000


def synthetic_pcap(path: Path, seconds: int = 70) -> int:
    """A ~1.5 M packet capture: 120 benign UEs (web/video/IoT) and one UE per attack type."""
    attackers = {"scan": 1, "cnc": 1, "spam": 1, "udp_flood": 1, "icmp_flood": 1, "syn_flood": 1}
    scenario = Scenario.build(benign=120, attackers=attackers, attack_start_s=10, seed=7)
    return scenario.write_pcap(path, 0, seconds)


def ours(pcap: Path) -> tuple[int, float]:
    """Packets and seconds for read + session classification + full accounting + one report."""
    read_pcap(_tiny_pcap(), accelerate=None)  # compile numba kernels outside the timed region
    start = time.perf_counter()
    acc = UsageAccounting(SessionTable(learn_sessions=True), AccountingConfig())
    last = 0
    reader = PcapReader(pcap)
    for batch in reader:
        acc.process(batch)
        last = int(batch.ts_ns[-1])
    acc.snapshot_and_reset_period(last + 1)
    return reader.stats.records, time.perf_counter() - start


def _tiny_pcap() -> Path:
    from nwdaf.lib.dataplane.batch import PacketBatch
    from nwdaf.lib.dataplane.writer import write_pcap

    path = Path(tempfile.mkdtemp(prefix="nwdaf-bench-")) / "warm.pcap"
    write_pcap(path, PacketBatch.from_lists(ts_ns=[1], src=["10.0.0.1"], dst=["10.0.0.2"], sport=[1], dport=[2],
                                            proto=[17], length=[28]))
    return path


def dpkt_baseline(pcap: Path, limit: int | None = None) -> tuple[int, float]:
    """dpkt parse + dict-based bidirectional flow accounting."""
    import dpkt

    flows: dict[tuple[Any, ...], list[int]] = {}
    n = 0
    start = time.perf_counter()
    with open(pcap, "rb") as fh:
        for _ts, buf in dpkt.pcap.Reader(fh):
            n += 1
            ip = dpkt.ethernet.Ethernet(buf).data
            if not isinstance(ip, dpkt.ip.IP | dpkt.ip6.IP6):
                continue
            l4 = ip.data
            sport, dport = (l4.sport, l4.dport) if isinstance(l4, dpkt.tcp.TCP | dpkt.udp.UDP) else (0, 0)
            a, b = (ip.src, sport), (ip.dst, dport)
            key = (a, b, ip.p) if a <= b else (b, a, ip.p)
            rec = flows.setdefault(key, [0, 0, 0, 0])
            d = 0 if a <= b else 1
            rec[d] += len(ip)
            rec[2 + d] += 1
            if limit is not None and n >= limit:
                break
    return n, time.perf_counter() - start


def nfstream_baseline(pcap: Path) -> tuple[int, float] | str:
    """nfstream (nDPI off, one meter); a reason string when it is not usable."""
    try:
        from nfstream import NFStreamer
    except ImportError as exc:
        return f"not installed ({exc})"
    start = time.perf_counter()
    try:
        streamer = NFStreamer(source=str(pcap), n_dissections=0, statistical_analysis=False, n_meters=1)
        packets = sum(int(flow.bidirectional_packets) for flow in streamer)
    except Exception as exc:  # nfstream raises plain exceptions for capture/engine problems
        return f"failed ({type(exc).__name__}: {exc})"
    return packets, time.perf_counter() - start


def scapy_baseline(pcap: Path, limit: int = SCAPY_SLICE) -> tuple[int, float]:
    """Scapy parse + dict accounting on the first ``limit`` packets."""
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.utils import PcapReader as ScapyReader

    flows: dict[tuple[Any, ...], list[int]] = {}
    n = 0
    start = time.perf_counter()
    with ScapyReader(str(pcap)) as reader:
        for pkt in reader:
            n += 1
            ip = pkt.getlayer(IP) or pkt.getlayer(IPv6)
            if ip is not None:
                l4 = ip.payload
                ports = (l4.sport, l4.dport) if isinstance(l4, TCP | UDP) else (0, 0)
                key = (ip.src, ip.dst, *ports)
                rec = flows.setdefault(key, [0, 0])
                rec[0] += len(ip)
                rec[1] += 1
            if n >= limit:
                break
    return n, time.perf_counter() - start


# ru_maxrss survives exec (it would report the parent's peak), so read the new mm's VmHWM instead.
_RSS_SCRIPT = """
import sys, numpy as np
from nwdaf.lib.dataplane import AccountingConfig, PacketBatch, SessionTable, UsageAccounting
from nwdaf.lib.dataplane.batch import ipv4_column
def hwm():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
n = int(sys.argv[1])
base = hwm()
t = SessionTable()
for i in range(1000):
    t.establish(f"imsi-00101{i:010d}", ue_ipv4=f"10.45.{i // 250}.{i % 250 + 1}")
acc = UsageAccounting(t, AccountingConfig(max_flows=n))
step = 65536
for s in range(0, n, step):
    k = min(step, n - s)
    i = np.arange(s, s + k)
    ue = 0x0A2D0000 + (i % 1000 // 250) * 256 + i % 1000 % 250 + 1
    acc.process(PacketBatch(ts_ns=i, src=ipv4_column(ue), dst=ipv4_column(0xCB000000 + i // 1000),
        sport=1024 + i % 50000, dport=np.full(k, 443), proto=np.full(k, 6), length=np.full(k, 100),
        tcp_flags=np.full(k, 16), teid=np.zeros(k), vlan=np.zeros(k)))
assert acc.flows.live_count == n, acc.flows.live_count
print(base, hwm())
"""


def rss_for_flows(n_flows: int = 1_000_000) -> tuple[float, float]:
    """(baseline MB, peak MB) of a fresh interpreter holding ``n_flows`` concurrent flows."""
    out = subprocess.run([sys.executable, "-c", _RSS_SCRIPT, str(n_flows)], capture_output=True, text=True,
                         check=True, timeout=600)
    base_kb, peak_kb = (int(x) for x in out.stdout.split())
    return base_kb / 1024, peak_kb / 1024


def _pps(result: tuple[int, float]) -> float:
    return result[0] / result[1] if result[1] > 0 else 0.0


def run_tap_benchmark(pcap: Path | None, json_out: Path | None, *,
                      log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every contender on one pcap (a synthetic one when ``pcap`` is None); returns the figures."""
    with tempfile.TemporaryDirectory(prefix="nwdaf-tap-") as tmp:
        if pcap is None:
            pcap = Path(tmp) / "synthetic.pcap"
            log(f"generating synthetic pcap: {synthetic_pcap(pcap):,} packets")
        result = _measure(pcap, log)
    if json_out is not None:
        json_out.write_text(json.dumps(result, indent=2) + "\n")
    return result


def _measure(pcap: Path, log: Callable[[str], None]) -> dict[str, Any]:
    mine = ours(pcap)
    log(f"ours:     {mine[0]:,} packets in {mine[1]:.2f} s = {_pps(mine):,.0f} pkt/s (full accounting)")
    dp = dpkt_baseline(pcap)
    log(f"dpkt:     {dp[0]:,} packets in {dp[1]:.2f} s = {_pps(dp):,.0f} pkt/s")
    nf = nfstream_baseline(pcap)
    if isinstance(nf, str):
        log(f"nfstream: unavailable ({nf})")
    else:
        log(f"nfstream: {nf[0]:,} packets in {nf[1]:.2f} s = {_pps(nf):,.0f} pkt/s")
    sc = scapy_baseline(pcap)
    log(f"scapy:    {sc[0]:,} packets in {sc[1]:.2f} s = {_pps(sc):,.0f} pkt/s (slice, scaled)")
    base_mb, rss_mb = rss_for_flows()
    log(f"peak RSS with 1M concurrent flows: {rss_mb:.0f} MB (interpreter + numpy baseline {base_mb:.0f} MB)")
    result: dict[str, Any] = {
        "pcap": str(pcap), "packets": mine[0], "ours_pps": round(_pps(mine)), "dpkt_pps": round(_pps(dp)),
        "nfstream_pps": None if isinstance(nf, str) else round(_pps(nf)),
        "nfstream_unavailable": nf if isinstance(nf, str) else None,
        "scapy_pps": round(_pps(sc)), "rss_1m_flows_mb": round(rss_mb, 1), "rss_baseline_mb": round(base_mb, 1),
    }
    for name in ("dpkt", "nfstream", "scapy"):
        other = result[f"{name}_pps"]
        if other:
            log(f"ours / {name}: {result['ours_pps'] / other:.1f}x")
    return result
