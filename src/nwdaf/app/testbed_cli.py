"""``nwdaf testbed up | down | run SCENARIO | status``: the namespace testbed from the command line (root only).

Wire it into the main CLI with ``app.add_typer(testbed_app, name="testbed")``. A typical session::

    nwdaf testbed up --ues 4
    NWDAF_UPF__SOURCE=live:n3@nwdaf-tb-upf NWDAF_UPF__ENFORCEMENT=nft:nwdaf-tb-upf nwdaf run upf &
    nwdaf testbed run scan --upf http://127.0.0.1:8081     # establishes the UEs' sessions, starts the traffic
    nwdaf testbed down
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import httpx
import typer

from nwdaf.lib.testbed import traffic
from nwdaf.lib.testbed.netns import TestbedError, netns_permitted
from nwdaf.lib.testbed.topology import Testbed, TestbedSpec, down, load, up

testbed_app = typer.Typer(help="Linux network-namespace testbed: UEs, a UPF router, a DN with servers (root only).",
                          no_args_is_help=True)

NameOpt = Annotated[str, typer.Option("--name", help="Prefix of the testbed's namespaces.")]
StateOpt = Annotated[Path, typer.Option("--state-dir", help="Where the testbed records its namespaces and PIDs.")]
_DEFAULT = TestbedSpec()


def _fail(message: str) -> typer.Exit:
    typer.echo(f"nwdaf testbed: {message}", err=True)
    return typer.Exit(2)


def _require_root() -> None:
    reason = netns_permitted()
    if reason:
        raise _fail(reason)


def _loaded(name: str, state_dir: Path) -> Testbed:
    tb = load(TestbedSpec(name=name, state_dir=state_dir))
    if tb is None:
        raise _fail(f"no testbed {name!r} in {state_dir}: run 'nwdaf testbed up' first")
    return tb


def establish_sessions(tb: Testbed, upf_url: str) -> dict[str, int]:
    """Establish every UE's PDU session over the UPF's N4 API (what the SMF does); returns SUPI -> SEID."""
    seids: dict[str, int] = {}
    with httpx.Client(base_url=upf_url, timeout=10) as client:
        for ue in tb.ues:
            resp = client.post("/nupf-n4/v1/pdu-sessions", json={
                "supi": ue.supi, "pduSessionId": 1, "ueIpv4Addr": ue.ipv4, "snssai": {"sst": 1, "sd": "000001"},
                "dnn": "internet"})
            if resp.status_code != 201:
                raise TestbedError(f"N4 establishment of {ue.supi} failed: HTTP {resp.status_code} {resp.text}")
            seids[ue.supi] = int(resp.json()["seid"])
    return seids


@testbed_app.command("up")
def cmd_up(
    ues: Annotated[int, typer.Option("--ues", min=1, max=200, help="Number of UE namespaces.")] = 3,
    servers: Annotated[int, typer.Option("--servers", min=1, max=100, help="DN server addresses.")] = 3,
    name: NameOpt = _DEFAULT.name,
    state_dir: StateOpt = _DEFAULT.state_dir,
) -> None:
    """Create the namespaces, links, DN servers and the UPF's release table."""
    _require_root()
    try:
        tb = up(TestbedSpec(name=name, n_ues=ues, n_servers=servers, state_dir=state_dir))
    except (TestbedError, ValueError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"testbed {name} up: UPF namespace {tb.upf_ns}, DN {tb.dn_ns}")
    for ue in tb.ues:
        typer.echo(f"  UE {ue.index}: {ue.ns} {ue.ipv4} {ue.supi}")
    typer.echo(f"  DN servers: {', '.join(f'{a}:{p}' for a, p in tb.servers)}")
    typer.echo(f"run the UPF with: NWDAF_UPF__SOURCE={tb.capture_source} NWDAF_UPF__ENFORCEMENT=nft:{tb.upf_ns} "
               "nwdaf run upf")


@testbed_app.command("down")
def cmd_down(name: NameOpt = _DEFAULT.name, state_dir: StateOpt = _DEFAULT.state_dir) -> None:
    """Stop every testbed process (by PID) and delete its namespaces."""
    _require_root()
    report = down(TestbedSpec(name=name, state_dir=state_dir))
    typer.echo(f"stopped {len(report.stopped)} processes, deleted {len(report.namespaces)} namespaces")
    if report.errors:
        raise _fail("; ".join(report.errors))


@testbed_app.command("run")
def cmd_run(
    scenario: Annotated[str, typer.Argument(help=f"One of {', '.join(traffic.SCENARIOS)}.")],
    name: NameOpt = _DEFAULT.name,
    state_dir: StateOpt = _DEFAULT.state_dir,
    upf: Annotated[str | None, typer.Option("--upf", help="UPF SBI URL: establish the UEs' sessions first.")] = None,
    duration: Annotated[float | None, typer.Option("--duration", min=1, help="Stop the traffic after S seconds.")]
    = None,
) -> None:
    """Start a traffic scenario in a running testbed (benign: curl loops; scan: one UE runs nmap scans)."""
    _require_root()
    tb = _loaded(name, state_dir)
    try:
        if upf is not None:
            for supi, seid in establish_sessions(tb, upf).items():
                typer.echo(f"  session {supi}: seid {seid}")
        started = traffic.start(tb, scenario)
    except (TestbedError, ValueError, httpx.HTTPError) as exc:
        raise _fail(str(exc)) from None
    for proc in started:
        typer.echo(f"  {proc.name} in {proc.ns}: pid {proc.pid}")
    if duration is not None:
        time.sleep(duration)
        stopped = traffic.stop_traffic(tb)
        typer.echo(f"stopped {len(stopped)} traffic generators after {duration:g} s")


@testbed_app.command("status")
def cmd_status(name: NameOpt = _DEFAULT.name, state_dir: StateOpt = _DEFAULT.state_dir) -> None:
    """The testbed's UEs and processes (alive or not)."""
    tb = _loaded(name, state_dir)
    for ue in tb.ues:
        typer.echo(f"UE {ue.index}: {ue.ns} {ue.ipv4} {ue.supi}")
    for proc in tb.processes:
        typer.echo(f"{proc.name}: pid {proc.pid} {'running' if proc.alive() else 'gone'}")
