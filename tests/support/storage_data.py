"""Bus messages the storage sink consumes, built as their producers build them (tests and benchmarks).

Each builder returns the encoded envelope bytes and the payload's UE key, ready for ``bus.publish``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from nwdaf.platform.bus import encode
from nwdaf.platform.events import (
    ANALYTICS_RESULT,
    FLOW_RECORD_BATCH,
    NF_NOTIFICATION,
    UE_FEATURE_BATCH,
    AbnormalBehaviourResult,
    AnalyticsResult,
    FlowRecordBatch,
    NfNotification,
    UeFeatureBatch,
)

SUPI = "imsi-001010000000001"
UE_IP = "10.45.0.2"
SNSSAI = {"sst": 1, "sd": "00000A"}
SNSSAI_KEY = "1-00000a"


def iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


def notification_data(at: datetime, *, supi: str = SUPI, ue_ip: str = UE_IP, ul_bytes: int = 1000) -> dict[str, Any]:
    """A TS 29.564 NotificationData with one per-application and one per-flow usage report, and a QoS item."""
    return {
        "correlationId": "corr-1",
        "notificationItems": [
            {
                "eventType": "USER_DATA_USAGE_MEASURES", "ueIpv4Addr": ue_ip, "supi": supi, "dnn": "internet",
                "snssai": SNSSAI, "timeStamp": iso(at), "startTime": iso(at - timedelta(seconds=10)),
                "userDataUsageMeasurements": [
                    {"appId": "web", "volumeMeasurement": {"ulVolume": f"{ul_bytes} B", "dlVolume": "2.5 kB",
                                                           "ulNbOfPackets": 10, "dlNbOfPackets": 20},
                     "throughputMeasurement": {"ulThroughput": "800 bps", "dlThroughput": "2 Kbps"}},
                    {"flowInfo": {"flowDescription": f"permit out 17 from 8.8.8.8 53 to {ue_ip} 40000",
                                  "flowDirection": "BIDIRECTIONAL"},
                     "volumeMeasurement": {"totalVolume": "1.5 MB", "totalNbOfPackets": 1200}},
                ],
            },
            {"eventType": "QOS_MONITORING", "ueIpv4Addr": ue_ip, "timeStamp": iso(at),
             "qosMonitoringMeasurement": {"dlPacketDelay": 5}},
        ],
    }


def upf_message(at: datetime, **kwargs: Any) -> bytes:
    body = notification_data(at, **kwargs)
    note = NfNotification(source="upf-ee", received_at=at, ue_key=body["notificationItems"][0]["supi"], body=body)
    return encode(note, type_=NF_NOTIFICATION, source="collector")


def columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Row dicts in the processor's columnar wire form."""
    return {name: [row.get(name) for row in rows] for name in rows[0]}


def flow_record_batch(at: datetime, n: int = 3, *, supi: str = SUPI) -> FlowRecordBatch:
    """One window of flow records as the processor publishes them (FLOW_SCHEMA without labels + supi/snssai/dnn)."""
    start = at.timestamp()
    rows = [
        {"start_ts": start, "duration_s": 1.5, "proto": "tcp", "proto_num": 6, "src_ip": UE_IP, "src_port": 40000 + i,
         "dst_ip": "93.184.216.34", "dst_port": 443, "state": None, "service": None, "pkts_fwd": 5, "pkts_bwd": 4,
         "pkts_total": 9, "bytes_fwd": 500, "bytes_bwd": 4000, "bytes_total": 4500, "source": "upf", "supi": supi,
         "snssai": "1-00000A", "dnn": "internet"}
        for i in range(n)
    ]
    return FlowRecordBatch(window_start=start, window_end=start + 60, columns=columns(rows))


def flow_records_message(at: datetime, n: int = 3, *, supi: str = SUPI) -> bytes:
    return encode(flow_record_batch(at, n, supi=supi), type_=FLOW_RECORD_BATCH, source="processor")


def ue_feature_batch(at: datetime, *, supi: str = SUPI) -> UeFeatureBatch:
    """Per-UE features of one window as the processor publishes them (numeric columns plus evidence lists)."""
    start = at.timestamp()
    rows = [{"window_start": start, "host": UE_IP, "flows": 12, "distinct_dst": 3.0, "syn_ratio": float("nan"),
             "supi": supi, "top_destinations": ["93.184.216.34", "8.8.8.8"]}]
    return UeFeatureBatch(window_start=start, window_end=start + 60, columns=columns(rows))


def ue_features_message(at: datetime, *, supi: str = SUPI) -> bytes:
    return encode(ue_feature_batch(at, supi=supi), type_=UE_FEATURE_BATCH, source="processor")


def analytics_result(at: datetime, *, supi: str = SUPI, event: str = "ABNORMAL_BEHAVIOUR") -> AnalyticsResult:
    return AnalyticsResult(
        event=event, supi=supi, ue_ip=UE_IP, snssai=SNSSAI, dnn="internet",
        window_start=at - timedelta(seconds=60), window_end=at, generated_at=at, model_version="3",
        abnormal=AbnormalBehaviourResult(excep_id="SUSPICION_OF_DDOS_ATTACK", score=0.97, confidence=88, ratio=40,
                                         addt_meas={"ddosAttack": {"ipv4Addrs": ["198.51.100.7"]}}),
    )


def analytics_message(at: datetime, **kwargs: Any) -> bytes:
    return encode(analytics_result(at, **kwargs), type_=ANALYTICS_RESULT, source="anlf")


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
