"""tests.support.lifecycle: start a command, wait until it answers, record it, stop it by PID; the script runner."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from tests.support import lifecycle
from tests.support.lifecycle import ScriptServer, ServerError
from tests.support.polling import wait_until_sync

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[3]
SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]


@pytest.fixture
def sleeper(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    proc = lifecycle.launch([*SLEEPER, str(tmp_path)], tmp_path / "out.log")
    # A process just started may show an empty command line for a moment.
    wait_until_sync(lambda: lifecycle.owns(proc.pid, str(tmp_path)), timeout_s=30, interval_s=0.01,
                    message="the sleeper's command line")
    yield proc
    if lifecycle.alive(proc.pid):
        lifecycle.terminate(proc.pid, 1.0)
    proc.poll()  # reaped by lifecycle.alive(): let the Popen know


def test_launched_process_is_owned_and_terminated(sleeper: subprocess.Popen[bytes], tmp_path: Path) -> None:
    assert lifecycle.alive(sleeper.pid)
    assert lifecycle.owns(sleeper.pid, "time.sleep", str(tmp_path))
    assert not lifecycle.owns(sleeper.pid, "kafka.Kafka")
    assert lifecycle.terminate(sleeper.pid, 5.0)
    assert not lifecycle.alive(sleeper.pid)
    assert not lifecycle.owns(sleeper.pid, "time.sleep")
    assert lifecycle.terminate(sleeper.pid, 5.0)  # already gone


def test_sigkill_after_the_grace_period(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); " \
               "time.sleep(600)"
    log = tmp_path / "out.log"
    proc = lifecycle.launch([sys.executable, "-c", stubborn], log)
    lifecycle.wait_ready(proc, lambda: log.read_text().strip() == "ready" or _not_yet(), name="stubborn",
                         awaiting="its first line", timeout_s=30, interval_s=0.01)
    assert lifecycle.terminate(proc.pid, 0.1, name="stubborn")
    assert "stubborn: pid" in capsys.readouterr().err
    assert not lifecycle.alive(proc.pid)
    proc.poll()


def _not_yet() -> bool:
    raise ServerError("not yet")


def test_wait_ready_returns_the_first_answer(sleeper: subprocess.Popen[bytes]) -> None:
    calls = iter([OSError("refused"), ValueError("garbled"), "v1.2"])

    def probe() -> str:
        answer = next(calls)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert lifecycle.wait_ready(sleeper, probe, name="x", awaiting="a query", timeout_s=30, interval_s=0) == "v1.2"
    assert lifecycle.alive(sleeper.pid)


def test_wait_ready_reports_an_exit_with_the_log_tail(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    proc = lifecycle.launch([sys.executable, "-c", "print('cannot bind'); raise SystemExit(3)"], log)
    with pytest.raises(ServerError, match=r"(?s)x exited with code 3 during start-up.*cannot bind"):
        lifecycle.wait_ready(proc, _not_yet, name="x", awaiting="a query", timeout_s=30, interval_s=0.01,
                             logs=[log, tmp_path / "missing.log"])


def test_wait_ready_stops_what_does_not_answer_in_time(sleeper: subprocess.Popen[bytes]) -> None:
    with pytest.raises(ServerError, match=r"x did not answer a query at http://127.0.0.1:1 within 0s"):
        lifecycle.wait_ready(sleeper, _not_yet, name="x", awaiting="a query at http://127.0.0.1:1", timeout_s=0,
                             interval_s=0)
    assert not lifecycle.alive(sleeper.pid)


def test_fresh_dirs_are_retried_on_a_port_clash_and_removed(capsys: pytest.CaptureFixture[str]) -> None:
    dirs: list[Path] = []

    def boot(workdir: Path) -> str:
        dirs.append(workdir)
        assert workdir.is_dir()
        if len(dirs) < 3:
            raise ServerError("Address already in use")
        return "up"

    assert lifecycle.in_fresh_dir("x", boot, clash=lambda exc, _: "in use" in str(exc)) == "up"
    assert len(set(dirs)) == 3
    assert not dirs[0].exists()
    assert not dirs[1].exists()
    assert dirs[2].is_dir()
    dirs[2].rmdir()
    assert capsys.readouterr().err.count("port clash") == 2

    def broken(workdir: Path) -> str:
        dirs.append(workdir)
        raise ServerError("no such binary")

    with pytest.raises(ServerError, match="no such binary"):
        lifecycle.in_fresh_dir("x", broken, clash=lambda exc, _: False)
    assert not dirs[-1].exists()


def test_stop_recorded(sleeper: subprocess.Popen[bytes], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state_file, data = tmp_path / "run" / "x.json", tmp_path / "data"
    data.mkdir()
    lifecycle.write_state(state_file, {"pid": sleeper.pid, "dir": str(data)})
    assert lifecycle.read_state(state_file) == {"pid": sleeper.pid, "dir": str(data)}
    lifecycle.stop_recorded("x", state_file, 5.0, lambda s: lifecycle.owns(int(s["pid"]), str(tmp_path)))
    assert not lifecycle.alive(sleeper.pid)
    assert not data.exists()
    assert not state_file.exists()
    assert f"x: stopped pid {sleeper.pid}" in capsys.readouterr().err
    lifecycle.stop_recorded("x", state_file, 5.0, lambda s: True)
    assert "x: not running (no state file" in capsys.readouterr().err


def test_stop_recorded_leaves_a_process_that_is_not_ours(sleeper: subprocess.Popen[bytes], tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    state_file = tmp_path / "x.json"
    lifecycle.write_state(state_file, {"pid": sleeper.pid, "dir": str(tmp_path / "gone")})
    lifecycle.stop_recorded("x", state_file, 5.0, lambda s: False, what="broker")
    assert lifecycle.alive(sleeper.pid)
    assert "is not running (or is not our broker); cleaning up" in capsys.readouterr().err
    assert not state_file.exists()


def test_unreadable_state_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("{")
    with pytest.raises(ServerError, match="unreadable state file"):
        lifecycle.read_state(tmp_path / "x.json")


FAKE_SCRIPT = textwrap.dedent("""\
    import os, sys
    command, _, state = sys.argv[1:4]
    if command == "start":
        if os.environ.get("FAKE_FAIL"):
            sys.exit("fake: cannot start")
        open(state, "w").write("up")
        print(f"FAKE_URL=fake://127.0.0.1:1\\nFAKE_ARGS={' '.join(sys.argv[4:])}\\nFAKE_ENV={os.environ['FAKE_ENV']}")
    elif command == "stop":
        os.remove(state)
""")


class FakeServer(ScriptServer[dict[str, str]]):
    def __init__(self, script: Path, env: Mapping[str, str]) -> None:
        super().__init__("fake", timeout_s=60, start_args=["--timeout", "5"], env=env)
        self._script = script

    def script(self) -> Path:
        return self._script

    def parse(self, values: Mapping[str, str]) -> dict[str, str]:
        return dict(values)


def test_script_server_starts_and_stops_with_a_private_state_file(tmp_path: Path) -> None:
    script = tmp_path / "fake"
    script.write_text(FAKE_SCRIPT)
    server = FakeServer(script, {"FAKE_ENV": "given"})
    with server as values:
        assert values == {"FAKE_URL": "fake://127.0.0.1:1", "FAKE_ARGS": "--timeout 5", "FAKE_ENV": "given"}
        assert server.start() is values  # idempotent
        assert server.running is values
    assert server.running is None
    server.stop()  # idempotent

    failing = FakeServer(script, {"FAKE_ENV": "x", "FAKE_FAIL": "1"})
    with pytest.raises(ServerError, match=r"(?s)scripts/services/fake start failed:.*cannot start"):
        failing.start()
    assert failing.running is None


def test_service_script_lookup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert lifecycle.service_script("kafka") == REPO / "scripts" / "services" / "kafka"
    monkeypatch.setenv("NWDAF_TEST_SCRIPT", str(tmp_path / "nowhere"))
    with pytest.raises(ServerError, match=r"not found \(set NWDAF_TEST_SCRIPT\)"):
        lifecycle.service_script("kafka", "NWDAF_TEST_SCRIPT")


@pytest.mark.parametrize(("name", "out", "code"), [
    ("clickhouse", "not running (no state file {state})\n", 3),
    ("influxdb", "not running (no state file {state})\n", 3),
    ("kafka", "not running (no state file {state})\n", 3),
    ("mlflow", "", 3),
])
def test_scripts_need_only_the_standard_library(name: str, out: str, code: int, tmp_path: Path) -> None:
    """scripts/run-tests calls them before any virtualenv exists: -S (no site-packages), -I (no PYTHONPATH)."""
    state = tmp_path / "none.json"
    script = REPO / "scripts" / "services" / name
    result = subprocess.run([sys.executable, "-I", "-S", str(script), "status", "--state", str(state)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert (result.returncode, result.stdout) == (code, out.format(state=state)), result.stderr
