"""The testbed's network: UE namespaces, a UPF router namespace and a DN namespace with HTTP servers.

::

    UE 1 (10.60.0.11/32) --veth--+                       +-- DN (10.61.0.2/24; servers 10.61.0.10, .11, ...)
    UE 2 (10.60.0.12/32) --veth--+-- n3 bridge [UPF ns] n6 --veth--+
    ...                          |   10.60.0.1/16       10.61.0.1/24

Every address exists only inside these namespaces; the UPF namespace has no default route and nothing is
connected to the root namespace, so no testbed packet can leave the machine. UEs have a /32 and reach everything
(other UEs included) through the UPF, like a PDU session's traffic does. The UPF service captures on ``n3``,
where each uplink packet is seen on arrival (before any release rule drops it) and each downlink one on departure.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nwdaf.lib.testbed.netns import (
    ProcInfo,
    TestbedError,
    list_namespaces,
    nft_setup,
    ns_run,
    process_start_time,
    require_tools,
    run,
    spawn,
    stop,
)

log = logging.getLogger("nwdaf.upf.testbed")

N3_IFACE = "n3"
N6_IFACE = "n6"
UPF_N3_ADDR = "10.60.0.1"
UPF_N6_ADDR = "10.61.0.1"
DN_ADDR = "10.61.0.2"
_UE_BASE = int(ipaddress.IPv4Address("10.60.0.10"))
_SERVER_BASE = int(ipaddress.IPv4Address("10.61.0.10"))


@dataclass(frozen=True, slots=True)
class TestbedSpec:
    """Size and naming of a testbed; ``name`` prefixes every namespace (``NAME-upf``, ``NAME-dn``, ``NAME-ue1``)."""

    __test__ = False

    name: str = "nwdaf-tb"
    n_ues: int = 3
    n_servers: int = 3
    server_ports: tuple[int, ...] = (80, 8080)
    state_dir: Path = Path(tempfile.gettempdir()) / "nwdaf-testbed"

    def __post_init__(self) -> None:
        if not (1 <= self.n_ues <= 200 and 1 <= self.n_servers <= 100 and self.server_ports):
            raise ValueError("need 1..200 UEs, 1..100 servers and at least one server port")
        if not self.name.replace("-", "").isalnum() or len(self.name) > 24:
            raise ValueError(f"testbed name {self.name!r}: letters, digits and '-', at most 24 characters")


@dataclass(frozen=True, slots=True)
class UeInfo:
    """One emulated UE: its namespace, address and the SUPI its PDU session is established with."""

    index: int
    ns: str
    ipv4: str
    supi: str


@dataclass
class Testbed:
    """A running testbed: namespaces, UEs, DN servers and every process started in it (stopped by PID)."""

    __test__ = False

    spec: TestbedSpec
    upf_ns: str
    dn_ns: str
    ues: list[UeInfo]
    servers: list[tuple[str, int]]
    processes: list[ProcInfo] = field(default_factory=list)

    @property
    def namespaces(self) -> list[str]:
        return [self.upf_ns, self.dn_ns, *(ue.ns for ue in self.ues)]

    @property
    def server_addresses(self) -> list[str]:
        return sorted({addr for addr, _ in self.servers}, key=ipaddress.IPv4Address)

    @property
    def capture_source(self) -> str:
        """The UPF service's packet source for this testbed."""
        return f"live:{N3_IFACE}@{self.upf_ns}"

    @property
    def state_path(self) -> Path:
        return state_path(self.spec)

    def ue(self, index: int) -> UeInfo:
        return self.ues[index - 1]

    def save(self) -> None:
        self.spec.state_dir.mkdir(parents=True, exist_ok=True)
        doc = {
            "spec": {"name": self.spec.name, "n_ues": self.spec.n_ues, "n_servers": self.spec.n_servers,
                     "server_ports": list(self.spec.server_ports)},
            "upf_ns": self.upf_ns, "dn_ns": self.dn_ns,
            "ues": [{"index": u.index, "ns": u.ns, "ipv4": u.ipv4, "supi": u.supi} for u in self.ues],
            "servers": [list(s) for s in self.servers],
            "processes": [p.to_json() for p in self.processes],
        }
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, indent=2))
        os.replace(tmp, self.state_path)


def state_path(spec: TestbedSpec) -> Path:
    return spec.state_dir / f"{spec.name}.json"


def load(spec: TestbedSpec) -> Testbed | None:
    """The testbed recorded for ``spec.name`` in ``spec.state_dir``, or None."""
    path = state_path(spec)
    if not path.is_file():
        return None
    doc: dict[str, Any] = json.loads(path.read_text())
    s = doc["spec"]
    real = TestbedSpec(s["name"], s["n_ues"], s["n_servers"], tuple(s["server_ports"]), spec.state_dir)
    return Testbed(
        real, doc["upf_ns"], doc["dn_ns"], [UeInfo(**u) for u in doc["ues"]],
        [(a, int(p)) for a, p in doc["servers"]], [ProcInfo.from_json(p) for p in doc["processes"]],
    )


def _plan(spec: TestbedSpec) -> Testbed:
    ues = [
        UeInfo(i, f"{spec.name}-ue{i}", str(ipaddress.IPv4Address(_UE_BASE + i)), f"imsi-00101{i:010d}")
        for i in range(1, spec.n_ues + 1)
    ]
    servers = [(str(ipaddress.IPv4Address(_SERVER_BASE + k)), port)
               for k in range(spec.n_servers) for port in spec.server_ports]
    return Testbed(spec, f"{spec.name}-upf", f"{spec.name}-dn", ues, servers)


def _build_upf(tb: Testbed) -> None:
    ns = tb.upf_ns
    run(["ip", "netns", "add", ns])
    ns_run(ns, ["ip", "link", "set", "lo", "up"])
    ns_run(ns, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
    ns_run(ns, ["ip", "link", "add", N3_IFACE, "type", "bridge"])
    ns_run(ns, ["ip", "addr", "add", f"{UPF_N3_ADDR}/16", "dev", N3_IFACE])
    ns_run(ns, ["ip", "link", "set", N3_IFACE, "up"])
    nft_setup(ns)


def _build_dn(tb: Testbed) -> None:
    ns = tb.dn_ns
    run(["ip", "netns", "add", ns])
    ns_run(ns, ["ip", "link", "set", "lo", "up"])
    run(["ip", "link", "add", N6_IFACE, "netns", tb.upf_ns, "type", "veth", "peer", "name", "eth0", "netns", ns])
    ns_run(tb.upf_ns, ["ip", "addr", "add", f"{UPF_N6_ADDR}/24", "dev", N6_IFACE])
    ns_run(tb.upf_ns, ["ip", "link", "set", N6_IFACE, "up"])
    ns_run(ns, ["ip", "addr", "add", f"{DN_ADDR}/24", "dev", "eth0"])
    for addr in tb.server_addresses:
        ns_run(ns, ["ip", "addr", "add", f"{addr}/24", "dev", "eth0"])
    ns_run(ns, ["ip", "link", "set", "eth0", "up"])
    ns_run(ns, ["ip", "route", "add", "10.60.0.0/16", "via", UPF_N6_ADDR])


def _build_ue(tb: Testbed, ue: UeInfo) -> None:
    run(["ip", "netns", "add", ue.ns])
    ns_run(ue.ns, ["ip", "link", "set", "lo", "up"])
    port = f"u{ue.index}"
    run(["ip", "link", "add", port, "netns", tb.upf_ns, "type", "veth", "peer", "name", "eth0", "netns", ue.ns])
    ns_run(tb.upf_ns, ["ip", "link", "set", port, "master", N3_IFACE])
    ns_run(tb.upf_ns, ["ip", "link", "set", port, "up"])
    ns_run(ue.ns, ["ip", "addr", "add", f"{ue.ipv4}/32", "dev", "eth0"])
    ns_run(ue.ns, ["ip", "link", "set", "eth0", "up"])
    ns_run(ue.ns, ["ip", "route", "add", UPF_N3_ADDR, "dev", "eth0"])
    ns_run(ue.ns, ["ip", "route", "add", "default", "via", UPF_N3_ADDR, "dev", "eth0"])


def _start_servers(tb: Testbed) -> None:
    root = tb.spec.state_dir / f"{tb.spec.name}-www"
    root.mkdir(parents=True, exist_ok=True)
    (root / "index.html").write_text("<html><body>nwdaf testbed DN</body></html>\n" + "x" * 4000 + "\n")
    for addr, port in tb.servers:
        argv = [sys.executable, "-m", "http.server", str(port), "--bind", addr, "--directory", str(root)]
        tb.processes.append(spawn(f"http-{addr}:{port}", tb.dn_ns, argv))
    tb.save()


def up(spec: TestbedSpec) -> Testbed:
    """Create the namespaces, links, addresses, release table and DN servers; record everything for :func:`down`.

    Fails if a testbed of that name exists (``down`` it first); on any failure, what was made is removed.
    """
    require_tools("ip", "nft")
    if load(spec) is not None or any(ns.startswith(f"{spec.name}-") for ns in list_namespaces()):
        raise TestbedError(f"testbed {spec.name!r} already exists: run 'nwdaf testbed down' first")
    tb = _plan(spec)
    tb.save()
    try:
        _build_upf(tb)
        _build_dn(tb)
        for ue in tb.ues:
            _build_ue(tb, ue)
        _start_servers(tb)
    except BaseException:
        down(spec)
        raise
    log.info("testbed %s up: %d UEs, %d servers", spec.name, len(tb.ues), len(tb.servers))
    return tb


@dataclass
class DownReport:
    """What :func:`down` removed."""

    stopped: list[str] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _stop_strays(ns: str) -> list[str]:
    """Processes still inside a testbed namespace that no record names (e.g. the state file was lost)."""
    stopped = []
    for pid in run(["ip", "netns", "pids", ns], check=False).stdout.split():
        start = process_start_time(int(pid))
        if start is not None and stop(ProcInfo("stray", ns, int(pid), start, ())):
            stopped.append(f"stray (pid {pid}) in {ns}")
    return stopped


def down(spec: TestbedSpec) -> DownReport:
    """Stop every recorded process (by PID), delete the testbed's namespaces (and with them links and rules)."""
    report = DownReport()
    tb = load(spec)
    for proc in tb.processes if tb is not None else []:
        if stop(proc):
            report.stopped.append(f"{proc.name} (pid {proc.pid})")
    for ns in list_namespaces():
        if ns.startswith(f"{spec.name}-"):
            report.stopped += _stop_strays(ns)
            done = run(["ip", "netns", "del", ns], check=False)
            (report.namespaces if done.returncode == 0 else report.errors).append(
                ns if done.returncode == 0 else f"{ns}: {done.stderr.strip()}")
    state_path(spec).unlink(missing_ok=True)
    log.info("testbed %s down: %d processes stopped, %d namespaces deleted", spec.name, len(report.stopped),
             len(report.namespaces))
    return report
