"""Storage settings: the backend URLs, the sink agent and the Data Relay stream (``storage:`` in the config)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

SCHEMES = ("chdb", "clickhouse", "influxdb")


class SinkSettings(BaseModel):
    """How the sink batches bus messages into storage writes.

    Every handler returns only once its rows are written (the bus commits after that), so a crash loses nothing;
    batching comes from ``consumers`` group members whose messages are written together. A batch is written when
    it holds ``max_rows`` rows, when every member is waiting on it, or ``max_delay_s`` after its first row.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    group: str = "nwdaf-storage-sink"
    consumers: int = Field(4, ge=1, le=64)
    """Members of the consumer group in this process (at most this many messages in flight)."""
    max_rows: int = Field(5000, ge=1)
    max_delay_s: float = Field(0.2, gt=0, le=60)
    maintenance_interval_s: float = Field(3600.0, gt=0)
    """How often backends without TTL (ClickHouse < 19.6) drop expired partitions."""


class RelaySettings(BaseModel):
    """Data Relay: the analytics-results stream."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    group_prefix: str = "nwdaf-datarelay"
    client_queue: int = Field(1000, ge=1)
    """Events buffered per SSE client; a client further behind is disconnected with an ``error`` event."""
    keepalive_s: float = Field(15.0, gt=0)


class StorageSettings(BaseModel):
    """Raw time series and the warehouse, by URL, plus the sink and the relay.

    ``chdb://PATH`` (embedded, the default, both roles), ``clickhouse://host:port/db`` (native protocol),
    ``influxdb://host:port/db`` (time series only). Query parameter ``retention_days`` (default 30) sets TTL /
    the retention policy.
    """

    model_config = ConfigDict(extra="forbid")

    timeseries_url: str = "chdb://./.run/chdb"
    warehouse_url: str = "chdb://./.run/chdb"
    sink: SinkSettings = SinkSettings()
    relay: RelaySettings = RelaySettings()

    @field_validator("timeseries_url", "warehouse_url")
    @classmethod
    def _known_scheme(cls, v: str) -> str:
        if urlsplit(v).scheme not in SCHEMES:
            raise ValueError(f"must start with one of {', '.join(s + '://' for s in SCHEMES)}")
        return v

    @field_validator("warehouse_url")
    @classmethod
    def _warehouse_scheme(cls, v: str) -> str:
        if v.startswith("influxdb://"):
            raise ValueError("InfluxDB holds time series only: use chdb:// or clickhouse:// for the warehouse")
        return v
