"""One lifecycle for the real servers that tests and benchmarks use (Kafka, MLflow, ClickHouse, InfluxDB).

Each server has a script, ``scripts/services/<name>``, and both halves of its lifecycle are here:

* In the script (:func:`launch`, :func:`wait_ready`, :func:`write_state`, :func:`stop_recorded` ...): the server
  command starts in its own session in a fresh temp dir with free loopback ports, is waited for until it answers a
  real request, and its PID, ports and dir go into a JSON state file. ``stop`` ends it by that PID (after checking
  its command line, against PID reuse): SIGTERM, then SIGKILL after a grace period; the dir and state file go.
* In tests and benchmarks (:class:`ScriptServer`): ``<script> start --state FILE`` with a private state file, the
  ``KEY=VALUE`` lines it prints, and ``<script> stop --state FILE`` at the end, exactly as ``make test`` does it.

Standard library only: the scripts import this before any virtualenv exists (with the repository root on
``sys.path``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, TypeVar

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parents[2]

State = dict[str, Any]
"""A state file's content: at least ``pid`` and ``dir``."""


class ServerError(RuntimeError):
    """A server could not be installed, started, reached or stopped; the message says why."""


def say(name: str, msg: str) -> None:
    print(f"{name}: {msg}", file=sys.stderr, flush=True)


# --- the script side -----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_state(path: Path) -> State | None:
    try:
        state: State = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ServerError(f"unreadable state file {path}: {exc}") from exc
    return state


def write_state(path: Path, state: State) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(path)


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie is not running; one that is our child is reaped)."""
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def owns(pid: int, *parts: str) -> bool:
    """True if ``pid`` runs and its command line contains every one of ``parts`` (guards against PID reuse)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return all(part in cmdline for part in parts) and alive(pid)


def terminate(pid: int, grace: float, *, name: str = "service", group: bool = False) -> bool:
    """SIGTERM, then SIGKILL after ``grace`` seconds, to the process (or its whole process group, when it leads
    one); True once the process is gone."""
    send = os.killpg if group else os.kill
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            send(pid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not alive(pid):
                return True
            time.sleep(0.05)
        if sig == signal.SIGTERM:
            say(name, f"pid {pid} still alive {grace:.0f}s after SIGTERM; sending SIGKILL")
    return False


def log_tail(*paths: Path, lines: int = 30) -> str:
    """The last ``lines`` of each non-empty file, each under a ``--- path`` header."""
    parts = []
    for path in paths:
        if path.is_file() and path.stat().st_size:
            text = "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            parts.append(f"--- {path}\n{text}")
    return "\n".join(parts) or "(no log output)"


def launch(cmd: Sequence[str], log: Path, *, cwd: Path | None = None,
           env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start ``cmd`` in its own session (it outlives the script; :func:`terminate` stops it by PID), with
    stdout and stderr appended to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(list(cmd), cwd=cwd, env=None if env is None else dict(env), stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def wait_ready(proc: subprocess.Popen[bytes], probe: Callable[[], T], *, name: str, awaiting: str,
               timeout_s: float, interval_s: float, logs: Sequence[Path] = (), group: bool = False) -> T:
    """``probe()``'s first answer, retried every ``interval_s`` while it raises ``OSError``, ``ValueError`` or
    :class:`ServerError`. If the process exits, or ``timeout_s`` passes (it is then stopped), raises
    :class:`ServerError` naming ``awaiting`` (e.g. ``"a query at http://..."``) with the tail of ``logs``."""
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            if proc.poll() is not None:
                raise ServerError(f"{name} exited with code {proc.returncode} during start-up; log tail:\n"
                                  f"{log_tail(*logs)}")
            try:
                return probe()
            except (OSError, ValueError, ServerError):
                if time.monotonic() > deadline:
                    raise ServerError(f"{name} did not answer {awaiting} within {timeout_s:.0f}s; log tail:\n"
                                      f"{log_tail(*logs)}") from None
            time.sleep(interval_s)
    except BaseException:
        terminate(proc.pid, 5.0, name=name, group=group)
        proc.poll()  # it was reaped by terminate(): let the Popen know
        raise


def in_fresh_dir(name: str, boot: Callable[[Path], T], *, clash: Callable[[ServerError, Path], bool],
                 directory: Path | None = None, attempts: int = 3) -> T:
    """``boot(dir)`` in a new temp dir (or in ``directory``). A port probed free can be taken before the server
    binds it: when ``clash`` says that is why it failed, the dir is removed and it is tried again (new ports)."""
    for attempt in range(attempts):
        workdir = directory or Path(tempfile.mkdtemp(prefix=f"nwdaf-{name}-"))
        try:
            return boot(workdir)
        except ServerError as exc:
            clashed = clash(exc, workdir)
            shutil.rmtree(workdir, ignore_errors=True)
            if not clashed or attempt == attempts - 1:
                raise
            say(name, "port clash; retrying with new ports")
    raise AssertionError("unreachable")


def stop_recorded(name: str, state_file: Path, grace: float, is_ours: Callable[[State], bool],
                  what: str = "server") -> None:
    """Stop the server ``state_file`` names by its PID, if it is still ours; remove its dir and the state file."""
    state = read_state(state_file)
    if state is None:
        say(name, f"not running (no state file {state_file})")
        return
    pid = int(str(state["pid"]))
    if is_ours(state):
        began = time.monotonic()
        if not terminate(pid, grace, name=name):
            raise ServerError(f"could not stop {name} pid {pid}")
        say(name, f"stopped pid {pid} in {time.monotonic() - began:.1f}s")
    else:
        say(name, f"pid {pid} is not running (or is not our {what}); cleaning up")
    shutil.rmtree(str(state["dir"]), ignore_errors=True)
    state_file.unlink(missing_ok=True)


# --- the test side -------------------------------------------------------------------------------------------------


def service_script(name: str, env_var: str | None = None, error: type[ServerError] = ServerError) -> Path:
    """``scripts/services/<name>`` of this checkout (``env_var``, when given and set, names another)."""
    default = REPO_ROOT / "scripts" / "services" / name
    script = Path(os.environ.get(env_var, default)) if env_var else default
    if not script.is_file():
        hint = f" (set {env_var})" if env_var else ""
        raise error(f"server script {script} not found{hint}")
    return script


class ScriptServer(ABC, Generic[T]):
    """Context manager around ``<script> start``/``stop`` with a private state file: a server a test session
    starts is started and stopped exactly as ``make test`` does it. ``start`` returns what :meth:`parse` makes of
    the ``KEY=VALUE`` lines the script printed."""

    error: type[ServerError] = ServerError

    def __init__(self, name: str, *, timeout_s: float, start_args: Sequence[str] = (),
                 env: Mapping[str, str] | None = None) -> None:
        self.name = name
        self._timeout_s = timeout_s
        self._start_args = list(start_args)
        self._env = env
        self._state_dir: tempfile.TemporaryDirectory[str] | None = None
        self.running: T | None = None

    @abstractmethod
    def script(self) -> Path:
        """The script to run."""

    @abstractmethod
    def parse(self, values: Mapping[str, str]) -> T:
        """What ``start`` printed, as the caller's description of the running server."""

    def _run(self, command: str, *args: str) -> str:
        assert self._state_dir is not None
        state = Path(self._state_dir.name) / f"{self.name}.json"
        cmd = [sys.executable, str(self.script()), command, "--state", str(state), *args]
        env = None if self._env is None else {**os.environ, **self._env}
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=self._timeout_s, check=False, env=env)
        except subprocess.TimeoutExpired as exc:
            raise self.error(f"scripts/services/{self.name} {command} did not finish within "
                             f"{self._timeout_s:.0f}s") from exc
        if proc.returncode != 0:
            raise self.error(f"scripts/services/{self.name} {command} failed:\n{proc.stderr.strip()}")
        return proc.stdout

    def start(self) -> T:
        if self.running is not None:
            return self.running
        self._state_dir = tempfile.TemporaryDirectory(prefix=f"nwdaf-{self.name}-state-")
        try:
            out = self._run("start", *self._start_args)
        except ServerError:
            self._state_dir.cleanup()
            self._state_dir = None
            raise
        self.running = self.parse(dict(line.split("=", 1) for line in out.splitlines() if "=" in line))
        return self.running

    def stop(self) -> None:
        if self._state_dir is None:
            return
        try:
            self._run("stop")
        finally:
            self._state_dir.cleanup()
            self._state_dir = None
            self.running = None

    def __enter__(self) -> T:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
