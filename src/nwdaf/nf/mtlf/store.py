"""Persistent Nnwdaf_MLModelProvision subscriptions (SQLite under ``data_dir``), so they survive a restart.

Each row keeps the subscription as received (wire JSON) and, per subscribed event, the model version last
notified, so a restarted MTLF neither re-notifies what was delivered nor forgets what was not. The rows live in a
:class:`~nwdaf.platform.store.SubscriptionStore`; :class:`ProvisionSubscriptions` adds the MTLF's operations.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

from nwdaf.platform.models.common import from_wire, to_wire
from nwdaf.platform.models.ml_provision import NwdafMLModelProvSubsc
from nwdaf.platform.store import RecordLayout, Row, SubscriptionStore


@dataclass
class StoredSubscription:
    """A subscription and what has been notified for it: ``notified[model name] = version``."""

    id: str
    body: NwdafMLModelProvSubsc
    notified: dict[str, str] = field(default_factory=dict)


def _dump(body: NwdafMLModelProvSubsc) -> str:
    return json.dumps(to_wire(body))


def _encode(sub: StoredSubscription) -> tuple[str, Row]:
    return sub.id, {"body": _dump(sub.body), "notified": json.dumps(sub.notified)}


def _decode(row: Row) -> StoredSubscription:
    return StoredSubscription(row["id"], from_wire(NwdafMLModelProvSubsc, row["body"]), json.loads(row["notified"]))


LAYOUT: RecordLayout[StoredSubscription] = RecordLayout(
    key="id",
    columns={"body": "TEXT NOT NULL", "notified": "TEXT NOT NULL DEFAULT '{}'",
             "created": "TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"},
    order_by="created",
    encode=_encode,
    decode=_decode,
)
"""The table of earlier releases, unchanged: their files are read as they are."""


class ProvisionSubscriptions:
    """The MTLF's operations on its subscription store. The store is opened on first use too (the routers may be
    served without :meth:`MtlfService.start <nwdaf.nf.mtlf.service.MtlfService.start>`), but not after a close."""

    def __init__(self, store: SubscriptionStore[StoredSubscription]) -> None:
        self.store = store
        self._closed = False

    async def open(self) -> None:
        self._closed = False
        await self.store.open()

    async def close(self) -> None:
        self._closed = True
        await self.store.close()

    async def _ready(self) -> None:
        if not self._closed and not self.store.is_open:
            await self.store.open()

    async def create(self, body: NwdafMLModelProvSubsc) -> StoredSubscription:
        sub = StoredSubscription(uuid.uuid4().hex, body)
        await self._ready()
        await self.store.put(sub)
        return sub

    async def get(self, sub_id: str) -> StoredSubscription | None:
        await self._ready()
        return await self.store.get(sub_id)

    async def all(self) -> list[StoredSubscription]:
        """Every subscription, oldest first."""
        await self._ready()
        return await self.store.load_all()

    async def replace(self, sub_id: str, body: NwdafMLModelProvSubsc) -> StoredSubscription | None:
        """New body for an existing subscription; what was notified is forgotten (the request may differ)."""
        await self._ready()
        found = await self.store.update(sub_id, {"body": _dump(body), "notified": "{}"})
        return StoredSubscription(sub_id, body) if found else None

    async def mark_notified(self, sub_id: str, model: str, version: str) -> None:
        def merge(row: Row) -> Row:
            return {"notified": json.dumps(json.loads(row["notified"]) | {model: version})}

        await self._ready()
        await self.store.modify(sub_id, merge)

    async def delete(self, sub_id: str) -> bool:
        await self._ready()
        return await self.store.delete(sub_id)
