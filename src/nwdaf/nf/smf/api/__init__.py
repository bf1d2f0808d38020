"""Routers of the SMF policy consumer."""
