"""Request bodies and packet batches for the UPF API tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from nwdaf.lib.dataplane.batch import PacketBatch

NF_ID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
NOTIFY_URI = "http://consumer.test/notify"


@dataclass
class Subscriber:
    """Records the notifications POSTed to it; ``status`` is what it answers."""

    received: list[dict[str, Any]] = field(default_factory=list)
    status: int = 204

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.received.append(orjson.loads(request.content))
        return httpx.Response(self.status)


def subscription(**overrides: Any) -> dict[str, Any]:
    """A valid CreateEventSubscription body (any UE, per-session volume, every second), with overrides."""
    sub: dict[str, Any] = {
        "eventList": [{"type": "USER_DATA_USAGE_MEASURES", "measurementTypes": ["VOLUME_MEASUREMENT"],
                       "granularityOfMeasurement": "PER_SESSION"}],
        "eventNotifyUri": NOTIFY_URI,
        "notifyCorrelationId": "corr-1",
        "eventReportingMode": {"trigger": "PERIODIC", "repPeriod": 1},
        "nfId": NF_ID,
        "anyUe": True,
    }
    sub.update(overrides)
    return {"subscription": sub}


def session_body(supi: str = "imsi-001010000000001", ip: str = "10.60.0.11", pdu: int = 1) -> dict[str, Any]:
    return {"supi": supi, "pduSessionId": pdu, "ueIpv4Addr": ip, "snssai": {"sst": 1, "sd": "000001"},
            "dnn": "internet"}


def packets(ue: str, remote: str, n: int, *, t0_ns: int, step_ns: int = 10_000_000, length: int = 1000,
            dport: int = 80, uplink: bool = True) -> PacketBatch:
    """``n`` TCP packets between ``ue`` and ``remote`` (uplink: UE -> remote)."""
    src, dst = (ue, remote) if uplink else (remote, ue)
    sport, dp = (40000, dport) if uplink else (dport, 40000)
    return PacketBatch.from_lists(ts_ns=[t0_ns + i * step_ns for i in range(n)], src=[src] * n, dst=[dst] * n,
                                  sport=[sport] * n, dport=[dp] * n, proto=[6] * n, length=[length] * n)
