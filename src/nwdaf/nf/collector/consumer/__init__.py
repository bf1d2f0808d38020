"""Clients of the collector, one per peer NF service."""
