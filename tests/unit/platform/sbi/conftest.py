"""Fixtures of the SBI tests."""

from __future__ import annotations

import asyncio

import pytest

from nwdaf.platform.sbi import retry as retry_module


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff waits the retry policy asked for (not actually slept, so the tests stay fast)."""
    asked: list[float] = []
    real_sleep = asyncio.sleep

    async def fake_sleep(delay: float) -> None:
        asked.append(delay)
        await real_sleep(0)

    monkeypatch.setattr(retry_module.asyncio, "sleep", fake_sleep)
    return asked
