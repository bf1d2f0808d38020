"""The storage sink: consumes the bus and writes time series and warehouse tables, losing nothing on a crash.

Topics and what they become:

* ``UPF_EE_NOTIFICATIONS`` (NfNotification with a TS 29.564 NotificationData body) → ``upf_usage`` points in the
  time-series backend and ``upf_usage_reports`` rows in the warehouse;
* ``FLOW_RECORDS`` (:class:`nwdaf.platform.events.FlowRecordBatch`, one window in columns) → ``flow_records``;
* ``UE_FEATURES`` (:class:`nwdaf.platform.events.UeFeatureBatch`) → ``ue_features``;
* ``SLICE_FEATURES`` (:class:`nwdaf.platform.events.SliceFeatureBatch`) → ``slice_features``;
* ``ANALYTICS_RESULTS`` (:class:`nwdaf.platform.events.AnalyticsResult`) → ``analytics_results``.

Why a handler waits for the write: the bus commits a message once its handler returned (at-least-once), so a
handler that returned before its rows were stored would lose them in a crash. Rows of the messages in flight (one
per group member) are written together; a failed write fails every waiting handler, the bus redelivers, and the
record ids (from the envelope id) make the rewrite idempotent. A message that can never be stored (not an
envelope, wrong schema) is counted as rejected and logged with its position, not retried forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl
from pydantic import ValidationError

from nwdaf.lib.storage.backends.base import StorageBackend, StorageWriter
from nwdaf.lib.storage.frames import TableFrame
from nwdaf.lib.storage.schema import RowError, table
from nwdaf.nf.storage import normalise
from nwdaf.nf.storage.config import SinkSettings
from nwdaf.platform.bus import EnvelopeError, EventBus, Message, Subscription, decode, topics
from nwdaf.platform.events import (
    ANALYTICS_RESULT,
    FLOW_RECORD_BATCH,
    NF_NOTIFICATION,
    SLICE_FEATURE_BATCH,
    UE_FEATURE_BATCH,
    AnalyticsResult,
    FlowRecordBatch,
    NfNotification,
    SliceFeatureBatch,
    UeFeatureBatch,
)
from nwdaf.platform.models.units import UnitFormatError

log = logging.getLogger("nwdaf.storage.sink")

Role = Literal["timeseries", "warehouse"]
Target = tuple[Role, str]
Decoded = tuple[str, list[tuple[Target, pl.DataFrame | list[dict[str, Any]]]]]
"""A message's envelope id and the rows it becomes, per target table: columns (the UPF usage path) or row dicts."""
_RECENT = 200_000
"""Message parts remembered as written, to count a redelivered one as rewritten (a few MB)."""
_REJECTED = (EnvelopeError, ValidationError, RowError, UnitFormatError, ValueError)
"""What decoding or checking a message raises when it can never be stored (with polars' own errors)."""
SINK_TOPICS = (topics.UPF_EE_NOTIFICATIONS, topics.FLOW_RECORDS, topics.UE_FEATURES, topics.SLICE_FEATURES,
               topics.ANALYTICS_RESULTS)


@dataclass
class SinkStats:
    """Counters of the sink (also served by the Data Relay at ``/stats``)."""

    messages: int = 0
    """Messages whose rows are stored (or that had none to store)."""
    rejected: int = 0
    ignored_items: int = 0
    flushes: int = 0
    write_failures: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    """Rows handed to a backend per table; those a backend then refused are in ``refused`` (stored = rows -
    refused)."""
    rewritten: dict[str, int] = field(default_factory=dict)
    """Rows of a message written again (a redelivery, e.g. after a rebalance moved its partition while it was being
    handled): the same record ids, stored once; not in ``rows``."""
    refused: dict[str, int] = field(default_factory=dict)
    """Rows a backend refused by design, per table: InfluxDB drops points older than its retention policy (a
    recording replayed at its original times); each is also logged by the backend and counted in ``/metrics``."""
    last_flush_s: float = 0.0


@dataclass
class _Batch:
    frames: dict[Target, list[TableFrame]] = field(default_factory=dict)
    """Per target, the checked frames of the messages in this batch (checked once, in ``rows_of``)."""
    size: int = 0
    messages: int = 0
    opened_at: float = field(default_factory=time.monotonic)
    done: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class StorageSink:
    """Bus → storage; see the module docstring for the delivery guarantees."""

    def __init__(self, bus: EventBus, timeseries: StorageWriter, warehouse: StorageWriter,
                 settings: SinkSettings | None = None, *, maintained: tuple[StorageBackend, ...] = ()) -> None:
        self._bus = bus
        self._writers: dict[Role, StorageWriter] = {"timeseries": timeseries, "warehouse": warehouse}
        self.settings = settings or SinkSettings()
        self._maintained = maintained
        self.stats = SinkStats()
        self._batch: _Batch | None = None
        self._kick = asyncio.Event()
        self._flush_lock = asyncio.Lock()
        self._written: OrderedDict[int, None] = OrderedDict()
        """First record id of each message part written lately (see :meth:`_count_written`)."""
        self._subscriptions: list[Subscription] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._decoders: dict[str, Callable[[bytes], Decoded]] = {
            topics.UPF_EE_NOTIFICATIONS: self._upf, topics.FLOW_RECORDS: self._flows,
            topics.UE_FEATURES: self._features, topics.SLICE_FEATURES: self._slice_features,
            topics.ANALYTICS_RESULTS: self._analytics,
        }

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._timer(), name="storage-sink-timer"),
                       loop.create_task(self._maintenance(), name="storage-sink-maintenance")]
        for _ in range(self.settings.consumers):
            self._subscriptions.append(await self._bus.subscribe(SINK_TOPICS, self.settings.group, self.handle))

    async def stop(self) -> None:
        # Members first: their handlers may be waiting on a batch the timer still has to write.
        for sub in self._subscriptions:
            await sub.stop()
        self._subscriptions.clear()
        await self.flush()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    # --- decoding -------------------------------------------------------------------------------------------------

    def _upf(self, raw: bytes) -> Decoded:
        env = decode(raw, NfNotification, type_=NF_NOTIFICATION)
        reports = normalise.usage_frame_of(env.payload)
        self.stats.ignored_items += normalise.ignored_items(env.payload.body)
        return env.id, [(("timeseries", "upf_usage"), normalise.usage_points(reports)),
                        (("warehouse", "upf_usage_reports"), reports)]

    def _flows(self, raw: bytes) -> Decoded:
        env = decode(raw, FlowRecordBatch, type_=FLOW_RECORD_BATCH)
        return env.id, [(("warehouse", "flow_records"), normalise.flow_rows(env.payload))]

    def _features(self, raw: bytes) -> Decoded:
        env = decode(raw, UeFeatureBatch, type_=UE_FEATURE_BATCH)
        return env.id, [(("warehouse", "ue_features"), normalise.feature_rows(env.payload))]

    def _slice_features(self, raw: bytes) -> Decoded:
        env = decode(raw, SliceFeatureBatch, type_=SLICE_FEATURE_BATCH)
        return env.id, [(("warehouse", "slice_features"), normalise.slice_feature_rows(env.payload))]

    def _analytics(self, raw: bytes) -> Decoded:
        env = decode(raw, AnalyticsResult, type_=ANALYTICS_RESULT)
        return env.id, [(("warehouse", "analytics_results"), [normalise.analytics_row(env.payload)])]

    def rows_of(self, msg: Message) -> dict[Target, TableFrame]:
        """The checked rows a message becomes, per target table, as frames with record ids from its batch id (the
        writers insert them as they are: each row is checked once); raises ``ValueError``."""
        decoder = self._decoders.get(msg.topic)
        if decoder is None:
            raise ValueError(f"the storage sink does not consume topic {msg.topic!r}")
        envelope_id, parts = decoder(msg.value)
        # The envelope id is in the message bytes, so every redelivery yields the same record ids.
        batch_id = f"{msg.topic}/{envelope_id}"
        out: dict[Target, TableFrame] = {}
        for target, rows in parts:
            # Checked now: a bad row rejects this message rather than failing a whole batch later.
            tbl = table(target[1])
            if isinstance(rows, pl.DataFrame):
                if rows.height:
                    out[target] = TableFrame.check(tbl, rows, batch_id)
            elif rows:
                out[target] = TableFrame.of_rows(tbl, rows, batch_id)
        return out

    # --- handling and batching ------------------------------------------------------------------------------------

    async def handle(self, msg: Message) -> None:
        """Bus handler: returns once the message's rows are stored (raises, for a redelivery, if they were not)."""
        try:
            rows = self.rows_of(msg)
        except (*_REJECTED, pl.exceptions.PolarsError) as exc:
            self.stats.rejected += 1
            log.error("rejected %s[%d]@%d: %s", msg.topic, msg.partition, msg.offset, str(exc)[:1000])
            return
        if rows:
            batch = self._add(rows)
            # Every member waits on this batch: no further message can join it, so write it now.
            if batch.size >= self.settings.max_rows or batch.messages >= self.settings.consumers:
                await self._write(batch)
            else:
                self._kick.set()
            await asyncio.shield(batch.done)  # one cancelled handler must not cancel the others' batch
        self.stats.messages += 1

    def _add(self, rows: dict[Target, TableFrame]) -> _Batch:
        if self._batch is None:
            self._batch = _Batch()
        batch = self._batch
        batch.messages += 1
        for target, frame in rows.items():
            batch.frames.setdefault(target, []).append(frame)
            batch.size += len(frame)
        return batch

    def _count_written(self, name: str, parts: list[TableFrame]) -> None:
        """Count a written table's rows per message: a message's first write in ``rows``, a repeat (its first
        record id seen among the last ``_RECENT`` written) in ``rewritten`` — so stored = rows - refused."""
        for part in parts:
            key = int(part.frame["record_id"][0])
            counter = self.stats.rewritten if key in self._written else self.stats.rows
            counter[name] = counter.get(name, 0) + len(part)
            self._written[key] = None
            self._written.move_to_end(key)
        while len(self._written) > _RECENT:
            self._written.popitem(last=False)

    async def _write(self, batch: _Batch) -> None:
        """Write ``batch`` (once) and settle its future; the next rows start a new batch."""
        if self._batch is batch:
            self._batch = None
        async with self._flush_lock:
            if batch.done.done():
                return
            began = time.monotonic()
            try:
                for (role, name), parts in batch.frames.items():
                    rows = TableFrame.concat(parts)
                    writer = self._writers[role]
                    refused_before = _refused(writer)
                    await writer.write(name, rows, f"flush-{id(batch)}")
                    self._count_written(name, parts)
                    if refused := _refused(writer) - refused_before:
                        self.stats.refused[name] = self.stats.refused.get(name, 0) + refused
                        log.warning("%d of %d %s rows were refused by %s (older than its retention): not stored",
                                    refused, len(rows), name, getattr(writer, "url", role))
            except Exception as exc:
                self.stats.write_failures += 1
                log.error("storage write of %d rows failed (the bus will redeliver): %s", batch.size, exc)
                batch.done.set_exception(exc)
                batch.done.exception()  # retrieved: waiting handlers re-raise it
                return
            self.stats.flushes += 1
            self.stats.last_flush_s = time.monotonic() - began
            batch.done.set_result(None)

    async def flush(self) -> None:
        """Write whatever is buffered now."""
        if self._batch is not None:
            await self._write(self._batch)

    async def _timer(self) -> None:
        while True:
            await self._kick.wait()
            self._kick.clear()
            batch = self._batch
            if batch is None:
                continue
            await asyncio.sleep(max(0.0, batch.opened_at + self.settings.max_delay_s - time.monotonic()))
            await self._write(batch)

    async def _maintenance(self) -> None:
        while True:
            await asyncio.sleep(self.settings.maintenance_interval_s)
            for backend in self._maintained:
                try:
                    await backend.maintain()
                except Exception:
                    log.exception("retention maintenance of %s failed; will retry", backend.url)


def _refused(writer: StorageWriter) -> int:
    """Rows ``writer`` has refused by design so far (backends with a retention that refuses old rows count them)."""
    return int(getattr(writer, "dropped_beyond_retention", 0))
