"""Routers of the analytics engines: the callback the MTLF notifies provisioned models to."""
