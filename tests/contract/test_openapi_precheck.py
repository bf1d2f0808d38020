"""The compiled pre-check (``nwdaf.platform.models.openapi_fast``) is never more lenient than the Python validator.

Its *valid* verdict skips the Python walk, so a payload it accepts must be one the Python validator accepts: checked
on the UPF's real reports, on NWDAF subscription bodies and on many mutations of both (hypothesis). And it must
accept the real reports, or it would speed nothing up.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.upf_load import UpfLoad

from nwdaf.platform.models.openapi import SpecValidator

pytestmark = pytest.mark.contract

NOTIFICATION = "TS29564_Nupf_EventExposure.yaml#/components/schemas/NotificationData"
SUBSCRIPTION = "TS29520_Nnwdaf_EventsSubscription.yaml#/components/schemas/NnwdafEventsSubscription"

_REPORT = UpfLoad.build(ues=3, flows_per_ue=2).notifications(1, 1_700_000_000, 5_000)[0]
_SUBSCRIPTION: dict[str, Any] = {
    "eventSubscriptions": [{
        "event": "ABNORMAL_BEHAVIOUR",
        "tgtUe": {"anyUe": True},
        "excepRequs": [{"excepId": "SUSPICION_OF_DDOS_ATTACK", "excepLevel": 50}],
        "extraReportReq": {"startTs": "2026-01-01T00:00:00Z", "maxObjectNbr": 10},
        "loadLevelThreshold": 10,
    }],
    "evtReq": {"notifMethod": "PERIODIC", "repPeriod": 2, "maxReportNbr": 4},
    "notificationURI": "http://127.0.0.1:9/cb",
    "notifCorrId": "c-1",
    "supportedFeatures": "1",
}

_odd_values = st.one_of(
    # the edges a schema draws (signs, 32/64-bit ranges, null, empty, wrong types) — most mutations hit one
    st.sampled_from([-1, 0, 2**31, -(2**31) - 1, 2**63, 2**64, 1.5, None, True, "", "x", [], {}, "-1",
                     "2026-13-40T99:00:00Z", "10.0.0.1", "::1", "1 B", "permit out 6 from 10.0.0.1 to 1.2.3.4 80"]),
    st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=False), st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
)


def _paths(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [at]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*at, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*at, i))
    return out


def _mutated(doc: Any, path: tuple[Any, ...], action: str, value: Any) -> Any:
    out = copy.deepcopy(doc)
    if not path:
        return value
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if action == "delete" and isinstance(parent, dict):
        del parent[last]
    elif action == "add" and isinstance(parent[last], dict):
        parent[last]["extraAttribute"] = value
    else:
        parent[last] = value
    return out


@pytest.mark.parametrize(("ref", "doc"), [(NOTIFICATION, _REPORT), (SUBSCRIPTION, _SUBSCRIPTION)])
def test_accepts_what_the_nfs_really_send(spec: SpecValidator, ref: str, doc: dict[str, Any]) -> None:
    assert spec.errors(doc, ref) == []
    assert spec.precheck(doc, ref) is True, "the compiled check must pass real payloads, or it speeds nothing up"


@pytest.mark.parametrize(("ref", "doc"), [(NOTIFICATION, _REPORT), (SUBSCRIPTION, _SUBSCRIPTION)])
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_never_more_lenient_than_the_python_walk(spec: SpecValidator, ref: str, doc: dict[str, Any],
                                                  data: st.DataObject) -> None:
    paths = _paths(doc)
    path = data.draw(st.sampled_from(paths))
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    instance = _mutated(doc, path, action, data.draw(_odd_values))
    errors = spec.errors(instance, ref, precheck=False)
    if spec.precheck(instance, ref):
        assert errors == [], f"pre-check accepted an invalid {ref} ({action} at {path}): {errors}"
    assert spec.is_valid(instance, ref) == (errors == [])
    assert spec.errors(instance, ref) == errors


def test_invalid_payloads_still_get_their_errors(spec: SpecValidator) -> None:
    bad = _mutated(_REPORT, ("notificationItems", 0, "eventType"), "replace", 7)
    assert spec.precheck(bad, NOTIFICATION) is False
    errors = spec.errors(bad, NOTIFICATION)
    assert errors
    assert errors[0].path.startswith("/notificationItems/0/eventType")
