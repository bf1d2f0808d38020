"""The engines' Nnwdaf_MLModelProvision callback (the production router): 204 once handled, 400 ProblemDetails for
a body that is not NwdafMLModelProvNotif or a model that fails its checks."""

from __future__ import annotations

import httpx
import pytest

from nwdaf.lib.ml.holder import ModelHolder
from nwdaf.nf.engines.api import ml_model_provision
from nwdaf.platform.sbi import SbiClient, create_sbi_app

pytestmark = pytest.mark.unit

URL = ml_model_provision.API_ROOT + ml_model_provision.NOTIFICATIONS_PATH


def _notif(event: str, url: str = "http://mtlf.test/model?sha256=" + "0" * 64) -> list[dict[str, object]]:
    return [{"subscriptionId": "s1", "eventNotifs": [{"event": event, "mLFileAddr": {"mLModelUrl": url}}]}]


async def _post(body: object) -> tuple[httpx.Response, ModelHolder]:
    artifact = httpx.MockTransport(lambda request: httpx.Response(200, content=b"not a model"))
    holder = ModelHolder(SbiClient(transport=artifact))
    app = create_sbi_app("engine", [(ml_model_provision.API_ROOT, ml_model_provision.create_router(holder))])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://engine.test") as c:
        return await c.post(URL, json=body), holder


async def test_a_notification_for_another_event_is_accepted_and_ignored() -> None:
    resp, holder = await _post(_notif("UE_COMMUNICATION"))
    assert resp.status_code == 204
    assert holder.current is None


@pytest.mark.parametrize("body", [[{"subscriptionId": "s1"}], [{"eventNotifs": "nope"}], {"x": 1}],
                         ids=["no-eventNotifs", "wrong-type", "not-a-notification"])
async def test_a_body_that_is_not_a_notification_is_400(body: object) -> None:
    resp, _ = await _post(body)
    assert resp.status_code == 400
    assert resp.headers["content-type"] == "application/problem+json"
    assert resp.json()["cause"] == "INVALID_MSG_FORMAT"


async def test_a_model_that_fails_its_checks_is_400_and_not_loaded() -> None:
    resp, holder = await _post(_notif("ABNORMAL_BEHAVIOUR"))
    assert resp.status_code == 400
    assert resp.json()["cause"] == "INVALID_MSG_FORMAT"
    assert holder.current is None
