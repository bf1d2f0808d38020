"""Every topic name the services use, in one place (see docs/architecture.md for producers and consumers)."""

from __future__ import annotations

from typing import Final

UPF_EE_NOTIFICATIONS: Final = "nwdaf.upf.ee-notifications"
"""Raw Nupf_EventExposure NotificationData, keyed by UE (SUPI or IP)."""

SMF_EE_NOTIFICATIONS: Final = "nwdaf.smf.ee-notifications"
AMF_EE_NOTIFICATIONS: Final = "nwdaf.amf.ee-notifications"
NF_NOTIFICATIONS: Final = "nwdaf.receiver.nf-notifications"
"""Anything the Data Receiver accepted from another NF that has no dedicated topic."""

FLOW_RECORDS: Final = "nwdaf.processor.flow-records"
UE_FEATURES: Final = "nwdaf.processor.ue-features"
SLICE_FEATURES: Final = "nwdaf.processor.slice-features"
"""Per-slice (S-NSSAI), per-DNN and per slice + DNN features of each window (``SliceFeatureBatch``)."""
ANALYTICS_RESULTS: Final = "nwdaf.anlf.analytics-results"
"""Inference results of the analytics engines (ABNORMAL_BEHAVIOUR, UE_COMMUNICATION ...), keyed by SUPI."""

ALL_TOPICS: Final = (
    UPF_EE_NOTIFICATIONS,
    SMF_EE_NOTIFICATIONS,
    AMF_EE_NOTIFICATIONS,
    NF_NOTIFICATIONS,
    FLOW_RECORDS,
    UE_FEATURES,
    SLICE_FEATURES,
    ANALYTICS_RESULTS,
)
