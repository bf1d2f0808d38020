"""Clients of the SMF's peers: one module per peer service (Nnwdaf_EventsSubscription, the UPF's N4-like API)."""
