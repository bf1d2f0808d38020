"""Real ClickHouse and InfluxDB servers for the storage integration tests.

``CLICKHOUSE_URL`` / ``INFLUXDB_URL`` (exported by ``make test`` after ``scripts/services/<name> start``) are used
when set; otherwise each server is started here by the same code and stopped by PID at the end of the session. A
server that cannot be started fails the tests with the reason, unless ``NWDAF_SKIP_SERVERS=1``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import NoReturn

import pytest
from tests.support.pytest_plugin import record_service
from tests.support.servers import ManagedServer, ServerError, ServerInfo, server_from_env

from nwdaf.lib.storage.backends import StorageBackend, open_backend


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("NWDAF_SKIP_SERVERS") == "1":
        pytest.skip(f"{reason} (NWDAF_SKIP_SERVERS=1)")
    pytest.fail(f"{reason} (set NWDAF_SKIP_SERVERS=1 to skip instead)", pytrace=False)


def _server(kind: str, request: pytest.FixtureRequest) -> Iterator[ServerInfo]:
    managed: ManagedServer | None = None
    try:
        info = server_from_env(kind)
        if info is None:
            managed = ManagedServer(kind)
            info = managed.start()
    except ServerError as exc:
        unavailable(f"{kind} server unavailable: {exc}")
    record_service(request.config, f"{kind}: {info.describe()}")
    try:
        yield info
    finally:
        if managed is not None:
            managed.stop()


@pytest.fixture(scope="session")
def clickhouse_server(request: pytest.FixtureRequest) -> Iterator[ServerInfo]:
    yield from _server("clickhouse", request)


@pytest.fixture(scope="session")
def influxdb_server(request: pytest.FixtureRequest) -> Iterator[ServerInfo]:
    yield from _server("influxdb", request)


@pytest.fixture
def test_database() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


async def started(url: str) -> StorageBackend:
    backend = open_backend(url)
    await backend.start()
    return backend


@pytest.fixture
def open_started() -> Callable[[str], Awaitable[StorageBackend]]:
    """Open and start a backend by URL (the test closes it)."""
    return started


@pytest.fixture
async def clickhouse(clickhouse_server: ServerInfo, test_database: str) -> AsyncIterator[StorageBackend]:
    backend = await started(clickhouse_server.url_for(test_database))
    try:
        yield backend
    finally:
        await backend.drop_database()  # type: ignore[attr-defined]
        await backend.close()


@pytest.fixture
async def influxdb(influxdb_server: ServerInfo, test_database: str) -> AsyncIterator[StorageBackend]:
    backend = await started(influxdb_server.url_for(test_database))
    try:
        yield backend
    finally:
        await backend.drop_database()  # type: ignore[attr-defined]
        await backend.close()
