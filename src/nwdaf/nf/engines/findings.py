"""A rule's or the model's finding on one UE in one window, before it becomes an ``AnalyticsResult``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


def rule_confidence(value: float, threshold: float) -> int:
    """How far past its threshold a measurement is: exactly at it = 50, twice it or more = 99."""
    return int(np.clip(50 + 49 * (value / threshold - 1), 50, 99))


@dataclass(frozen=True, slots=True)
class Finding:
    excep_id: str
    score: float
    confidence: int
    from_model: bool = False
    """Raised by the provisioned model (its result names the model's version), not by a rule."""
    circums: dict[str, Any] | None = None
    """The ``CircumstanceDescription`` of a TOO_FREQUENT_SERVICE_ACCESS finding."""
