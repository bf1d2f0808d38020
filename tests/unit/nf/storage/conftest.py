"""An embedded chdb warehouse per test: one data path for the session (chdb allows one per process), one
database per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nwdaf.lib.storage.backends import open_backend
from nwdaf.lib.storage.backends.mergetree import MergeTreeBackend

pytest.importorskip("chdb", reason="the chdb extra is not installed (pip install 'nwdaf[chdb]')")


@pytest.fixture(scope="session")
def chdb_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("chdb")


@pytest.fixture
def chdb_url(chdb_path: Path) -> str:
    return f"chdb://{chdb_path}?database=t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def chdb(chdb_url: str) -> AsyncIterator[MergeTreeBackend]:
    backend = open_backend(chdb_url)
    assert isinstance(backend, MergeTreeBackend)
    await backend.start()
    try:
        yield backend
    finally:
        await backend.drop_database()
        await backend.close()
