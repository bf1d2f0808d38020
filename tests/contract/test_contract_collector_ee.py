"""The collector's Nsmf_EventExposure (TS 29.508) and Namf_EventExposure (TS 29.518) requests conform to the YAML."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from nwdaf.nf.collector.config import AmfEeTarget, AmfEventName, SmfEeTarget, SmfEventName
from nwdaf.nf.collector.consumer.ee_subscription import nf_instance_id
from nwdaf.nf.collector.consumer.namf_event_exposure import (
    AmfCreateEventSubscription,
    AmfEeSubscription,
    AmfEvent,
    AmfEventMode,
    AmfEventSubscription,
    AmfUpdateEventOptionItem,
    build_amf_subscription,
)
from nwdaf.nf.collector.consumer.nsmf_event_exposure import (
    NsmfEventExposure,
    SmfEeSubscription,
    SmfEventSubscription,
    build_smf_subscription,
)
from nwdaf.platform.models.common import WireModel
from nwdaf.platform.models.openapi import SpecValidator
from nwdaf.platform.sbi import SbiClient

pytestmark = pytest.mark.contract

NSMF = "TS29508_Nsmf_EventExposure.yaml#/components/schemas/"
NAMF = "TS29518_Namf_EventExposure.yaml#/components/schemas/"
NOTIFY = "http://127.0.0.1:8080/nnwdaf-datareceiver/v1/notifications/"
NF_ID = nf_instance_id("nwdaf-test")


def _smf_body(**target: Any) -> dict[str, Any]:
    request = build_smf_subscription(SmfEeTarget(api_root="http://127.0.0.1:1", **target), NOTIFY + "smf-ee",
                                     "nwdaf-smf-0", NF_ID)
    return SmfEeSubscription(SbiClient(), "http://127.0.0.1:1", request, 30.0).body()


def _amf(**target: Any) -> AmfEeSubscription:
    settings = AmfEeTarget(api_root="http://127.0.0.1:1", **target)
    request = build_amf_subscription(settings, NOTIFY + "amf-ee", "nwdaf-amf-0", NF_ID)
    return AmfEeSubscription(SbiClient(), "http://127.0.0.1:1", request, settings.check_interval_s, settings.expiry_s)


@pytest.mark.parametrize(
    "target",
    [{}, {"events": list(get_args(SmfEventName)), "immediate_report": False}],
    ids=["default", "every-event-no-immerep"],
)
def test_smf_subscription_conforms(spec: SpecValidator, target: dict[str, Any]) -> None:
    body = _smf_body(**target)
    spec.validate(body, NSMF + "NsmfEventExposure")
    assert body["anyUeInd"] is True
    assert body["notifUri"] == NOTIFY + "smf-ee"
    assert body["notifMethod"] == "ON_EVENT_DETECTION"
    assert ("ImmeRep" in body) is (target.get("immediate_report", True))


def test_smf_default_events_tie_ue_addresses_to_supis() -> None:
    assert [e["event"] for e in _smf_body()["eventSubs"]] == ["PDU_SES_EST", "PDU_SES_REL", "UE_IP_CH"]


@pytest.mark.parametrize(
    "target",
    [{}, {"events": list(get_args(AmfEventName)), "immediate_report": False}],
    ids=["default", "every-event-no-immediate"],
)
def test_amf_subscription_conforms(spec: SpecValidator, target: dict[str, Any]) -> None:
    body = _amf(**target).body()
    spec.validate(body, NAMF + "AmfCreateEventSubscription")
    sub = body["subscription"]
    assert sub["anyUE"] is True
    assert sub["nfId"] == NF_ID
    assert sub["options"]["trigger"] == "CONTINUOUS"
    assert sub["options"]["expiry"].endswith("Z")


def test_amf_expiry_refresh_is_one_option_item(spec: SpecValidator) -> None:
    patch = _amf().refresh_body()
    assert len(patch) == 1
    spec.validate(patch[0], NAMF + "AmfUpdateEventOptionItem")
    assert patch[0]["path"] == "/options/expiry"


@pytest.mark.parametrize(
    ("model", "ref"),
    [
        (NsmfEventExposure, NSMF + "NsmfEventExposure"),
        (SmfEventSubscription, NSMF + "EventSubscription"),
        (AmfCreateEventSubscription, NAMF + "AmfCreateEventSubscription"),
        (AmfEventSubscription, NAMF + "AmfEventSubscription"),
        (AmfEvent, NAMF + "AmfEvent"),
        (AmfEventMode, NAMF + "AmfEventMode"),
        (AmfUpdateEventOptionItem, NAMF + "AmfUpdateEventOptionItem"),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else "",
)
def test_request_models_use_yaml_names_and_requirements(spec: SpecValidator, model: type[WireModel],
                                                        ref: str) -> None:
    names = {f.alias or n for n, f in model.model_fields.items()}
    assert names <= spec.property_names(ref), sorted(names - spec.property_names(ref))
    always_sent = {f.alias or n for n, f in model.model_fields.items() if f.is_required() or f.default is not None}
    assert set(spec.schema(ref).get("required", ())) <= always_sent
