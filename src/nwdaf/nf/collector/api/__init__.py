"""Routers of the collector: one per service."""
