"""Analytics engines (AnLF): each turns per-UE window features into findings, behind one interface."""

from nwdaf.nf.engines.abnormal_behaviour import AbnormalBehaviourEngine, AbnormalBehaviourSettings, Scorer
from nwdaf.nf.engines.base import AnalyticsEngine
from nwdaf.nf.engines.ue_communication import UeCommunicationEngine

__all__ = [
    "AbnormalBehaviourEngine",
    "AbnormalBehaviourSettings",
    "AnalyticsEngine",
    "Scorer",
    "UeCommunicationEngine",
]
