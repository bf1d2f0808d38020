"""Nupf_EventExposure over HTTP (in process): Subscribe, Modify with JSON Patch, Unsubscribe, and their errors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.unit.nf.upf.helpers import subscription

from nwdaf.nf.upf.service import UpfService
from nwdaf.platform.sbi import PROBLEM_JSON

pytestmark = pytest.mark.unit

ROOT = "/nupf-ee/v1/ee-subscriptions"
PATCH_JSON = {"content-type": "application/json-patch+json"}


async def _create(api: httpx.AsyncClient, body: dict[str, Any] | None = None) -> str:
    resp = await api.post(ROOT, json=body or subscription())
    assert resp.status_code == 201, resp.text
    return str(resp.json()["subscriptionId"])


async def test_subscribe_returns_201_location_and_the_subscription(api: httpx.AsyncClient, upf: UpfService) -> None:
    body = subscription()
    resp = await api.post(ROOT, json=body)
    assert resp.status_code == 201
    created = resp.json()
    sub_id = created["subscriptionId"]
    assert resp.headers["location"] == f"http://upf.test{ROOT}/{sub_id}"
    assert created["subscription"]["notifyCorrelationId"] == "corr-1"
    assert created["subscription"]["eventReportingMode"] == {"trigger": "PERIODIC", "repPeriod": 1}
    state = upf.ctx.subscriptions[sub_id]
    assert (state.period_s, state.period_ticks) == (1, 1)
    assert sub_id in upf.ctx.notifier.channels


def _event(**fields: Any) -> list[dict[str, Any]]:
    return [{"type": "USER_DATA_USAGE_MEASURES", "measurementTypes": ["VOLUME_MEASUREMENT"], **fields}]


@pytest.mark.parametrize(("overrides", "param", "needle"), [
    ({"eventList": [{"type": "QOS_MONITORING", "measurementTypes": ["VOLUME_MEASUREMENT"]}],
      }, "/subscription/eventList/0/type", "not supported"),
    ({"eventList": [{"type": "USER_DATA_USAGE_TRENDS"}]}, "/subscription/eventList/0/measurementTypes", "required"),
    ({"eventList": _event(measurementTypes=["APPLICATION_RELATED_INFO"])},
     "/subscription/eventList/0/measurementTypes", "application detection"),
    ({"eventList": _event(appIds=["no-such-app"], granularityOfMeasurement="PER_APPLICATION")},
     "/subscription/eventList/0/appIds", "unknown application"),
    ({"eventList": _event(appIds=["http"])}, "/subscription/eventList/0/appIds", "PER_APPLICATION or PER_FLOW"),
    ({"eventList": _event(granularityOfMeasurement="PER_FLOW",
                          trafficFilters=[{"flowDescription": "permit in ip from any to any"}])},
     "/subscription/eventList/0/trafficFilters/0/flowDescription", "permit out"),
    ({"eventList": _event(immediateFlag=True)}, "/subscription/eventList/0/immediateFlag", "not supported"),
    ({"eventReportingMode": {"trigger": "PERIODIC", "repPeriod": 1, "sampRatio": 50}},
     "/subscription/eventReportingMode", "sampRatio"),
    ({"eventReportingMode": {"trigger": "PERIODIC", "repPeriod": 1, "expiry": "2001-01-01T00:00:00Z"}},
     "/subscription/eventReportingMode/expiry", "in the past"),
    ({"anyUe": False}, "/subscription", "anyUe"),
    ({"gpsi": "msisdn-123456789"}, "/subscription/gpsi", "not known"),
    ({"supi": "imsi-001010000000001"}, "/subscription/anyUe", "cannot be combined"),
    ({"eventNotifyUri": "ftp://consumer/x"}, "/subscription/eventNotifyUri", "http"),
])
async def test_unsupported_or_inconsistent_subscriptions_are_400_naming_the_attribute(
    api: httpx.AsyncClient, overrides: dict[str, Any], param: str, needle: str
) -> None:
    resp = await api.post(ROOT, json=subscription(**overrides))
    assert resp.status_code == 400, resp.text
    assert resp.headers["content-type"] == PROBLEM_JSON
    problem = resp.json()
    assert problem["invalidParams"][0]["param"] == param
    assert needle in problem["detail"]


async def test_schema_errors_are_400_with_pointers(api: httpx.AsyncClient, upf: UpfService) -> None:
    body = subscription(eventReportingMode={"trigger": "PERIODIC"})
    del body["subscription"]["nfId"]
    resp = await api.post(ROOT, json=body)
    assert resp.status_code == 400
    params = {p["param"] for p in resp.json()["invalidParams"]}
    assert "/subscription/nfId" in params
    assert any(p.startswith("/subscription/eventReportingMode") for p in params)
    assert upf.ctx.subscriptions == {}


async def test_rep_period_below_the_minimum_is_refused(make_upf: Any) -> None:
    from nwdaf.platform.sbi import create_sbi_app

    svc = make_upf(min_rep_period_s=5)
    transport = httpx.ASGITransport(app=create_sbi_app("upf", svc.routers()))
    async with httpx.AsyncClient(transport=transport, base_url="http://upf.test") as api:
        resp = await api.post(ROOT, json=subscription(eventReportingMode={"trigger": "PERIODIC", "repPeriod": 2}))
    assert resp.status_code == 400
    assert resp.json()["invalidParams"][0]["param"] == "/subscription/eventReportingMode/repPeriod"


async def test_patch_replaces_the_period(api: httpx.AsyncClient, upf: UpfService) -> None:
    sub_id = await _create(api)
    patch = [{"op": "replace", "path": "/eventReportingMode/repPeriod", "value": 3}]
    resp = await api.patch(f"{ROOT}/{sub_id}", json=patch, headers=PATCH_JSON)
    assert resp.status_code == 204, resp.text
    state = upf.ctx.subscriptions[sub_id]
    assert (state.period_s, state.period_ticks) == (3, 3)
    assert state.request.eventReportingMode.repPeriod == 3


async def test_patch_can_retarget_notifications(api: httpx.AsyncClient, upf: UpfService) -> None:
    sub_id = await _create(api)
    patch = [{"op": "replace", "path": "/eventNotifyUri", "value": "http://other.test/n"},
             {"op": "replace", "path": "/notifyCorrelationId", "value": "corr-2"}]
    assert (await api.patch(f"{ROOT}/{sub_id}", json=patch, headers=PATCH_JSON)).status_code == 204
    channel = upf.ctx.notifier.channels[sub_id]
    assert (channel.uri, channel.correlation_id) == ("http://other.test/n", "corr-2")


@pytest.mark.parametrize(("patch", "status"), [
    ([{"op": "replace", "path": "/nosuch/repPeriod", "value": 3}], 400),
    ([{"op": "replace", "path": "/eventReportingMode/repPeriod", "value": "soon"}], 400),
    ([{"op": "replace", "path": "/eventReportingMode/repPeriod", "value": 0}], 400),
    ([{"op": "remove", "path": "/nfId"}], 400),
    ([{"op": "jump", "path": "/nfId"}], 400),
    ([{"op": "replace", "path": "/eventReportingMode/repPeriod"}], 400),
    ([], 400),
    ({"op": "replace"}, 400),
])
async def test_invalid_patch_is_400_and_changes_nothing(
    api: httpx.AsyncClient, upf: UpfService, patch: Any, status: int
) -> None:
    sub_id = await _create(api)
    before = upf.ctx.subscriptions[sub_id].request
    resp = await api.patch(f"{ROOT}/{sub_id}", json=patch, headers=PATCH_JSON)
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == PROBLEM_JSON
    assert upf.ctx.subscriptions[sub_id].request == before


async def test_patch_needs_the_json_patch_media_type(api: httpx.AsyncClient) -> None:
    sub_id = await _create(api)
    patch = [{"op": "replace", "path": "/eventReportingMode/repPeriod", "value": 3}]
    resp = await api.patch(f"{ROOT}/{sub_id}", json=patch)
    assert resp.status_code == 415
    assert resp.json()["cause"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_unsubscribe_then_404(api: httpx.AsyncClient, upf: UpfService) -> None:
    sub_id = await _create(api)
    assert (await api.delete(f"{ROOT}/{sub_id}")).status_code == 204
    assert sub_id not in upf.ctx.subscriptions
    assert sub_id not in upf.ctx.notifier.channels
    again = await api.delete(f"{ROOT}/{sub_id}")
    assert again.status_code == 404
    assert again.json()["cause"] == "SUBSCRIPTION_NOT_FOUND"
    patch = [{"op": "replace", "path": "/eventReportingMode/repPeriod", "value": 3}]
    assert (await api.patch(f"{ROOT}/{sub_id}", json=patch, headers=PATCH_JSON)).status_code == 404


async def test_subscription_limit_is_403(make_upf: Any) -> None:
    from nwdaf.platform.sbi import create_sbi_app

    svc = make_upf(max_subscriptions=1)
    transport = httpx.ASGITransport(app=create_sbi_app("upf", svc.routers()))
    async with httpx.AsyncClient(transport=transport, base_url="http://upf.test") as api:
        assert (await api.post(ROOT, json=subscription())).status_code == 201
        resp = await api.post(ROOT, json=subscription())
    assert resp.status_code == 403
    assert resp.json()["cause"] == "INSUFFICIENT_RESOURCES"
    await svc.ctx.notifier.close_all()
