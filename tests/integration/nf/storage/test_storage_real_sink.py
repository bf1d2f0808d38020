"""Sink end to end on the real servers: in-process bus → InfluxDB time series + ClickHouse warehouse → Data Relay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tests.support import storage_data as data
from tests.support.polling import wait_until
from tests.support.servers import ServerInfo

from nwdaf.lib.storage.backends import RecordQuery
from nwdaf.nf.storage.api.data_relay import API_ROOT
from nwdaf.nf.storage.config import SinkSettings, StorageSettings
from nwdaf.nf.storage.service import StorageService, create_storage_service, open_storage
from nwdaf.platform.bus import InMemoryBus, topics
from nwdaf.platform.sbi import create_sbi_app

pytestmark = pytest.mark.integration


@pytest.fixture
async def bus() -> AsyncIterator[InMemoryBus]:
    instance = InMemoryBus(partitions=4)
    await instance.start()
    yield instance
    await instance.close()


@pytest.fixture
async def service(bus: InMemoryBus, clickhouse_server: ServerInfo, influxdb_server: ServerInfo,
                  test_database: str) -> AsyncIterator[StorageService]:
    settings = StorageSettings(timeseries_url=influxdb_server.url_for(test_database),
                               warehouse_url=clickhouse_server.url_for(test_database),
                               sink=SinkSettings(consumers=2, max_delay_s=0.05))
    svc = create_storage_service(bus, open_storage(settings), settings, instance_id="it")
    await svc.start()
    try:
        yield svc
    finally:
        await svc.stop()
        for backend in svc.storage.backends():
            await backend.start()
            await backend.drop_database()  # type: ignore[attr-defined]
            await backend.close()


async def test_bus_to_real_storage_and_back_through_the_relay(bus: InMemoryBus, service: StorageService) -> None:
    at = data.now_utc()
    messages = [
        (topics.UPF_EE_NOTIFICATIONS, data.upf_message(at)),
        (topics.FLOW_RECORDS, data.flow_records_message(at, 4)),
        (topics.UE_FEATURES, data.ue_features_message(at)),
        (topics.ANALYTICS_RESULTS, data.analytics_message(at)),
    ]
    for topic, raw in messages * 2:  # every message twice: the second copy is a redelivery (same envelope id)
        await bus.publish(topic, raw, key=data.SUPI.encode())

    async def stored() -> bool:
        return service.sink.stats.messages == 8 and bus.stats.delivered >= 8
    await wait_until(stored, interval_s=0.05, message="8 messages stored and committed")

    query = RecordQuery(supi=data.SUPI, limit=1000)
    points = await service.storage.timeseries.query("upf_usage", query)
    assert sorted(p["granularity"] for p in points) == ["PER_APPLICATION", "PER_FLOW"]
    assert {p["ul_bytes"] for p in points} == {1000, None}
    warehouse = service.storage.warehouse
    assert len(await warehouse.query("upf_usage_reports", query)) == 2
    assert len(await warehouse.query("flow_records", query)) == 4
    assert len(await warehouse.query("ue_features", query)) == 1

    app = create_sbi_app("nwdaf", service.routers())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://nwdaf") as client:
        resp = await client.get(f"{API_ROOT}/analytics-results", params={"supi": data.SUPI,
                                                                           "snssai": data.SNSSAI_KEY})
        body: dict[str, Any] = resp.json()
        stats = (await client.get(f"{API_ROOT}/stats")).json()
    assert resp.status_code == 200
    assert body["count"] == 1
    assert body["items"][0]["exception_id"] == "SUSPICION_OF_DDOS_ATTACK"
    assert stats["sink"]["rejected"] == 0
    # The flow records message was published twice: written twice, stored once, counted once as written.
    assert stats["sink"]["rows"]["flow_records"] == 4
    assert stats["sink"]["rewritten"]["flow_records"] == 4
