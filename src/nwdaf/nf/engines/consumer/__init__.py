"""Clients of the engines' peers: one module per peer service (Nnwdaf_MLModelProvision at the MTLF)."""
