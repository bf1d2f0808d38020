"""Routers of the UPF: one per service (Nupf_EventExposure, N4-like PDU sessions, OAM)."""
