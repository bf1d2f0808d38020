"""Provisioning subscriptions persist across a restart (a new store on the same file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nwdaf.nf.mtlf.store import SubscriptionStore
from nwdaf.platform.models.common import from_wire
from nwdaf.platform.models.ml_provision import NwdafMLModelProvSubsc

pytestmark = pytest.mark.unit

BODY = {"mLEventSubscs": [{"mLEvent": "ABNORMAL_BEHAVIOUR", "mLEventFilter": {}}],
        "notifUri": "http://127.0.0.1:9/cb", "notifCorreId": "c1"}


def test_subscriptions_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "subs.sqlite3"
    store = SubscriptionStore(path)
    sub = store.create(from_wire(NwdafMLModelProvSubsc, BODY))
    store.mark_notified(sub.id, "model-a", "3")
    store.close()
    again = SubscriptionStore(path)
    loaded = again.get(sub.id)
    assert loaded is not None
    assert loaded.body.notifCorreId == "c1"
    assert loaded.notified == {"model-a": "3"}
    replaced = again.replace(sub.id, from_wire(NwdafMLModelProvSubsc, BODY | {"notifCorreId": "c2"}))
    assert replaced is not None
    assert again.get(sub.id).notified == {}
    assert again.delete(sub.id)
    assert again.get(sub.id) is None
    assert not again.delete(sub.id)
    assert again.replace(sub.id, from_wire(NwdafMLModelProvSubsc, BODY)) is None
