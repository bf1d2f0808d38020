"""Traffic scenarios for the testbed: benign UEs fetch pages with curl, a bot UE scans the DN servers with nmap.

Every generator is a shell loop inside a UE namespace, recorded in the testbed state and stopped by PID. Targets
are only the DN servers of the testbed (addresses that exist nowhere else).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from nwdaf.lib.testbed.netns import ProcInfo, TestbedError, ns_run, require_tools, spawn, stop
from nwdaf.lib.testbed.topology import Testbed, UeInfo

SCENARIOS = ("benign", "scan")


@dataclass(frozen=True, slots=True)
class ScenarioPlan:
    """Which UE does what: ``bots`` scan, every other UE browses."""

    name: str
    bots: tuple[int, ...]


def plan(tb: Testbed, scenario: str) -> ScenarioPlan:
    """``benign``: every UE browses. ``scan``: the last UE is a bot that port-scans the DN servers."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
    bots = (tb.ues[-1].index,) if scenario == "scan" else ()
    return ScenarioPlan(scenario, bots)


def _browse_loop(tb: Testbed, ue: UeInfo, pause_s: float) -> list[str]:
    urls = [f"http://{addr}:{port}/" for addr, port in tb.servers]
    # Each UE starts at a different server so the DN sees spread-out, overlapping sessions.
    shift = ue.index % len(urls)
    urls = urls[shift:] + urls[:shift]
    body = "; ".join(f"curl -s -o /dev/null --max-time 2 {shlex.quote(u)}; sleep {pause_s}" for u in urls)
    return ["sh", "-c", f"while :; do {body}; done"]


def _scan_loop(tb: Testbed, ports: str, rate: int) -> list[str]:
    targets = " ".join(tb.server_addresses)
    # TCP connect scan, no host discovery, no DNS, bounded rate: a recognisable bot pattern.
    nmap = f"nmap -n -Pn -sT --max-retries 0 --max-rate {rate} -p {ports} {targets}"
    return ["sh", "-c", f"while :; do {nmap} >/dev/null 2>&1; sleep 1; done"]


def start(tb: Testbed, scenario: str, *, pause_s: float = 0.3, scan_ports: str = "1-1024",
          scan_rate: int = 400) -> list[ProcInfo]:
    """Start the scenario's generators; they run until :func:`stop_traffic` or the testbed goes down."""
    chosen = plan(tb, scenario)
    require_tools("curl", *(("nmap",) if chosen.bots else ()))
    started: list[ProcInfo] = []
    for ue in tb.ues:
        if ue.index in chosen.bots:
            started.append(spawn(f"scan-ue{ue.index}", ue.ns, _scan_loop(tb, scan_ports, scan_rate)))
        else:
            started.append(spawn(f"browse-ue{ue.index}", ue.ns, _browse_loop(tb, ue, pause_s)))
    tb.processes.extend(started)
    tb.save()
    return started


def stop_traffic(tb: Testbed, names: Sequence[str] | None = None) -> list[str]:
    """Stop traffic generators (all, or those named); servers keep running."""
    stopped: list[str] = []
    keep: list[ProcInfo] = []
    for proc in tb.processes:
        generator = proc.name.startswith(("browse-", "scan-"))
        if generator and (names is None or proc.name in names):
            stop(proc)
            stopped.append(proc.name)
        else:
            keep.append(proc)
    tb.processes = keep
    tb.save()
    return stopped


def reachable(ue: UeInfo, url: str, timeout_s: float = 1.0) -> bool:
    """Whether ``ue`` can fetch ``url`` right now (one curl inside its namespace)."""
    proc = ns_run(ue.ns, ["curl", "-s", "-o", "/dev/null", "--max-time", str(timeout_s), "-w", "%{http_code}", url],
                  check=False, timeout=timeout_s + 5)
    return proc.returncode == 0 and proc.stdout.strip() == "200"


def ping(ue: UeInfo, address: str, timeout_s: float = 0.5) -> bool:
    """One ICMP echo from ``ue``; a 0.5 s timeout tells a banned UE from a working one within a report period."""
    try:
        proc = ns_run(ue.ns, ["ping", "-c", "1", "-W", str(timeout_s), address], check=False, timeout=timeout_s + 5)
    except TestbedError:
        return False
    return proc.returncode == 0
