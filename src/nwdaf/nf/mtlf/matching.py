"""Which registered champion serves an ML model subscription event (TS 29.520 ``MLEventSubscription``).

A model version matches an event when its ``nwdafEvent`` tag equals ``mLEvent`` and it fits the ``mLEventFilter``:
``excepIds`` (the model detects at least one of them), ``snssais``/``dnns`` (only if the model is tagged as
slice/DNN specific; untagged models serve any slice and DNN), and ``mlEvRepCon.mlAccuracyThreshold`` (model
accuracy in percent at least the threshold). Target UEs do not restrict the choice: these models score any UE.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from nwdaf.nf.mtlf.registry import ModelVersionInfo
from nwdaf.platform.models.common import snssai_key
from nwdaf.platform.models.ml_provision import MLEventSubscription


def expired(event: MLEventSubscription, now: datetime | None = None) -> bool:
    return event.expiryTime is not None and event.expiryTime <= (now or datetime.now(UTC))


def matches(event: MLEventSubscription, model: ModelVersionInfo) -> bool:
    if model.tags.get("nwdafEvent") != event.mLEvent.value:
        return False
    flt = event.mLEventFilter
    if flt.excepIds and not {e.value for e in flt.excepIds} & set(model.exception_ids):
        return False
    if flt.dnns and not _fits(model, "dnns", flt.dnns):
        return False
    if flt.snssais and not _fits(model, "snssais", (s.to_key() for s in flt.snssais), key=snssai_key):
        return False
    threshold = event.mlEvRepCon.mlAccuracyThreshold if event.mlEvRepCon else None
    return threshold is None or accuracy(model) >= threshold


def accuracy(model: ModelVersionInfo) -> int:
    try:
        return int(model.tags.get("accuracy", "0"))
    except ValueError:
        return 0


def best_match(event: MLEventSubscription, champions: Iterable[ModelVersionInfo]) -> list[ModelVersionInfo]:
    """Matching champions, most accurate first (ties: the newest version)."""
    found = [m for m in champions if matches(event, m)]
    return sorted(found, key=lambda m: (accuracy(m), m.created), reverse=True)


def _fits(model: ModelVersionInfo, tag: str, wanted: Iterable[str],
          key: Callable[[str], str | None] = str) -> bool:
    raw = model.tags.get(tag)
    if not raw:
        return True
    try:
        scope = {key(str(v)) for v in json.loads(raw)}
    except ValueError:
        return False
    return bool(scope & set(wanted))
