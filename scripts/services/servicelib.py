"""Helpers shared by the service scripts in this directory (standard library only): state files, free loopback
ports, log tails and stopping a process by PID."""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from pathlib import Path


class ServiceError(RuntimeError):
    """Anything that stops a subcommand; its message is printed for the user."""


def say(service: str, msg: str) -> None:
    print(f"{service}: {msg}", file=sys.stderr, flush=True)


def read_state(path: Path) -> dict[str, object] | None:
    try:
        state: dict[str, object] = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ServiceError(f"unreadable state file {path}: {exc}") from exc
    return state


def write_state(path: Path, state: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(path)


def cmdline_has(pid: int, *parts: str) -> bool:
    """True if ``pid`` is alive and its command line contains every one of ``parts`` (guards against PID reuse)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return all(part in cmdline for part in parts)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)  # reaps it when we are the parent (a start that failed)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def terminate(pid: int, grace: float) -> bool:
    """SIGTERM, then SIGKILL after ``grace`` seconds; True once the process is gone."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.1)
    say("service", f"pid {pid} still alive {grace:.0f}s after SIGTERM; sending SIGKILL")
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    for _ in range(50):
        if not alive(pid):
            return True
        time.sleep(0.1)
    return False
