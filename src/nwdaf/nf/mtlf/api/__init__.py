"""Routers of the MTLF: Nnwdaf_MLModelProvision (3GPP) and the ML admin API (not 3GPP)."""
