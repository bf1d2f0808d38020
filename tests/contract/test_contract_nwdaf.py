"""Nnwdaf_EventsSubscription, Nnwdaf_AnalyticsInfo and Nnwdaf_MLModelProvision (TS 29.520) payloads built with
our models validate against the 3GPP YAML; so do ProblemDetails (TS 29.571)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nwdaf.platform.models import (
    AbnormalBehaviour,
    Accuracy,
    AdditionalMeasurement,
    AdditionalMLModelInformation,
    AddressList,
    AnalyticsData,
    AnalyticsException,
    AnalyticsMetadata,
    AnalyticsMetadataInfo,
    AppListForUeComm,
    CircumstanceDescription,
    EventFilter,
    EventNotification,
    EventReportingRequirement,
    EventSubscription,
    ExceptionId,
    ExceptionTrend,
    ExpectedAnalyticsType,
    FailureCode,
    FailureEventInfo,
    FailureEventInfoForMLModel,
    InvalidParam,
    IpEthFlowDescription,
    MLEventNotif,
    MLEventSubscription,
    MLModelAddr,
    MLModelMetric,
    MLRepEventCondition,
    NnwdafEventsSubscription,
    NnwdafEventsSubscriptionNotification,
    NotificationMethod,
    NsmfNotificationMethod,
    NwdafEvent,
    NwdafFailureCode,
    NwdafMLModelProvNotif,
    NwdafMLModelProvSubsc,
    ProblemDetails,
    ReportingInformation,
    ScheduledCommunicationTime,
    Snssai,
    TargetUeInformation,
    TermCause,
    TimeWindow,
    TrafficCharacterization,
    UeCommOrderCriterion,
    UeCommReq,
    UeCommunication,
    to_wire,
)
from nwdaf.platform.models.events_subscription import MatchingDirection
from nwdaf.platform.models.openapi import SpecValidator

pytestmark = pytest.mark.contract

EES = "TS29520_Nnwdaf_EventsSubscription.yaml#/components/schemas/"
AI = "TS29520_Nnwdaf_AnalyticsInfo.yaml#/components/schemas/"
MLP = "TS29520_Nnwdaf_MLModelProvision.yaml#/components/schemas/"
COMMON = "TS29571_CommonData.yaml#/components/schemas/"
T0 = datetime(2025, 3, 27, 18, 3, 49, tzinfo=UTC)
SUPI = "imsi-001010000000001"
SLICE = Snssai(sst=1, sd="000001")


def _ddos_subscription() -> EventSubscription:
    return EventSubscription(
        event=NwdafEvent.ABNORMAL_BEHAVIOUR,
        excepRequs=[AnalyticsException(excepId=ExceptionId.SUSPICION_OF_DDOS_ATTACK, excepLevel=50)],
        notificationMethod=NotificationMethod.PERIODIC,
        repetitionPeriod=1,
        tgtUe=TargetUeInformation(anyUe=True),
        snssaia=[SLICE],
        dnns=["internet"],
        extraReportReq=EventReportingRequirement(
            accuracy=Accuracy.HIGH, maxSupiNbr=100, anaMeta=[AnalyticsMetadata.NUM_OF_SAMPLES]
        ),
    )


def _ue_comm_subscription() -> EventSubscription:
    return EventSubscription(
        event=NwdafEvent.UE_COMMUNICATION,
        notificationMethod=NotificationMethod.THRESHOLD,
        matchingDir=MatchingDirection.ASCENDING,
        tgtUe=TargetUeInformation(supis=[SUPI]),
        appIds=["video-streaming"],
        ueCommReqs=[
            UeCommReq(orderCriterion=UeCommOrderCriterion.DURATION, orderDirection=MatchingDirection.DESCENDING)
        ],
    )


def _abnormal_behaviour() -> AbnormalBehaviour:
    return AbnormalBehaviour(
        supis=[SUPI],
        excep=AnalyticsException(
            excepId=ExceptionId.SUSPICION_OF_DDOS_ATTACK, excepLevel=87, excepTrend=ExceptionTrend.UNKNOW
        ),
        dnn="internet",
        snssai=SLICE,
        ratio=100,
        confidence=92,
        addtMeasInfo=AdditionalMeasurement(
            ddosAttack=AddressList(ipv4Addrs=["203.0.113.7"], ipv6Addrs=["2001:db8::7"]),
            unexpFlowTeps=[IpEthFlowDescription(ipTrafficFilter="permit out 17 from 203.0.113.7 to 10.42.0.2 53")],
            circums=[CircumstanceDescription(freq=12.5, tm=T0, vol=1_048_576)],
        ),
    )


def _ue_communication() -> UeCommunication:
    return UeCommunication(
        commDur=340,
        commDurVariance=12.5,
        perioTime=3600,
        ts=T0,
        perioCommInd=True,
        confidence=80,
        ratio=60,
        trafChar=TrafficCharacterization(
            dnn="internet", snssai=SLICE, appId="video-streaming", ulVol=2_500_000, dlVol=48_000_000
        ),
        anaOfAppList=AppListForUeComm(appId="video-streaming", startTime=T0, appDur=340, occurRatio=60),
    )


def test_subscription_request_conforms(spec: SpecValidator) -> None:
    body = NnwdafEventsSubscription(
        eventSubscriptions=[_ddos_subscription(), _ue_comm_subscription()],
        notificationURI="http://127.0.0.1:7777/nsmf-nwdaf/v1/notify",
        notifCorrId="smf-1",
        evtReq=ReportingInformation(
            immRep=False,
            notifMethod=NsmfNotificationMethod.PERIODIC,
            repPeriod=1,
            maxReportNbr=3600,
            monDur=T0 + timedelta(hours=1),
            sampRatio=100,
        ),
        supportedFeatures="0",
    )
    spec.validate(to_wire(body), EES + "NnwdafEventsSubscription")


def test_expected_analytics_type_subscription_conforms(spec: SpecValidator) -> None:
    sub = EventSubscription(
        event=NwdafEvent.ABNORMAL_BEHAVIOUR,
        exptAnaType=ExpectedAnalyticsType.COMMUN,
        tgtUe=TargetUeInformation(intGroupIds=["12345678-001-01-0a"]),
    )
    body = NnwdafEventsSubscription(eventSubscriptions=[sub], notificationURI="http://127.0.0.1:7777/n")
    spec.validate(to_wire(body), EES + "NnwdafEventsSubscription")


def test_subscription_response_with_reports_and_failures_conforms(spec: SpecValidator) -> None:
    body = NnwdafEventsSubscription(
        eventSubscriptions=[_ddos_subscription()],
        notificationURI="http://127.0.0.1:7777/nsmf-nwdaf/v1/notify",
        eventNotifications=[
            EventNotification(event=NwdafEvent.ABNORMAL_BEHAVIOUR, abnorBehavrs=[_abnormal_behaviour()])
        ],
        failEventReports=[
            FailureEventInfo(event=NwdafEvent.UE_COMMUNICATION, failureCode=NwdafFailureCode.UNAVAILABLE_DATA)
        ],
    )
    spec.validate(to_wire(body), EES + "NnwdafEventsSubscription")


@pytest.mark.parametrize(
    "notification",
    [
        pytest.param(
            lambda: NnwdafEventsSubscriptionNotification(
                subscriptionId="1",
                notifCorrId="smf-1",
                eventNotifications=[
                    EventNotification(
                        event=NwdafEvent.ABNORMAL_BEHAVIOUR,
                        timeStampGen=T0,
                        start=T0,
                        expiry=T0 + timedelta(seconds=1),
                        abnorBehavrs=[_abnormal_behaviour()],
                        anaMetaInfo=AnalyticsMetadataInfo(
                            numSamples=1500,
                            accuracy=Accuracy.HIGH,
                            dataWindow=TimeWindow(startTime=T0 - timedelta(minutes=5), stopTime=T0),
                        ),
                    )
                ],
            ),
            id="abnormal-behaviour",
        ),
        pytest.param(
            lambda: NnwdafEventsSubscriptionNotification(
                subscriptionId="2",
                eventNotifications=[
                    EventNotification(
                        event=NwdafEvent.UE_COMMUNICATION,
                        ueComms=[
                            _ue_communication(),
                            _ue_communication().model_copy(
                                update={
                                    "ts": None,
                                    "recurringTime": ScheduledCommunicationTime(
                                        daysOfWeek=[1, 2, 3, 4, 5], timeOfDayStart="08:00:00Z", timeOfDayEnd="09:00:00Z"
                                    ),
                                }
                            ),
                        ],
                    )
                ],
            ),
            id="ue-communication",
        ),
        pytest.param(
            lambda: NnwdafEventsSubscriptionNotification(
                subscriptionId="3",
                eventNotifications=[
                    EventNotification(
                        event=NwdafEvent.ABNORMAL_BEHAVIOUR,
                        failNotifyCode=NwdafFailureCode.UNAVAILABLE_DATA,
                        rvWaitTime=30,
                    )
                ],
            ),
            id="failure",
        ),
        pytest.param(
            lambda: NnwdafEventsSubscriptionNotification(
                subscriptionId="4",
                oldSubscriptionId="1",
                resourceUri="http://127.0.0.1:7778/nnwdaf/subscriptions/4",
                termCause=TermCause.NWDAF_OVERLOAD,
                transEvents=[NwdafEvent.ABNORMAL_BEHAVIOUR],
            ),
            id="relocation",
        ),
    ],
)
def test_notification_conforms(spec: SpecValidator, notification: object) -> None:
    assert callable(notification)
    spec.validate(to_wire(notification()), EES + "NnwdafEventsSubscriptionNotification")


def test_analytics_info_query_parameters_and_response_conform(spec: SpecValidator) -> None:
    event_filter = EventFilter(snssais=[SLICE], dnns=["internet"], excepIds=[ExceptionId.SUSPICION_OF_DDOS_ATTACK])
    ana_req = EventReportingRequirement(startTs=T0 - timedelta(hours=1), endTs=T0, maxSupiNbr=10)
    spec.validate(to_wire(event_filter), AI + "EventFilter")
    spec.validate(to_wire(ana_req), EES + "EventReportingRequirement")
    spec.validate(to_wire(TargetUeInformation(supis=[SUPI])), EES + "TargetUeInformation")
    data = AnalyticsData(
        start=T0,
        expiry=T0 + timedelta(minutes=1),
        timeStampGen=T0,
        abnorBehavrs=[_abnormal_behaviour()],
        ueComms=[_ue_communication()],
        suppFeat="0",
    )
    spec.validate(to_wire(data), AI + "AnalyticsData")


def _ml_subscription() -> MLEventSubscription:
    return MLEventSubscription(
        mLEvent=NwdafEvent.ABNORMAL_BEHAVIOUR,
        mLEventFilter=EventFilter(anySlice=True, excepIds=[ExceptionId.SUSPICION_OF_DDOS_ATTACK]),
        tgtUe=TargetUeInformation(anyUe=True),
        mLTargetPeriod=TimeWindow(startTime=T0, stopTime=T0 + timedelta(days=1)),
        expiryTime=T0 + timedelta(days=7),
        mlEvRepCon=MLRepEventCondition(mlAccuracyThreshold=90, modelMetric=MLModelMetric.ACCURACY),
        nfConsumerInfo="010415",
    )


def test_ml_model_provision_subscription_and_response_conform(spec: SpecValidator) -> None:
    request = NwdafMLModelProvSubsc(
        mLEventSubscs=[_ml_subscription()],
        notifUri="http://127.0.0.1:9000/ml/notify",
        notifCorreId="anlf-1",
        eventReq=ReportingInformation(immRep=True, notifMethod=NsmfNotificationMethod.ON_EVENT_DETECTION),
    )
    spec.validate(to_wire(request), MLP + "NwdafMLModelProvSubsc")
    response = request.model_copy(
        update={
            "mLEventNotifs": [
                MLEventNotif(
                    event=NwdafEvent.ABNORMAL_BEHAVIOUR,
                    mLFileAddr=MLModelAddr(mLModelUrl="http://127.0.0.1:5000/models/bot/3"),
                )
            ],
            "failEventReports": [
                FailureEventInfoForMLModel(
                    event=NwdafEvent.UE_COMMUNICATION, failureCode=FailureCode.UNAVAILABLE_ML_MODEL
                )
            ],
        }
    )
    spec.validate(to_wire(response), MLP + "NwdafMLModelProvSubsc")


def test_ml_model_provision_notification_conforms(spec: SpecValidator) -> None:
    notif = NwdafMLModelProvNotif(
        subscriptionId="ml-1",
        eventNotifs=[
            MLEventNotif(
                event=NwdafEvent.ABNORMAL_BEHAVIOUR,
                notifCorreId="anlf-1",
                mLFileAddr=MLModelAddr(mLModelUrl="http://127.0.0.1:5000/models/bot-detector/3"),
                validityPeriod=TimeWindow(startTime=T0, stopTime=T0 + timedelta(days=30)),
                addModelInfo=[
                    AdditionalMLModelInformation(
                        mLFileAddr=MLModelAddr(mlFileFqdn="mtlf.nwdaf.example.org"),
                        modelUniqueId=4,
                        modelMetric=MLModelMetric.ACCURACY,
                        accMLModel=97,
                    )
                ],
            )
        ],
    )
    spec.validate(to_wire(notif), MLP + "NwdafMLModelProvNotif")


def test_problem_details_conforms(spec: SpecValidator) -> None:
    problem = ProblemDetails(
        title="Invalid request",
        status=400,
        detail="1 invalid attribute",
        cause="MANDATORY_IE_INCORRECT",
        instance="/nnwdaf-eventssubscription/v1/subscriptions",
        invalidParams=[
            InvalidParam(param="/eventSubscriptions/0/excepRequs", reason="required for ABNORMAL_BEHAVIOUR")
        ],
    )
    spec.validate(to_wire(problem), COMMON + "ProblemDetails")


def test_target_ue_ids_are_checked_by_the_schema(spec: SpecValidator) -> None:
    sub = _ddos_subscription().model_copy(
        update={"tgtUe": TargetUeInformation.model_construct(intGroupIds=["not-a-group-id"])}
    )
    errors = spec.errors(to_wire(NnwdafEventsSubscription(eventSubscriptions=[sub])), EES + "NnwdafEventsSubscription")
    assert [e.path for e in errors] == ["/eventSubscriptions/0/tgtUe/intGroupIds/0"]
