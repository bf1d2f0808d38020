"""Routers of the storage service: the Data Relay."""
