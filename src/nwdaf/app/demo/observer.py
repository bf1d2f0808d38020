"""Watches the bus during the demo and records, per UE, when each step of the closed loop happened."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from nwdaf.platform.bus import EnvelopeError, Message, decode
from nwdaf.platform.events import AnalyticsResult, NfNotification


@dataclass
class UeTimeline:
    """One UE's closed-loop timestamps (epoch seconds; None where it did not happen)."""

    supi: str
    ip: str
    role: str
    attack: str | None
    t_attack_start: float | None
    t_first_report: float | None = None
    t_detected: float | None = None
    detected_as: str | None = None
    confidence: int | None = None
    t_notified: float | None = None
    t_released: float | None = None

    @property
    def released(self) -> bool:
        return self.t_released is not None

    def to_report(self) -> dict[str, object]:
        return {
            "supi": self.supi, "ip": self.ip, "role": self.role, "attack": self.attack, "released": self.released,
            "t_attack_start": self.t_attack_start, "t_first_report": self.t_first_report,
            "t_detected": self.t_detected, "detected_as": self.detected_as, "confidence": self.confidence,
            "t_notified": self.t_notified, "t_released": self.t_released,
        }


def _ts(dt: datetime) -> float:
    return dt.timestamp()


@dataclass
class LoopObserver:
    """Bus handlers filling the timelines; events before a bot's attack start do not count for it."""

    ues: dict[str, UeTimeline]
    by_ip: dict[str, str] = field(default_factory=dict)
    reports: int = 0
    windows: int = 0
    findings: int = 0
    events: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_ip = {ue.ip: ue.supi for ue in self.ues.values()}

    async def on_report(self, msg: Message) -> None:
        try:
            note = decode(msg.value, NfNotification).payload
        except EnvelopeError:
            return
        self.reports += 1
        for item in note.body.get("notificationItems", []):
            supi = item.get("supi") or self.by_ip.get(item.get("ueIpv4Addr", ""))
            ue = self.ues.get(supi or "")
            if ue is None or ue.t_attack_start is None or ue.t_first_report is not None:
                continue
            if datetime.fromisoformat(item["timeStamp"].replace("Z", "+00:00")).timestamp() > ue.t_attack_start:
                ue.t_first_report = _ts(note.received_at)

    async def on_result(self, msg: Message) -> None:
        try:
            result = decode(msg.value, AnalyticsResult).payload
        except EnvelopeError:
            return
        if result.abnormal is None:
            return
        self.findings += 1
        ue = self.ues.get(result.supi)
        if ue is None or ue.t_detected is not None:
            return
        if ue.t_attack_start is not None and _ts(result.generated_at) < ue.t_attack_start:
            return
        ue.t_detected = _ts(result.generated_at)
        ue.detected_as = result.abnormal.excep_id
        ue.confidence = result.abnormal.confidence
        self.events.append(f"NWDAF flags {ue.supi} ({ue.ip}, {ue.role}): {ue.detected_as}, "
                           f"confidence {ue.confidence}")
