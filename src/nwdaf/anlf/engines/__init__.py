"""Analytics engines (AnLF): each turns per-UE window features into findings, behind one interface."""

from nwdaf.anlf.engines.abnormal_behaviour import AbnormalBehaviourEngine, AbnormalBehaviourSettings, Scorer
from nwdaf.anlf.engines.base import AnalyticsEngine
from nwdaf.anlf.engines.ue_communication import UeCommunicationEngine

__all__ = [
    "AbnormalBehaviourEngine",
    "AbnormalBehaviourSettings",
    "AnalyticsEngine",
    "Scorer",
    "UeCommunicationEngine",
]
