"""A real Apache Kafka broker for tests and benchmarks, run by ``scripts/services/kafka``.

:class:`KafkaServer` starts a private broker (its own state file, temp dir and free port) and stops it by PID
(:mod:`tests.support.lifecycle`); :func:`broker_from_env` adopts one already started (``KAFKA_BOOTSTRAP``, as the
Makefile exports it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.support.lifecycle import ScriptServer, ServerError
from tests.support.lifecycle import service_script as lifecycle_script


class KafkaServerError(ServerError):
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
    return lifecycle_script("kafka", "NWDAF_KAFKA_SCRIPT", KafkaServerError)


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


class KafkaServer(ScriptServer[KafkaBroker]):
    """A private broker: ``scripts/services/kafka start``/``stop`` with its own state file (a context manager)."""

    error = KafkaServerError

    def __init__(self, *, timeout_s: float = 600.0) -> None:
        super().__init__("kafka", timeout_s=timeout_s)  # covers a first-time fetch of the jars, not only the start

    @property
    def broker(self) -> KafkaBroker | None:
        return self.running

    @property
    def bootstrap(self) -> str:
        if self.running is None:
            raise KafkaServerError("KafkaServer is not started")
        return self.running.bootstrap

    def script(self) -> Path:
        return service_script()

    def parse(self, values: Mapping[str, str]) -> KafkaBroker:
        return KafkaBroker(bootstrap=values["KAFKA_BOOTSTRAP"], version=values["KAFKA_VERSION"],
                           pid=int(values["KAFKA_PID"]), started_here=True)
