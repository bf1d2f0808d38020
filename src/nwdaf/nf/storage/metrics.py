"""Prometheus view of the storage sink (``/metrics`` of the NWDAF app, bridged in by the Data Relay router's
lifespan): rows stored per table and rows a backend refused by design (InfluxDB points older than its retention
policy), so "rows written" and "rows stored" can be compared without a query."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from nwdaf.nf.storage.sink import SinkStats


class SinkCollector(Collector):
    """Read at scrape time from :class:`SinkStats` (nothing to update on the write path)."""

    def __init__(self, stats: SinkStats) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        stats = self.stats
        written = CounterMetricFamily("nwdaf_storage_rows_written", "Rows handed to a backend and accepted, per "
                                      "table", labels=["table"])
        for name, rows in sorted(stats.rows.items()):
            written.add_metric([name], rows)
        yield written
        rewritten = CounterMetricFamily("nwdaf_storage_rows_rewritten", "Rows of redelivered messages written again "
                                        "(same record ids, stored once), per table", labels=["table"])
        for name, rows in sorted(stats.rewritten.items()):
            rewritten.add_metric([name], rows)
        yield rewritten
        refused = CounterMetricFamily("nwdaf_storage_rows_refused", "Rows a backend refused by design (older than "
                                      "its retention), per table and reason", labels=["table", "reason"])
        for name, rows in sorted(stats.refused.items()):
            refused.add_metric([name, "beyond_retention"], rows)
        yield refused
        yield CounterMetricFamily("nwdaf_storage_messages_rejected", "Bus messages that can never be stored",
                                  value=stats.rejected)
        yield CounterMetricFamily("nwdaf_storage_write_failures", "Failed batch writes (redelivered by the bus)",
                                  value=stats.write_failures)
