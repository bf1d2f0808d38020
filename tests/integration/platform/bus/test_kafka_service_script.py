"""scripts/services/kafka as the Makefile uses it: start, idempotent start, status, loopback-only, stop by PID."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.kafka import check_answers, service_script
from tests.support.pytest_plugin import unavailable

pytestmark = [pytest.mark.integration, pytest.mark.kafka]


def run(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, str(service_script()), "--state", str(state), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)


def _address(hex_addr: str) -> str:
    raw = bytes.fromhex(hex_addr)
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw[::-1]))
    v6 = ipaddress.IPv6Address(b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4)))
    return str(v6.ipv4_mapped or v6)


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket in LISTEN state that process ``pid`` holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd)
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A = TCP_LISTEN
                addr, port = fields[1].split(":")
                found.add((_address(addr), int(port, 16)))
    return found


def running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_start_status_stop(tmp_path: Path) -> None:
    state, workdir = tmp_path / "kafka.json", tmp_path / "broker"
    started = run(state, "start", "--dir", str(workdir))
    if started.returncode != 0:
        unavailable(f"scripts/services/kafka start failed: {started.stderr.strip()}")
    values = dict(line.split("=", 1) for line in started.stdout.splitlines())
    pid = int(values["KAFKA_PID"])
    try:
        assert values["KAFKA_BOOTSTRAP"].startswith("127.0.0.1:")
        assert check_answers(values["KAFKA_BOOTSTRAP"]) == 1

        again = run(state, "start", "--dir", str(workdir))
        assert again.returncode == 0
        assert f"KAFKA_PID={pid}" in again.stdout, "a second start must reuse the running broker"

        status = run(state, "status")
        assert status.returncode == 0
        assert json.loads(status.stdout)["answering"] is True

        sockets = listening_addresses(pid)
        assert len(sockets) >= 2, sockets  # client listener and KRaft controller listener
        assert {addr for addr, _ in sockets} == {"127.0.0.1"}
    finally:
        stopped = run(state, "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert not running(pid)
    assert not workdir.exists()
    assert run(state, "status").returncode == 3
