"""Data Receiver procedures: publish an NF notification (parsed and checked against its 3GPP schema by the router,
:mod:`nwdaf.nf.collector.api.data_receiver`) to the bus."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from nwdaf.platform.bus import EventBus, encode, topics
from nwdaf.platform.events import NF_NOTIFICATION, NfNotification
from nwdaf.platform.models.openapi import SpecValidator
from nwdaf.platform.sbi.problem import ProblemError

log = logging.getLogger("nwdaf.collector")


@dataclass(frozen=True, slots=True)
class Feed:
    """One kind of notification the receiver accepts: its schema (if any) and its topic."""

    schema_ref: str | None
    topic: str


FEEDS: Final[dict[str, Feed]] = {
    # TS 29.564 clause 6.1.5.2: the UPF POSTs NotificationData to eventNotifyUri.
    "upf-ee": Feed("TS29564_Nupf_EventExposure.yaml#/components/schemas/NotificationData",
                   topics.UPF_EE_NOTIFICATIONS),
    # TS 29.508 clause 6.1.5.2: Nsmf_EventExposure notifications.
    "smf-ee": Feed("TS29508_Nsmf_EventExposure.yaml#/components/schemas/NsmfEventExposureNotification",
                   topics.SMF_EE_NOTIFICATIONS),
    # TS 29.518 clause 6.2.5.2: Namf_EventExposure notifications.
    "amf-ee": Feed("TS29518_Namf_EventExposure.yaml#/components/schemas/AmfEventNotification",
                   topics.AMF_EE_NOTIFICATIONS),
    "nf": Feed(None, topics.NF_NOTIFICATIONS),
}


@dataclass
class ReceiverStats:
    """What the receiver accepted and rejected, per feed."""

    accepted: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)


@dataclass
class DataReceiver:
    """Validates and publishes; a notification is acknowledged only once the bus accepted it (nothing lost)."""

    bus: EventBus
    validator: SpecValidator | None
    stats: ReceiverStats = field(default_factory=ReceiverStats)
    listeners: list[Callable[[NfNotification], None]] = field(default_factory=list)
    """Called after a notification was published (e.g. the UPF subscription watchdog)."""

    def feed(self, source: str) -> Feed:
        """The feed a notification arrives on; 404 for an unknown one."""
        feed = FEEDS.get(source)
        if feed is None:
            raise ProblemError(404, "Not Found", f"unknown notification feed {source!r}; known: {sorted(FEEDS)}",
                               "RESOURCE_URI_STRUCTURE_NOT_FOUND")
        return feed

    async def receive(self, source: str, body: dict[str, Any]) -> NfNotification:
        """Publish one notification (a JSON object) keyed by its UE; acknowledged once the bus accepted it."""
        feed = self.feed(source)
        note = NfNotification(source=source, received_at=datetime.now(UTC), ue_key=ue_key_of(body), body=body)
        key = note.ue_key.encode() if note.ue_key else None
        await self.bus.publish(feed.topic, encode(note, type_=NF_NOTIFICATION, source="collector"), key=key)
        self.stats.accepted[source] = self.stats.accepted.get(source, 0) + 1
        for listener in self.listeners:
            listener(note)
        return note

    def reject(self, source: str) -> None:
        """Count a notification refused as malformed or invalid."""
        self.stats.rejected[source] = self.stats.rejected.get(source, 0) + 1


UE_KEY_FIELDS: Final = ("supi", "ueIpv4Addr", "ueIpv6Prefix", "ipv4Addr", "gpsi")
"""Item attributes naming the UE, by preference: TS 29.564 items, TS 29.508 ``EventNotification`` (``ipv4Addr``
of PDU_SES_EST, ``ueIpAddr`` of the others), TS 29.518 ``AmfEventReport``."""


def _item_ue(item: dict[str, Any]) -> str | None:
    for name in UE_KEY_FIELDS:
        value = item.get(name)
        if isinstance(value, str) and value:
            return value
    addr = item.get("ueIpAddr")
    if isinstance(addr, dict):
        value = addr.get("ipv4Addr") or addr.get("ipv6Addr") or addr.get("ipv6Prefix")
        if isinstance(value, str) and value:
            return value
    return None


def ue_key_of(body: dict[str, Any]) -> str | None:
    """The UE a notification is about: the first SUPI or UE address found in its items (bus key → per-UE order)."""
    items = body.get("notificationItems") or body.get("eventNotifs") or body.get("reportList") or []
    for item in items if isinstance(items, list) else []:
        key = _item_ue(item) if isinstance(item, dict) else None
        if key is not None:
            return key
    for name in ("supi", "ueIpv4Addr"):
        value = body.get(name)
        if isinstance(value, str) and value:
            return value
    return None
