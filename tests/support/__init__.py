"""Test support importable by tests and benchmarks: real servers started by the project's scripts, pytest hooks."""

from tests.support.kafka import KafkaBroker, KafkaServer, KafkaServerError, broker_from_env

__all__ = ["KafkaBroker", "KafkaServer", "KafkaServerError", "broker_from_env"]
