"""scripts/services/{clickhouse,influxdb} as the Makefile uses them: start, idempotent start, status, loopback-only,
stop by PID with the data dir removed."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.servers import ServerError, service_script

pytestmark = pytest.mark.integration


def run(kind: str, command: str, state: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, str(service_script(kind)), command, "--state", str(state)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket in LISTEN state held by process ``pid``."""
    inodes = {os.readlink(fd)[8:-1] for fd in Path(f"/proc/{pid}/fd").iterdir()
              if os.readlink(fd).startswith("socket:[")}
    found = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:
                addr, port = fields[1].split(":")
                raw = bytes.fromhex(addr)
                ip = ipaddress.ip_address(raw[::-1] if len(raw) == 4 else
                                          b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))
                found.add((str(ip), int(port, 16)))
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize(("kind", "scheme", "database"), [("clickhouse", "clickhouse", "default"),
                                                          ("influxdb", "influxdb", "nwdaf")])
def test_start_status_stop(kind: str, scheme: str, database: str, tmp_path: Path) -> None:
    state = tmp_path / f"{kind}.json"
    started = run(kind, "start", state)
    if started.returncode != 0:
        if os.environ.get("NWDAF_SKIP_SERVERS") == "1":
            pytest.skip(f"{kind} start failed (NWDAF_SKIP_SERVERS=1): {started.stderr.strip()}")
        pytest.fail(f"scripts/services/{kind} start failed:\n{started.stderr.strip()}", pytrace=False)
    values = dict(line.split("=", 1) for line in started.stdout.splitlines())
    prefix = kind.upper()
    pid = int(values[f"{prefix}_PID"])
    data_dir = Path(json.loads(state.read_text())["dir"])
    try:
        assert values[f"{prefix}_URL"].startswith(f"{scheme}://127.0.0.1:")
        assert values[f"{prefix}_URL"].endswith(f"/{database}")
        again = run(kind, "start", state)
        assert again.returncode == 0
        assert f"{prefix}_PID={pid}" in again.stdout, "a second start must report the running server"

        status = run(kind, "status", state)
        assert status.returncode == 0, status.stdout
        assert json.loads(status.stdout)["answering"] is True
        assert {addr for addr, _ in listening_addresses(pid)} == {"127.0.0.1"}
    finally:
        stopped = run(kind, "stop", state)
    assert stopped.returncode == 0, stopped.stderr
    assert not alive(pid)
    assert not data_dir.exists()
    assert not state.exists()
    assert run(kind, "status", state).returncode == 3


def test_unknown_script_is_a_clear_error() -> None:
    with pytest.raises(ServerError, match="not found"):
        service_script("postgres")
