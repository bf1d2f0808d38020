"""UE_COMMUNICATION (TS 23.288 clause 6.7.6): each UE's communication pattern per window.

The applications a UE used (``trafChar.appId``) come from the feature frame's ``app_ids`` column (application
ids as the UPF's application detection names them, most-used first) when the processor sends it; a frame without
it gives results without applications. The S-NSSAI and DNN of the UE's PDU session (``trafChar.snssai``/``dnn``)
come from the row's ``snssai``/``dnn``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import polars as pl

from nwdaf.nf.engines.base import pdu_session
from nwdaf.platform.events import AnalyticsResult, UeCommunicationResult, UeFeatureBatch


@dataclass
class UeCommunicationEngine:
    """Volumes, duration and peers of each active UE (statistics, no model)."""

    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    event: str = "UE_COMMUNICATION"

    def evaluate(self, batch: UeFeatureBatch) -> list[AnalyticsResult]:
        if batch.rows == 0:
            return []
        start = datetime.fromtimestamp(batch.window_start, UTC)
        end = datetime.fromtimestamp(batch.window_end, UTC)
        now = self.clock()
        out: list[AnalyticsResult] = []
        for row in pl.DataFrame(batch.columns).iter_rows(named=True):
            comm = UeCommunicationResult(
                comm_dur_s=round(batch.window_end - batch.window_start),
                ul_volume_bytes=int(row.get("bytes_out") or 0), dl_volume_bytes=int(row.get("bytes_in") or 0),
                peers=int(row.get("distinct_dst") or 0), app_ids=app_ids(row),
            )
            out.append(AnalyticsResult(event=self.event, supi=row["supi"], ue_ip=row.get("host"), **pdu_session(row),
                                       window_start=start, window_end=end, generated_at=now, ue_comm=comm))
        return out


def app_ids(row: dict[str, Any]) -> list[str]:
    """The row's applications (``app_ids``), unknown ones (null, empty, Zeek's ``-``) and repeats left out."""
    out: list[str] = []
    for app in row.get("app_ids") or []:
        name = str(app).strip() if app is not None else ""
        if name and name != "-" and name not in out:
            out.append(name)
    return out
