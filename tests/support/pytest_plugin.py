"""pytest plugin (``pytest_plugins = ["tests.support.pytest_plugin"]``): real-server fixtures and their report.

A fixture that brings up a real server records one line with :func:`record_service`; the lines are printed in the
terminal summary whether or not output capture is on, so every run log shows which real servers ran.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import NoReturn

import pytest
from tests.support.kafka import KafkaBroker, KafkaServer, KafkaServerError, broker_from_env

log = logging.getLogger("nwdaf.testing")

SERVICES_KEY = pytest.StashKey[list[str]]()


def record_service(config: pytest.Config, line: str) -> None:
    """Remember ``line`` for the "real services" section of the terminal summary."""
    config.stash.setdefault(SERVICES_KEY, []).append(line)
    log.info("%s", line)


def unavailable(reason: str) -> NoReturn:
    """Fail with ``reason``, or skip when ``NWDAF_SKIP_KAFKA=1`` says a missing broker is acceptable."""
    if os.environ.get("NWDAF_SKIP_KAFKA") == "1":
        pytest.skip(f"{reason} (NWDAF_SKIP_KAFKA=1)")
    pytest.fail(f"{reason} (set NWDAF_SKIP_KAFKA=1 to skip instead)", pytrace=False)


@pytest.fixture(scope="session")
def kafka_broker(request: pytest.FixtureRequest) -> Iterator[KafkaBroker]:
    """A real Kafka broker: ``KAFKA_BOOTSTRAP`` if set, else one started by ``scripts/services/kafka``."""
    server: KafkaServer | None = None
    try:
        broker = broker_from_env()
        if broker is None:
            server = KafkaServer()
            broker = server.start()
    except KafkaServerError as exc:
        unavailable(f"Kafka broker unavailable: {exc}")
    record_service(request.config, f"Kafka broker: {broker.describe()}")
    try:
        yield broker
    finally:
        if server is not None:
            server.stop()


REAL_SERVER_FIXTURES: dict[str, str] = {
    "kafka_broker": "kafka",
    "clickhouse_server": "clickhouse",
    "influxdb_server": "influxdb",
    "mlflow_server_uri": "mlflow",
}
"""Fixture that brings up a real server -> the server's name in the JUnit report (``scripts/junit-summary.py``)."""


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Record in the test's JUnit properties which real servers it uses (through the fixtures above)."""
    names = getattr(item, "fixturenames", ())
    for server in sorted({REAL_SERVER_FIXTURES[n] for n in names if n in REAL_SERVER_FIXTURES}):
        item.user_properties.append(("real_server", server))


def pytest_report_header(config: pytest.Config) -> list[str]:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP")
    if bootstrap:
        return [f"Kafka: KAFKA_BOOTSTRAP={bootstrap} (broker started outside pytest)"]
    return ["Kafka: tests that need it start a broker with scripts/services/kafka"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    lines = config.stash.get(SERVICES_KEY, [])
    if lines:
        terminalreporter.write_sep("-", "real services used")
        for line in lines:
            terminalreporter.write_line(line)
