"""Settings of the storage sink and the Data Relay (the backend URLs are ``nwdaf.config.StorageSettings``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


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


class StorageServiceSettings(BaseModel):
    """Everything the storage service needs besides the backend URLs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sink: SinkSettings = SinkSettings()
    relay: RelaySettings = RelaySettings()
