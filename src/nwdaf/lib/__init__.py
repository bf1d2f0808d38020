"""Shared libraries of the NFs: pure computation on arrays and records, no bus, no SBI.

``dataplane`` (packets → sessions → usage accounting), ``flows`` (flow-record importers and UPF usage → rows),
``features`` (per-UE, per-slice and graph features), ``ml`` (the model bundle and the engines' model holder),
``storage`` (time-series and warehouse backends), ``testbed`` (network namespaces for the lab). A library may import
the platform and other libraries, never an NF or the application.
"""
