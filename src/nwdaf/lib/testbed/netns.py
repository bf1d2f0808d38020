"""Thin, checked wrappers over ``ip``/``nft`` and the processes the testbed starts inside namespaces.

Every process is started in its own session, so stopping it (by the PID recorded at start) also stops the children
of a shell loop. The recorded start time guards against signalling an unrelated process that reused the PID.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


class TestbedError(RuntimeError):
    """A testbed command failed; the message carries the command and its stderr."""

    __test__ = False  # not a pytest test class despite the name


def require_tools(*tools: str) -> None:
    """Fail with an install hint when a required program is missing."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        raise TestbedError(f"missing program(s) {missing}: apt-get install -y iproute2 nftables nmap curl")


def run(argv: Sequence[str], *, check: bool = True, timeout: float = 20.0) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing output; raise :class:`TestbedError` with its stderr when ``check`` and it fails."""
    try:
        proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TestbedError(f"{' '.join(argv)}: {exc}") from exc
    if check and proc.returncode != 0:
        raise TestbedError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()[:500]}")
    return proc


def in_ns(ns: str, argv: Sequence[str]) -> list[str]:
    return ["ip", "netns", "exec", ns, *argv]


def ns_run(
    ns: str, argv: Sequence[str], *, check: bool = True, timeout: float = 20.0
) -> subprocess.CompletedProcess[str]:
    return run(in_ns(ns, argv), check=check, timeout=timeout)


def list_namespaces() -> list[str]:
    out = run(["ip", "netns", "list"]).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def netns_permitted() -> str | None:
    """None when this process may create network namespaces, else the reason it may not."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "the 'ip' program (iproute2) is not installed"
    probe = f"nwdaf-probe-{os.getpid()}"
    made = run(["ip", "netns", "add", probe], check=False)
    if made.returncode != 0:
        return f"'ip netns add' is not permitted here: {made.stderr.strip()}"
    run(["ip", "netns", "del", probe], check=False)
    return None


def process_start_time(pid: int) -> int | None:
    """The kernel start time of a live process, None if it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])  # field 22 (starttime), counted after "comm"


@dataclass(frozen=True, slots=True)
class ProcInfo:
    """A process the testbed started: enough to stop exactly that process later."""

    name: str
    ns: str
    pid: int
    start_time: int
    argv: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProcInfo:
        return cls(data["name"], data["ns"], int(data["pid"]), int(data["start_time"]), tuple(data["argv"]))

    def alive(self) -> bool:
        return process_start_time(self.pid) == self.start_time


_LAUNCH = 'setsid "$@" </dev/null >>"$LOG" 2>&1 & echo $!'


def spawn(name: str, ns: str, argv: Sequence[str], log_path: Path | None = None) -> ProcInfo:
    """Start ``argv`` inside namespace ``ns`` as a session leader detached from this process.

    A launcher shell backgrounds it and prints its PID (``setsid`` and ``ip netns exec`` both exec in place, so
    that PID is the command's); the process is not our child, so it outlives a CLI that started it and never
    lingers as our zombie. Output goes to ``log_path`` (or nowhere).
    """
    env = {**os.environ, "LOG": str(log_path) if log_path is not None else "/dev/null"}
    try:
        out = subprocess.run(["sh", "-c", _LAUNCH, "sh", *in_ns(ns, argv)], capture_output=True, text=True,
                             env=env, timeout=10, check=True)
        pid = int(out.stdout.strip())
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        raise TestbedError(f"cannot start {name} in {ns}: {exc}") from exc
    started = None
    for _ in range(50):  # the launched process may not have exec'd yet; its start time is fixed at fork anyway
        started = process_start_time(pid)
        if started is not None:
            break
        time.sleep(0.01)
    if started is None:
        raise TestbedError(f"{name} in {ns} exited at once: {' '.join(argv)}")
    return ProcInfo(name, ns, pid, started, tuple(argv))


def stop(proc: ProcInfo, timeout: float = 3.0) -> bool:
    """SIGTERM the session led by ``proc.pid``, SIGKILL after ``timeout``; False if it was already gone."""
    if not proc.alive():
        return False
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not proc.alive():
                return True
            time.sleep(0.05)
    return not proc.alive()


NFT_TABLE = "nwdaf_upf"


def nft_setup(ns: str) -> None:
    """The UPF namespace's filter table: one forward and one input chain that released UEs are added to."""
    script = (
        f"add table inet {NFT_TABLE}\n"
        f"add chain inet {NFT_TABLE} forward {{ type filter hook forward priority 0; policy accept; }}\n"
        f"add chain inet {NFT_TABLE} input {{ type filter hook input priority 0; policy accept; }}\n"
    )
    _nft(ns, script)


def _family(address: str) -> str:
    return "ip6" if ":" in address else "ip"


def nft_block(ns: str, address: str) -> None:
    """Drop every packet from or to ``address`` that the UPF namespace forwards or receives."""
    fam = _family(address)
    comment = f'comment "nwdaf-release {address}"'
    script = "\n".join(
        f"add rule inet {NFT_TABLE} {chain} {fam} {side} {address} counter drop {comment}"
        for chain in ("forward", "input") for side in ("saddr", "daddr") if not (chain == "input" and side == "daddr")
    )
    _nft(ns, script + "\n")


def nft_blocked(ns: str) -> list[str]:
    """Addresses with a release rule in the UPF namespace."""
    out = ns_run(ns, ["nft", "-a", "list", "table", "inet", NFT_TABLE], check=False).stdout
    found = {line.split('"nwdaf-release ')[1].split('"')[0] for line in out.splitlines() if "nwdaf-release " in line}
    return sorted(found)


def nft_unblock(ns: str, address: str) -> None:
    out = ns_run(ns, ["nft", "-a", "list", "table", "inet", NFT_TABLE]).stdout
    chain = ""
    for line in out.splitlines():
        text = line.strip()
        if text.startswith("chain "):
            chain = text.split()[1]
        if f'"nwdaf-release {address}"' in text and "# handle " in text:
            handle = text.rsplit("# handle ", 1)[1]
            ns_run(ns, ["nft", "delete", "rule", "inet", NFT_TABLE, chain, "handle", handle])


def _nft(ns: str, script: str) -> None:
    try:
        proc = subprocess.run(in_ns(ns, ["nft", "-f", "-"]), input=script, capture_output=True, text=True,
                              timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TestbedError(f"nft in {ns}: {exc}") from exc
    if proc.returncode != 0:
        raise TestbedError(f"nft in {ns} failed: {proc.stderr.strip()[:500]}")
