"""Storage backends chosen by URL (``chdb://``, ``clickhouse://``, ``influxdb://``) and the table schema they share:
written by the storage NF's sink, read by its Data Relay and by the MTLF's training from the warehouse."""
