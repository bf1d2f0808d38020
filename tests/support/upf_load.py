"""A UPF's per-flow usage reports at scale, built by the UPF's own report builder (tests and benchmarks).

:class:`UpfLoad` is a population of UEs with a fixed set of flows each; every flow reports in every period with
varying volumes. :meth:`UpfLoad.notifications` returns the TS 29.564 ``NotificationData`` wire bodies the UPF's
reporting tick would send for a PER_FLOW ``USER_DATA_USAGE_MEASURES`` subscription (volume and throughput), packed
as :func:`nwdaf.nf.upf.reports.pack` packs them — without running packets through the data plane.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from nwdaf.lib.dataplane.batch import ip_to_pair
from nwdaf.lib.dataplane.sessions import SessionTable
from nwdaf.nf.upf.reports import EventSpec, ReportContext, event_items, pack
from nwdaf.nf.upf.usage import Level, Usage
from nwdaf.platform.models.upf_ee import EventType, MeasurementType

FLOW_USAGE: Final = EventSpec(
    EventType.USER_DATA_USAGE_MEASURES,
    frozenset({MeasurementType.VOLUME_MEASUREMENT, MeasurementType.THROUGHPUT_MEASUREMENT}),
    Level.FLOW,
)
_DN_PORTS: Final = (443, 80, 53, 8080)


@dataclass(frozen=True)
class UpfLoad:
    """``ues`` UEs (10.45.x.y) with ``flows_per_ue`` TCP/UDP flows each to DN servers."""

    sessions: SessionTable
    keys: NDArray[np.uint64]
    session: NDArray[np.int32]

    @classmethod
    def build(cls, ues: int, flows_per_ue: int, seed: int = 7) -> UpfLoad:
        table = SessionTable()
        for i in range(ues):
            table.establish(f"imsi-00101{i:010d}", 1, ue_ipv4=f"10.45.{i // 250}.{i % 250 + 1}")
        rng = np.random.default_rng(seed)
        sess = np.repeat(np.arange(ues, dtype=np.uint64), flows_per_ue)
        n = len(sess)
        proto = np.where(rng.random(n) < 0.7, 6, 17).astype(np.uint64)
        ue_port = rng.integers(32768, 61000, n).astype(np.uint64)
        dn_port = rng.choice(_DN_PORTS, n).astype(np.uint64)
        # Flow key layout of nwdaf.nf.upf.usage.Usage: session<<40 | proto<<32 | ue_port<<16 | remote_port, addresses.
        meta = (sess << np.uint64(40)) | (proto << np.uint64(32)) | (ue_port << np.uint64(16)) | dn_port
        ue_addr = np.array([ip_to_pair(str(s.ue_ipv4)) for s in table.sessions], np.uint64)[sess.astype(np.int64)]
        dn_addr = np.array([ip_to_pair(f"93.184.{j % 200}.{j % 250 + 1}") for j in range(n)], np.uint64)
        keys = np.column_stack([meta, ue_addr, dn_addr, np.zeros(n, np.uint64)]).astype(np.uint64)
        return cls(table, keys, sess.astype(np.int32))

    @property
    def flows(self) -> int:
        return len(self.session)

    def usage(self, rng: np.random.Generator) -> Usage:
        """One period's usage of every flow (1-200 packets up, 1-400 down)."""
        n = self.flows
        ul = rng.integers(1, 200, n).astype(np.float64)
        dl = rng.integers(1, 400, n).astype(np.float64)
        zero = np.zeros(n, np.float64)
        return Usage(self.keys, self.session, ul * 120, dl * 900, ul, dl, np.ones(n, np.float64), zero, zero, zero,
                     zero)

    def notifications(self, periods: int, first_end_s: int, per_notification: int, period_s: int = 1,
                      correlation_id: str = "upf-load") -> list[dict[str, Any]]:
        """Wire bodies of ``periods`` reports, the first one's period ending at ``first_end_s`` (epoch seconds);
        at most ``per_notification`` measurements in one body (the UPF's ``max_items_per_notification``)."""
        rng = np.random.default_rng(first_end_s)
        active = frozenset(range(len(self.sessions.sessions)))
        bodies: list[dict[str, Any]] = []
        for p in range(periods):
            end_ns = (first_end_s + p * period_s) * 10**9
            ctx = ReportContext(end_ns - period_s * 10**9, end_ns, self.sessions.sessions, active)
            items = event_items(FLOW_USAGE, self.usage(rng), ctx, per_notification)
            bodies += pack(items, correlation_id, per_notification)
        return bodies


def measurement_count(bodies: list[dict[str, Any]]) -> int:
    """Usage measurements (``userDataUsageMeasurements`` entries) in NotificationData bodies."""
    return sum(len(item.get("userDataUsageMeasurements") or ()) for body in bodies
               for item in body.get("notificationItems", ()))
