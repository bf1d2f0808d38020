"""Which champion serves an MLEventSubscription."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from nwdaf.nf.mtlf.matching import best_match, expired, matches
from nwdaf.nf.mtlf.registry import ModelVersionInfo
from nwdaf.platform.models.common import from_wire
from nwdaf.platform.models.ml_provision import MLEventSubscription

pytestmark = pytest.mark.unit


def model(version: str, accuracy: int, **tags: str) -> ModelVersionInfo:
    base = {"nwdafEvent": "ABNORMAL_BEHAVIOUR", "exceptionId": "SUSPICION_OF_DDOS_ATTACK",
            "accuracy": str(accuracy)}
    return ModelVersionInfo("m", version, None, ("champion",), base | tags, datetime(2025, 1, int(version), tzinfo=UTC))


def event(**extra: object) -> MLEventSubscription:
    body: dict[str, object] = {"mLEvent": "ABNORMAL_BEHAVIOUR",
                               "mLEventFilter": {"excepIds": ["SUSPICION_OF_DDOS_ATTACK"]}}
    return from_wire(MLEventSubscription, body | extra)


def test_event_and_exception_must_match() -> None:
    assert matches(event(), model("1", 90))
    assert not matches(event(), model("1", 90, nwdafEvent="UE_COMMUNICATION"))
    assert not matches(event(), model("1", 90, exceptionId="WRONG_DESTINATION_ADDRESS"))
    wide = event(mLEventFilter={"excepIds": ["WRONG_DESTINATION_ADDRESS", "SUSPICION_OF_DDOS_ATTACK"]})
    assert matches(wide, model("1", 90))


def test_slice_scope_only_restricts_tagged_models() -> None:
    sliced = event(mLEventFilter={"excepIds": ["SUSPICION_OF_DDOS_ATTACK"], "snssais": [{"sst": 1, "sd": "000001"}]})
    assert matches(sliced, model("1", 90))
    assert matches(sliced, model("1", 90, snssais=json.dumps(["1-000001"])))
    assert not matches(sliced, model("1", 90, snssais=json.dumps(["2"])))


def test_accuracy_threshold_and_ranking() -> None:
    strict = event(mlEvRepCon={"mlAccuracyThreshold": 95})
    assert not matches(strict, model("1", 90))
    ranked = best_match(event(), [model("1", 80), model("2", 95), model("3", 95)])
    assert [m.version for m in ranked] == ["3", "2", "1"]


def test_expired_events_are_ignored() -> None:
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    assert expired(event(expiryTime=past))
    assert not expired(event())
