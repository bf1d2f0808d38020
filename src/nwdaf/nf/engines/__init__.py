"""Analytics engines (AnLF): each turns per-UE window features into findings, behind one interface."""

from nwdaf.nf.engines.abnormal_behaviour import AbnormalBehaviourEngine, Scorer
from nwdaf.nf.engines.base import AnalyticsEngine
from nwdaf.nf.engines.config import AbnormalBehaviourSettings
from nwdaf.nf.engines.ue_communication import UeCommunicationEngine

__all__ = [
    "AbnormalBehaviourEngine",
    "AbnormalBehaviourSettings",
    "AnalyticsEngine",
    "Scorer",
    "UeCommunicationEngine",
]
