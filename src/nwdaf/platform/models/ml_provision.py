"""Nnwdaf_MLModelProvision wire models (TS 29.520, ``TS29520_Nnwdaf_MLModelProvision.yaml``), root
``/nnwdaf-mlmodelprovision/v1``.

``POST /subscriptions`` takes and returns :class:`NwdafMLModelProvSubsc`; the NWDAF containing MTLF POSTs
:class:`NwdafMLModelProvNotif` to its ``notifUri`` with the address of each provisioned model.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import StringConstraints, model_validator

from nwdaf.platform.models.analytics import Accuracy
from nwdaf.platform.models.analytics_info import EventFilter
from nwdaf.platform.models.common import (
    DateTime,
    NfInstanceId,
    NfSetId,
    NonEmptyList,
    ReportingInformation,
    SupportedFeatures,
    TimeWindow,
    Uinteger,
    Uri,
    WireModel,
)
from nwdaf.platform.models.events_subscription import NwdafEvent, TargetUeInformation

VendorId = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]  # IANA Private Enterprise Number (TS 29.510)


class FailureCode(StrEnum):
    """Why an ML model subscription failed for an event."""

    UNAVAILABLE_ML_MODEL = "UNAVAILABLE_ML_MODEL"


class MLModelMetric(StrEnum):
    """Metric an ML model's performance is given in."""

    ACCURACY = "ACCURACY"


class MLModelAddr(WireModel):
    """Where to fetch an ML model file: exactly one of a URL or an FQDN."""

    mLModelUrl: Uri | None = None
    mlFileFqdn: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.mLModelUrl is None) == (self.mlFileFqdn is None):
            raise ValueError("MLModelAddr needs exactly one of mLModelUrl, mlFileFqdn")
        return self


class MLModelAdrf(WireModel):
    """An ML model stored in an ADRF: exactly one of ``adrfId`` or ``adrfSetId``, plus the storage id."""

    adrfId: NfInstanceId | None = None
    adrfSetId: NfSetId | None = None
    storTransId: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.adrfId is None) == (self.adrfSetId is None):
            raise ValueError("MLModelAdrf needs exactly one of adrfId, adrfSetId")
        return self


class MLRepEventCondition(WireModel):
    """When to report during model training: per training round, time window or accuracy threshold."""

    mlTrainRound: Uinteger | None = None
    mlTrainRepTime: TimeWindow | None = None
    mlAccuracyThreshold: Uinteger | None = None
    modelMetric: MLModelMetric | None = None


class ModelProvisionParamsExt(WireModel):
    """Optional extended parameters of an ML model request (``inferInpDataInfos`` is not modelled)."""

    reqRepRatio: Uinteger | None = None
    multModelsInd: bool | None = None
    numModels: Uinteger | None = None
    accuLevels: NonEmptyList[Accuracy] | None = None


class MLEventSubscription(WireModel):
    """Request for the ML model of one analytics event, filtered by ``mLEventFilter``."""

    mLEvent: NwdafEvent
    mLEventFilter: EventFilter
    tgtUe: TargetUeInformation | None = None
    mLTargetPeriod: TimeWindow | None = None
    expiryTime: DateTime | None = None
    timeModelNeeded: DateTime | None = None
    mlEvRepCon: MLRepEventCondition | None = None
    modelInterInfo: str | None = None
    nfConsumerInfo: VendorId | None = None
    modelProvExt: ModelProvisionParamsExt | None = None
    useCaseCxt: str | None = None


class AdditionalMLModelInformation(WireModel):
    """A further model for the same event (e.g. for another validity period or area)."""

    mLFileAddr: MLModelAddr | None = None
    mLModelAdrf: MLModelAdrf | None = None
    validityPeriod: TimeWindow | None = None
    modelUniqueId: Uinteger | None = None
    modelRepRatio: Uinteger | None = None
    mlDegradInd: bool | None = None
    modelMetric: MLModelMetric | None = None
    accMLModel: Uinteger | None = None


class MLEventNotif(WireModel):
    """A provisioned model for one event: exactly one of ``mLFileAddr`` or ``mLModelAdrf``."""

    event: NwdafEvent
    notifCorreId: str | None = None
    mlFile: str | None = None
    mLFileAddr: MLModelAddr | None = None
    mLModelAdrf: MLModelAdrf | None = None
    validityPeriod: TimeWindow | None = None
    addModelInfo: NonEmptyList[AdditionalMLModelInformation] | None = None

    @model_validator(mode="after")
    def _one_location(self) -> Self:
        if (self.mLFileAddr is None) == (self.mLModelAdrf is None):
            raise ValueError("MLEventNotif needs exactly one of mLFileAddr, mLModelAdrf")
        return self


class FailureEventInfoForMLModel(WireModel):
    """An event of an ML model subscription that could not be served, and why."""

    event: NwdafEvent
    failureCode: FailureCode


class NwdafMLModelProvSubsc(WireModel):
    """Body of ``POST /subscriptions`` and of its 201 response (then possibly with ``mLEventNotifs`` for
    immediate reports, ``eventReq.immRep``, and ``failEventReports``)."""

    mLEventSubscs: NonEmptyList[MLEventSubscription]
    notifUri: Uri
    mLEventNotifs: NonEmptyList[MLEventNotif] | None = None
    suppFeats: SupportedFeatures | None = None
    notifCorreId: str | None = None
    eventReq: ReportingInformation | None = None
    failEventReports: NonEmptyList[FailureEventInfoForMLModel] | None = None


class NwdafMLModelProvNotif(WireModel):
    """Body POSTed to ``notifUri``."""

    eventNotifs: NonEmptyList[MLEventNotif]
    subscriptionId: str
