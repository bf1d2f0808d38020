"""What ``nwdaf replay`` reports: per host, when the closed loop saw it, flagged it and released it, in recording time.

The service stack runs on the UPF's data clock (a recording rebased onto the wall clock, see "Time" in
``docs/architecture.md``); :class:`HostTracker` maps every time back to the recording's own clock with the UPF's
offset, so the report can be read against the capture (Wireshark, the dataset's timestamps). Times are **epoch
seconds in recording time** (float, UTC); null where the step did not happen.

Labels of the input never reach the run (the UPF keeps them aside); where the input has them, :func:`label_summary`
sets them against the outcome per host at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from nwdaf.lib.flows import LABEL_BACKGROUND, LABEL_BENIGN, LABEL_MALICIOUS
from nwdaf.platform.events import AnalyticsResult

ToRecording = Callable[[float], float]
"""Service (data clock) epoch seconds -> recording epoch seconds."""


@dataclass
class HostOutcome:
    """One host (a flow initiator the UPF took as a UE) and its closed-loop steps, in recording time."""

    host: str
    supi: str | None = None
    t_first_seen: float | None = None
    t_first_finding: float | None = None
    exception_ids: list[str] = field(default_factory=list)
    t_released: float | None = None

    @property
    def released(self) -> bool:
        return self.t_released is not None

    def to_report(self) -> dict[str, Any]:
        return {"host": self.host, "supi": self.supi, "released": self.released, "t_first_seen": self.t_first_seen,
                "t_first_finding": self.t_first_finding, "exception_ids": self.exception_ids,
                "t_released": self.t_released}


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass
class HostTracker:
    """Fills :class:`HostOutcome` from what crosses the bus (UPF reports, analytics results) and the UPF's sessions."""

    to_recording: ToRecording
    hosts: dict[str, HostOutcome] = field(default_factory=dict)
    by_supi: dict[str, str] = field(default_factory=dict)
    reports: int = 0
    findings: int = 0

    def _host(self, address: str, supi: str | None) -> HostOutcome:
        outcome = self.hosts.get(address)
        if outcome is None:
            outcome = self.hosts[address] = HostOutcome(address)
        if supi is not None and outcome.supi is None:
            outcome.supi = supi
            self.by_supi[supi] = address
        return outcome

    def on_usage_items(self, items: Iterable[Mapping[str, Any]]) -> None:
        """Items of one Nupf_EventExposure notification: a UE is seen from the start of its first report with
        traffic (an item without measurements says the UE was quiet)."""
        self.reports += 1
        for item in items:
            if not item.get("userDataUsageMeasurements"):
                continue
            address = item.get("ueIpv4Addr") or (item.get("ueIpv6Prefix") or "").split("/")[0]
            if not address:
                continue
            host = self._host(address, item.get("supi"))
            start = item.get("startTime") or item.get("timeStamp")
            if start is None:
                continue
            seen = self.to_recording(_epoch(start))
            if host.t_first_seen is None or seen < host.t_first_seen:
                host.t_first_seen = seen

    def on_result(self, result: AnalyticsResult) -> None:
        """An engine's ABNORMAL_BEHAVIOUR finding: known at the end of its window (recording time)."""
        if result.abnormal is None:
            return
        self.findings += 1
        address = self.by_supi.get(result.supi) or result.ue_ip
        if address is None:
            return
        host = self._host(address, result.supi)
        at = self.to_recording(result.window_end.timestamp())
        if host.t_first_finding is None or at < host.t_first_finding:
            host.t_first_finding = at
        if result.abnormal.excep_id not in host.exception_ids:
            host.exception_ids.append(result.abnormal.excep_id)

    def on_session(self, address: str, supi: str, released_at: float | None) -> None:
        """A PDU session of the UPF (at the end of the run); ``released_at`` in service time."""
        host = self._host(address, supi)
        if released_at is not None:
            at = self.to_recording(released_at)
            if host.t_released is None or at < host.t_released:
                host.t_released = at

    def outcomes(self) -> list[HostOutcome]:
        """Hosts the UPF saw (a report or a finding), released first, then by first appearance."""
        seen = [h for h in self.hosts.values() if h.t_first_seen is not None or h.t_first_finding is not None
                or h.released]
        return sorted(seen, key=lambda h: (not h.released, h.t_first_seen or 0.0, h.host))


UNLABELLED = "unlabelled"
CLASSES = (LABEL_MALICIOUS, LABEL_BENIGN, LABEL_BACKGROUND, UNLABELLED)


def _label_class(label: str | None) -> str:
    return label if label in CLASSES else UNLABELLED


def label_summary(outcomes: Iterable[HostOutcome], labels: Mapping[str, str | None]) -> dict[str, Any] | None:
    """Released vs label per host (a confusion table), or None when the input carries no labels.

    A host's label is the most severe of its flows' (the UPF's dataset source): malicious, else benign (a verified
    normal host), else background (unverified), else unlabelled.
    """
    if not any(v for v in labels.values()):
        return None
    table: dict[str, dict[str, int]] = {c: {"released": 0, "kept": 0} for c in CLASSES}
    missed, wrongly = [], []
    for host in outcomes:
        cls = _label_class(labels.get(host.host))
        table[cls]["released" if host.released else "kept"] += 1
        if cls == LABEL_MALICIOUS and not host.released:
            missed.append(host.host)
        if cls == LABEL_BENIGN and host.released:
            wrongly.append(host.host)
    return {"hosts": table, "malicious_kept": sorted(missed), "benign_released": sorted(wrongly)}


def build_report(period_s: float, speed: float, window_s: float, tracker: HostTracker,
                 labels: Mapping[str, str | None] | None = None, **extra: Any) -> dict[str, Any]:
    """The JSON report (module docstring); ``extra`` adds run facts (input, offset, counts, skipped rows)."""
    outcomes = tracker.outcomes()
    report: dict[str, Any] = {"period_s": period_s, "speed": speed, "window_s": window_s,
                              "times": "epoch seconds, recording time (UTC)",
                              "hosts": [h.to_report() for h in outcomes], **extra}
    report["labels"] = label_summary(outcomes, labels) if labels is not None else None
    return report


def summary_lines(report: Mapping[str, Any]) -> list[str]:
    """A closing summary for the terminal: released hosts and, with labels, the confusion table."""
    hosts = report["hosts"]
    released = [h for h in hosts if h["released"]]
    lines = [f"{report['input']}: {report['skip_summary']}"] if report.get("skip_summary") else []
    lines.append(f"{len(released)} of {len(hosts)} hosts released")
    for h in released:
        lines.append(f"  released {h['host']}: {', '.join(h['exception_ids']) or '-'} "
                     f"(first seen {_fmt(h['t_first_seen'])}, flagged {_fmt(h['t_first_finding'])}, "
                     f"released {_fmt(h['t_released'])})")
    summary = report.get("labels")
    if summary:
        lines.append(f"{'label':<12}{'released':>9}{'kept':>7}")
        for cls, row in summary["hosts"].items():
            lines.append(f"{cls:<12}{row['released']:>9}{row['kept']:>7}")
    return lines


def _fmt(t: float | None) -> str:
    return "-" if t is None else datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
