"""Idle UEs' items are built straight as wire objects: they must be exactly what the model would serialise to."""

from __future__ import annotations

from nwdaf.lib.dataplane.sessions import SessionTable
from nwdaf.nf.upf.reports import EventSpec, ReportContext, event_items, to_datetime, ue_fields
from nwdaf.nf.upf.usage import Level, Usage
from nwdaf.platform.models.common import to_wire
from nwdaf.platform.models.upf_ee import EventType, MeasurementType, NotificationItem


def test_idle_items_equal_the_models_wire_form() -> None:
    table = SessionTable()
    table.establish("imsi-001010000000001", 1, ue_ipv4="10.45.0.2")
    table.establish("imsi-001010000000002", 1, ue_ipv6_prefix="2001:db8:1::/64")
    start, end = 1_700_000_000_250_000_000, 1_700_000_002 * 10**9
    ctx = ReportContext(start, end, table.sessions, frozenset({0, 1}))
    for level in (Level.FLOW, Level.APPLICATION):
        event = EventSpec(EventType.USER_DATA_USAGE_MEASURES, frozenset({MeasurementType.VOLUME_MEASUREMENT}), level)
        items = list(event_items(event, Usage.empty(1), ctx, 10))
        expected = [to_wire(NotificationItem(eventType=event.type, timeStamp=to_datetime(end),
                                             startTime=to_datetime(start), **ue_fields(s)))
                    for s in table.sessions]
        assert items == expected
