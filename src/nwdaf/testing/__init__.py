"""Test support importable by tests and benchmarks: real servers started by the project's scripts, pytest hooks."""

from nwdaf.testing.kafka import KafkaBroker, KafkaServer, KafkaServerError, broker_from_env

__all__ = ["KafkaBroker", "KafkaServer", "KafkaServerError", "broker_from_env"]
