"""Our models cannot drift from the YAML unnoticed.

The 3GPP schemas allow unknown attributes, so a misspelt field would still validate; these tests compare every
model's wire names with the schema's attribute names, and show that drift in names or types is caught.
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

import nwdaf.platform.models as models
from nwdaf.platform.models import (
    BitRate,
    DateTime,
    EventType,
    NotificationData,
    NotificationItem,
    WireModel,
    from_wire,
    to_wire,
)
from nwdaf.platform.models.openapi import SchemaViolation, SpecValidator

pytestmark = pytest.mark.contract

_FILES = {
    "TS29571_CommonData.yaml": {"Snssai", "PlmnId", "IpAddr", "InvalidParam", "ProblemDetails", "PatchItem"},
    "TS29122_CommonData.yaml": {"TimeWindow"},
    "TS29122_CpProvisioning.yaml": {"ScheduledCommunicationTime"},
    "TS29523_Npcf_EventExposure.yaml": {"ReportingInformation"},
    "TS29512_Npcf_SMPolicyControl.yaml": {"FlowInformation"},
    "TS29514_Npcf_PolicyAuthorization.yaml": {"EthFlowDescription"},
    "TS29520_Nnwdaf_AnalyticsInfo.yaml": {"EventFilter", "AnalyticsData"},
    "TS29520_Nnwdaf_MLModelProvision.yaml": {
        "MLModelAddr",
        "MLModelAdrf",
        "MLRepEventCondition",
        "ModelProvisionParamsExt",
        "MLEventSubscription",
        "AdditionalMLModelInformation",
        "MLEventNotif",
        "FailureEventInfoForMLModel",
        "NwdafMLModelProvSubsc",
        "NwdafMLModelProvNotif",
    },
}
_RENAMED = {"AnalyticsException": "Exception"}


def _schema_ref(model: type[WireModel]) -> str:
    name = model.__name__
    if model.__module__ == "nwdaf.platform.models.upf_ee":
        filename = "TS29564_Nupf_EventExposure.yaml"
    else:
        filename = next((f for f, names in _FILES.items() if name in names), "TS29520_Nnwdaf_EventsSubscription.yaml")
    return f"{filename}#/components/schemas/{_RENAMED.get(name, name)}"


def _wire_names(model: type[WireModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


PUBLIC_MODELS = sorted(
    (
        obj
        for obj in vars(models).values()
        if inspect.isclass(obj) and issubclass(obj, WireModel) and obj is not WireModel
    ),
    key=lambda m: m.__name__,
)


def _all_subclasses(cls: type[WireModel]) -> set[type[WireModel]]:
    direct = set(cls.__subclasses__())
    return direct.union(*(_all_subclasses(c) for c in direct))


def test_every_model_is_public_and_checked() -> None:
    defined = {m for m in _all_subclasses(WireModel) if m.__module__.startswith("nwdaf.platform.models.")}
    assert defined == set(PUBLIC_MODELS)
    assert all(m.__name__ in models.__all__ for m in PUBLIC_MODELS)


@pytest.mark.parametrize("model", PUBLIC_MODELS, ids=lambda m: m.__name__)
def test_field_names_exist_in_yaml(spec: SpecValidator, model: type[WireModel]) -> None:
    unknown = _wire_names(model) - spec.property_names(_schema_ref(model))
    assert not unknown, f"{model.__name__} has fields the YAML does not define: {sorted(unknown)}"


@pytest.mark.parametrize("model", PUBLIC_MODELS, ids=lambda m: m.__name__)
def test_required_fields_match_yaml(spec: SpecValidator, model: type[WireModel]) -> None:
    schema = spec.schema(_schema_ref(model))
    # Unconditionally required: "required" of the schema and of its allOf members (not of anyOf/oneOf branches).
    yaml_required = set(schema.get("required", ())).union(*(m.get("required", ()) for m in schema.get("allOf", ())))
    ours = {field.alias or name for name, field in model.model_fields.items() if field.is_required()}
    assert ours == yaml_required


# --- deliberate drift: what the checks above and schema validation catch -------------------------------------


class DriftedThroughputStatistics(WireModel):
    """A plausible misspelling: 'dlPeakThroughput' (TS 29.564 says 'dlPeakThroughPut')."""

    ulPeakThroughput: BitRate
    dlPeakThroughput: BitRate


class DriftedVolumeMeasurement(WireModel):
    """Volume as an integer byte count instead of a TrafficVolume string."""

    totalVolume: int


class DriftedNotificationItem(WireModel):
    """'timestamp' instead of the required 'timeStamp'."""

    eventType: EventType
    ueIpv4Addr: str
    timestamp: DateTime


def test_drifted_name_is_caught_by_the_name_check(spec: SpecValidator) -> None:
    ref = "TS29564_Nupf_EventExposure.yaml#/components/schemas/ThroughputStatisticsMeasurement"
    assert _wire_names(DriftedThroughputStatistics) - spec.property_names(ref) == {"dlPeakThroughput"}


def test_drifted_type_fails_validation(spec: SpecValidator) -> None:
    wire = to_wire(DriftedVolumeMeasurement(totalVolume=1000))
    with pytest.raises(SchemaViolation) as raised:
        spec.validate(wire, "TS29564_Nupf_EventExposure.yaml#/components/schemas/VolumeMeasurement")
    assert [e.path for e in raised.value.errors] == ["/totalVolume"]
    assert "is not of type 'string'" in str(raised.value)


def test_drifted_required_name_fails_validation(spec: SpecValidator) -> None:
    item = DriftedNotificationItem(
        eventType=EventType.USER_DATA_USAGE_MEASURES,
        ueIpv4Addr="10.42.0.2",
        timestamp=datetime(2025, 3, 27, tzinfo=UTC),
    )
    with pytest.raises(SchemaViolation, match=r"/notificationItems/0/timeStamp: 'timeStamp' is a required"):
        spec.validate(
            {"notificationItems": [to_wire(item)]},
            "TS29564_Nupf_EventExposure.yaml#/components/schemas/NotificationData",
        )


def test_unknown_enum_value_passes_yaml_but_not_our_models(spec: SpecValidator) -> None:
    # 3GPP enumerations are extensible (anyOf enum / any string), so the YAML accepts a value from the future.
    body = {
        "notificationItems": [
            {"eventType": "USER_DATA_USAGE_FORECAST", "ueIpv4Addr": "10.42.0.2", "timeStamp": "2025-03-27T18:03:49Z"}
        ]
    }
    assert spec.is_valid(body, "TS29564_Nupf_EventExposure.yaml#/components/schemas/NotificationData")
    with pytest.raises(ValidationError, match="eventType") as raised:
        from_wire(NotificationData, body)
    assert raised.value.errors()[0]["loc"] == ("notificationItems", 0, "eventType")
    with pytest.raises(ValidationError):
        NotificationItem.model_validate(body["notificationItems"][0])
