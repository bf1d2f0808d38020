"""Audit trail of the SMF's policy decisions: a JSON-lines file and a bounded in-memory list.

Every abnormal-behaviour report the SMF receives yields one entry per UE, whatever was decided, with the
notification that caused it, so an operator can answer "why was (or wasn't) this UE cut off?".
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger("nwdaf.smf.audit")


class Decision(StrEnum):
    """What the SMF did about one UE named in an abnormal-behaviour report."""

    RELEASED = "released"
    DRY_RUN = "dry-run"
    SKIPPED_ALLOWLIST = "skipped-allowlist"
    SKIPPED_RATE_CAP = "skipped-rate-cap"
    BELOW_CONFIDENCE = "below-confidence"
    UNKNOWN_UE = "unknown-ue"
    """The UPF has no PDU session for the SUPI."""
    NO_ACTIVE_SESSION = "no-active-session"
    """The UPF knows the SUPI, but every session is already released."""
    SKIPPED_EXCEPTION = "skipped-exception"
    """The exception is not one this SMF acts on."""
    RELEASE_FAILED = "release-failed"
    """The UPF could not be reached or refused; the UE may still be connected."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class AuditEntry(BaseModel):
    """One decision about one UE."""

    model_config = ConfigDict(frozen=True)

    ts: datetime = Field(default_factory=_utcnow)
    decision: Decision
    supi: str
    excepId: str
    confidence: int | None = None
    reason: str = ""
    seids: list[int] = Field(default_factory=list)
    """PDU sessions (N4 SEIDs) released, or that would have been in dry-run."""
    receivedAt: datetime
    notification: dict[str, Any]
    """What caused it: subscriptionId, notifCorrId, the EventNotification times and the AbnormalBehaviour."""


class AuditLog:
    """Appends entries to a JSON-lines file (when given) and keeps the latest ``keep`` in memory."""

    def __init__(self, path: Path | None, keep: int) -> None:
        self.path = path
        self._entries: deque[AuditEntry] = deque(maxlen=keep)
        self._lock = asyncio.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    async def record(self, entry: AuditEntry) -> None:
        self._entries.append(entry)
        log.info("%s: %s", entry.decision.value, entry.reason or entry.excepId, extra={"supi": entry.supi})
        if self.path is None:
            return
        line = orjson.dumps(entry.model_dump(mode="json")) + b"\n"
        async with self._lock:
            try:
                await asyncio.to_thread(self._append, line)
            except OSError as exc:
                log.error("cannot write the audit file %s: %s", self.path, exc)

    def _append(self, line: bytes) -> None:
        assert self.path is not None
        with self.path.open("ab") as fh:
            fh.write(line)

    def entries(self, supi: str | None = None, decision: Decision | None = None,
                limit: int | None = None) -> list[AuditEntry]:
        """Most recent last; filtered by SUPI and/or decision; the last ``limit`` only."""
        found: Iterable[AuditEntry] = self._entries
        if supi is not None:
            found = (e for e in found if e.supi == supi)
        if decision is not None:
            found = (e for e in found if e.decision is decision)
        result = list(found)
        return result[-limit:] if limit else result
