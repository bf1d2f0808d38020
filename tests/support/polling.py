"""Waiting in tests for something to happen: poll a condition until it holds, with a deadline.

The deadline only stops a hung test; it is never an assertion about speed, so make it generous. Tests assert on
what happened (counts, contents) after the wait returns. Standard library only.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

T = TypeVar("T")

Message = str | Callable[[], str]
"""What is awaited, for the failure message; a callable is evaluated on failure (to show what was seen)."""


async def wait_until(predicate: Callable[[], T | Awaitable[T]], timeout_s: float = 30.0, interval_s: float = 0.01,
                     message: Message = "the condition") -> T:
    """Call ``predicate`` (plain or async) every ``interval_s`` until it returns a true value, and return that value.

    Raises ``AssertionError`` naming ``message`` if it is still false after ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        result = cast(T, await value if inspect.isawaitable(value) else value)
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(_failure(timeout_s, message))
        await asyncio.sleep(interval_s)


def wait_until_sync(predicate: Callable[[], T], timeout_s: float = 30.0, interval_s: float = 0.05,
                    message: Message = "the condition") -> T:
    """:func:`wait_until` for code without an event loop (it blocks the calling thread while it sleeps)."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(_failure(timeout_s, message))
        time.sleep(interval_s)


def _failure(timeout_s: float, message: Message) -> str:
    what = message() if callable(message) else message
    return f"timed out after {timeout_s:g} s waiting for {what}"
