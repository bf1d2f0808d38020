"""A real Apache Kafka broker for tests and benchmarks, run by ``scripts/services/kafka``.

:class:`KafkaServer` starts a private broker (its own state file, temp dir and free port) and stops it by PID;
:func:`broker_from_env` adopts one already started (``KAFKA_BOOTSTRAP``, as the Makefile exports it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

_REPO_ROOT = Path(__file__).resolve().parents[2]


class KafkaServerError(RuntimeError):
    """The broker could not be fetched, started, reached or stopped; the message says why."""


@dataclass(frozen=True)
class KafkaBroker:
    """A running broker: where it listens, which release it is, and whether this process started it."""

    bootstrap: str
    version: str
    pid: int | None = None
    started_here: bool = False

    def describe(self) -> str:
        origin = f"started here, pid {self.pid}" if self.started_here else "from KAFKA_BOOTSTRAP"
        return f"real Apache Kafka {self.version} at {self.bootstrap} ({origin})"


def service_script() -> Path:
    """``scripts/services/kafka`` of this checkout (``NWDAF_KAFKA_SCRIPT`` overrides)."""
    script = Path(os.environ.get("NWDAF_KAFKA_SCRIPT", _REPO_ROOT / "scripts" / "services" / "kafka"))
    if not script.is_file():
        raise KafkaServerError(f"broker script {script} not found (set NWDAF_KAFKA_SCRIPT)")
    return script


def check_answers(bootstrap: str, timeout_s: float = 10.0) -> int:
    """Return the number of brokers the cluster at ``bootstrap`` lists in a metadata response."""
    # Imported here so that tests.support loads without the kafka extra (other servers' helpers live beside it).
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})
    try:
        metadata = admin.list_topics(timeout=timeout_s)
    except KafkaException as exc:
        raise KafkaServerError(f"Kafka at {bootstrap} does not answer: {exc.args[0].str()}") from exc
    if not metadata.brokers:
        raise KafkaServerError(f"Kafka at {bootstrap} answered with no brokers")
    return len(metadata.brokers)


def broker_from_env() -> KafkaBroker | None:
    """The broker named by ``KAFKA_BOOTSTRAP`` (version from ``KAFKA_VERSION`` or the script's state file)."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP", "").strip()
    if not bootstrap:
        return None
    version = os.environ.get("KAFKA_VERSION") or _version_from_state(bootstrap) or "(version unknown)"
    check_answers(bootstrap)
    return KafkaBroker(bootstrap=bootstrap, version=version)


def _version_from_state(bootstrap: str) -> str | None:
    cache = Path(os.environ.get("NWDAF_CACHE", "~/.cache/nwdaf")).expanduser()
    state_file = Path(os.environ.get("NWDAF_KAFKA_STATE", cache / "run" / "kafka.json")).expanduser()
    try:
        state = json.loads(state_file.read_text())
    except (OSError, ValueError):
        return None
    return str(state["version"]) if state.get("bootstrap") == bootstrap else None


class KafkaServer:
    """Context manager around ``scripts/services/kafka start``/``stop`` with a private state file."""

    def __init__(self, *, timeout_s: float = 600.0) -> None:
        self._timeout_s = timeout_s  # covers a first-time fetch of the jars, not only the start
        self._state_dir: tempfile.TemporaryDirectory[str] | None = None
        self.broker: KafkaBroker | None = None

    @property
    def bootstrap(self) -> str:
        if self.broker is None:
            raise KafkaServerError("KafkaServer is not started")
        return self.broker.bootstrap

    def _run(self, *args: str) -> str:
        assert self._state_dir is not None
        cmd = [sys.executable, str(service_script()), "--state", str(Path(self._state_dir.name) / "kafka.json"), *args]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=self._timeout_s, check=False)
        except subprocess.TimeoutExpired as exc:
            raise KafkaServerError(f"{' '.join(args)} did not finish within {self._timeout_s:.0f}s") from exc
        if proc.returncode != 0:
            raise KafkaServerError(f"scripts/services/kafka {' '.join(args)} failed:\n{proc.stderr.strip()}")
        return proc.stdout

    def start(self) -> KafkaBroker:
        if self.broker is not None:
            return self.broker
        self._state_dir = tempfile.TemporaryDirectory(prefix="nwdaf-kafka-state-")
        try:
            out = self._run("start")
        except KafkaServerError:
            self._state_dir.cleanup()
            self._state_dir = None
            raise
        values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        self.broker = KafkaBroker(
            bootstrap=values["KAFKA_BOOTSTRAP"],
            version=values["KAFKA_VERSION"],
            pid=int(values["KAFKA_PID"]),
            started_here=True,
        )
        return self.broker

    def stop(self) -> None:
        if self._state_dir is None:
            return
        try:
            self._run("stop")
        finally:
            self._state_dir.cleanup()
            self._state_dir = None
            self.broker = None

    def __enter__(self) -> KafkaBroker:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
