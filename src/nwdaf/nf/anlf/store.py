"""How the AnLF keeps its Nnwdaf_EventsSubscription resources in the :class:`~nwdaf.platform.store.SubscriptionStore`.

A row holds the accepted body, the schedule anchor and the reports sent so far. Report counters change on every
notification, so the processor writes them in batches (``update_many`` of :func:`progress`) rather than through;
after a crash a subscription may send up to one flush interval of reports more than ``maxReportNbr``, never fewer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from nwdaf.platform.store import RecordLayout, Row


@dataclass(slots=True)
class StoredSubscription:
    """One subscription as persisted: the accepted body, the schedule anchor and the reports sent so far."""

    subscription_id: str
    body: dict[str, Any]
    anchor: float
    """Epoch seconds from which PERIODIC reports are due (anchor + k * repetitionPeriod)."""
    reports_sent: int = 0


def _encode(sub: StoredSubscription) -> tuple[str, Row]:
    return sub.subscription_id, {"body": orjson.dumps(sub.body), "anchor": sub.anchor,
                                 "reports_sent": sub.reports_sent}


def _decode(row: Row) -> StoredSubscription:
    return StoredSubscription(row["subscription_id"], orjson.loads(row["body"]), float(row["anchor"]),
                              int(row["reports_sent"]))


LAYOUT: RecordLayout[StoredSubscription] = RecordLayout(
    key="subscription_id",
    columns={"body": "BLOB NOT NULL", "anchor": "REAL NOT NULL", "reports_sent": "INTEGER NOT NULL DEFAULT 0"},
    order_by="anchor",
    encode=_encode,
    decode=_decode,
)
"""The table of earlier releases, unchanged: their files are read as they are."""


def progress(reports_sent: Mapping[str, int]) -> dict[str, Row]:
    """Report counters as the column changes of :meth:`~nwdaf.platform.store.SubscriptionStore.update_many`."""
    return {sid: {"reports_sent": n} for sid, n in reports_sent.items()}
