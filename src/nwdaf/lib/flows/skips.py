"""The one bad-row policy of every reader of recorded traffic (``detect``, ``replay``, ``ml train``/``evaluate``,
``eval`` and the UPF ``dataset`` source).

A row (a flow record, or a frame of a capture) that cannot be parsed is skipped and counted by reason in a
:class:`SkipReport`, which keeps the first few line numbers of each reason; the run goes on to the end and closes
with :meth:`SkipReport.summary`. With ``strict`` the same run stops at the first bad row instead, with a
:class:`BadRowError` naming file, line and reason. Nothing is dropped without being counted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

MAX_LINES: Final = 5
"""Line numbers kept per file and reason."""
_DETAIL = re.compile(r", (got '.*'|found \d+)$", re.DOTALL)


class FlowFormatError(ValueError):
    """A flow file that cannot be parsed; names the file and (when known) the 1-based line."""

    def __init__(self, path: str | Path, line: int | None, reason: str) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")


class BadRowError(FlowFormatError):
    """A malformed row met in strict mode: ``path``, ``line`` and ``reason`` say which and why."""


def reason_kind(reason: str) -> str:
    """The reason without the offending value (``column dst_port: expected a port, got 'x'`` -> ``column
    dst_port: expected a port``), so that rows are counted by kind of fault."""
    return _DETAIL.sub("", reason)


@dataclass
class ReasonCount:
    """How many rows one reason skipped, and the first line numbers (1-based; empty for frames of a capture)."""

    count: int = 0
    lines: list[int] = field(default_factory=list)


@dataclass
class FileSkips:
    """What one file gave: rows read (``unit``: rows or frames), rows skipped by reason, or why it was unreadable."""

    path: str
    unit: str = "rows"
    rows: int = 0
    reasons: dict[str, ReasonCount] = field(default_factory=dict)
    error: str | None = None

    @property
    def skipped(self) -> int:
        return sum(r.count for r in self.reasons.values())


class SkipReport:
    """Rows read and skipped over one run, per file and reason (see the module docstring).

    ``strict``: readers given this report raise :class:`BadRowError` at the first bad row instead of skipping.
    """

    def __init__(self, *, strict: bool = False, max_lines: int = MAX_LINES) -> None:
        self.strict = strict
        self.max_lines = max_lines
        self.files: dict[str, FileSkips] = {}

    def file(self, path: str | Path, unit: str = "rows") -> FileSkips:
        """The entry of ``path`` (created on first use)."""
        key = str(path)
        if key not in self.files:
            self.files[key] = FileSkips(key, unit)
        return self.files[key]

    def read(self, path: str | Path, rows: int, unit: str = "rows") -> None:
        """``rows`` more rows (or frames) were read from ``path``, the skipped ones included."""
        self.file(path, unit).rows += rows

    def skip(self, path: str | Path, reason: str, *, count: int = 1, lines: Iterable[int] = ()) -> None:
        """``count`` rows of ``path`` skipped for ``reason``; ``lines`` are their line numbers (first ones kept)."""
        if count <= 0:
            return
        entry = self.file(path).reasons.setdefault(reason_kind(reason), ReasonCount())
        entry.count += count
        room = self.max_lines - len(entry.lines)
        if room > 0:
            entry.lines.extend(list(lines)[:room])

    def skip_counts(self, path: str | Path, counts: Mapping[str, int]) -> None:
        """Skips known only by count (a capture's undecodable frames by reason)."""
        for reason, count in counts.items():
            self.skip(path, reason, count=count)

    def fail(self, path: str | Path, reason: str) -> None:
        """The whole of ``path`` could not be read (other files of the run were)."""
        self.file(path).error = reason

    @property
    def total_rows(self) -> int:
        """Rows (or frames) read over every file, the skipped ones included."""
        return sum(f.rows for f in self.files.values())

    @property
    def skipped(self) -> int:
        """Rows skipped over every file."""
        return sum(f.skipped for f in self.files.values())

    @property
    def failed_files(self) -> list[str]:
        """Files that could not be read at all."""
        return [f.path for f in self.files.values() if f.error is not None]

    def by_reason(self) -> dict[str, tuple[int, list[str]]]:
        """Skips per reason over every file, most frequent first: count and the first line numbers (``file:line``
        when the run read several files)."""
        merged: dict[str, tuple[int, list[str]]] = {}
        several = len(self.files) > 1
        for entry in self.files.values():
            name = Path(entry.path).name
            for reason, rc in entry.reasons.items():
                count, lines = merged.get(reason, (0, []))
                lines.extend(f"{name}:{n}" if several else str(n) for n in rc.lines)
                merged[reason] = (count + rc.count, lines)
        return dict(sorted(merged.items(), key=lambda kv: -kv[1][0]))

    def summary(self) -> str:
        """One closing line, ``skipped 12 of 8,164 rows: REASON, times COUNT (lines 17, 40, ...); ...``, then a line
        per unreadable file."""
        units = {f.unit for f in self.files.values()} or {"rows"}
        unit = units.pop() if len(units) == 1 else "rows/frames"
        if self.skipped == 0:
            text = f"read {self.total_rows:,} {unit}, none skipped"
        else:
            parts = []
            for reason, (count, lines) in self.by_reason().items():
                shown = lines[: self.max_lines]
                more = ", …" if count > len(shown) and shown else ""
                word = "line" if len(shown) == 1 and not more else "lines"
                where = f" ({word} {', '.join(shown)}{more})" if shown else ""
                parts.append(f"{reason} ×{count:,}{where}")
            text = f"skipped {self.skipped:,} of {self.total_rows:,} {unit}: " + "; ".join(parts)
        for entry in self.files.values():
            if entry.error is not None:
                text += f"\nunreadable, left out: {entry.path}: {entry.error}"
        return text

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: totals, and per file rows, skips by reason (count, first lines) and error."""
        return {
            "total_rows": self.total_rows,
            "skipped": self.skipped,
            "strict": self.strict,
            "files": [
                {
                    "path": f.path,
                    "unit": f.unit,
                    "rows": f.rows,
                    "skipped": f.skipped,
                    "reasons": {r: {"count": rc.count, "lines": list(rc.lines)} for r, rc in f.reasons.items()},
                    "error": f.error,
                }
                for f in self.files.values()
            ],
        }
