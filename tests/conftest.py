"""Shared pytest setup: the project's test-support plugin (real-server fixtures such as ``kafka_broker``)."""

pytest_plugins = ["tests.support.pytest_plugin"]
