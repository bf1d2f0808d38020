"""The reporting tick: close the data plane's accounting period, merge it into every subscription's window and
send the reports that are due.

Reports are built in a worker thread from a window that has been swapped out, so neither the packet pump nor
the SBI waits for them, and handed to the notifier without waiting for delivery.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from nwdaf.nf.upf.reports import ReportContext, event_items, pack
from nwdaf.nf.upf.state import ReportingSubscription, UpfContext, targets
from nwdaf.nf.upf.usage import Window

log = logging.getLogger("nwdaf.upf.reporting")


def build_notifications(sub: ReportingSubscription, window: Window, ctx: UpfContext) -> list[dict[str, object]]:
    """The wire bodies of one report of ``sub`` over ``window`` (empty when nothing is to be reported)."""
    if window.start_ns is None or window.end_ns is None:
        return []
    sessions = list(ctx.sessions.sessions)
    mask = targets(sub.request, sessions)
    active = frozenset(s.index for s in sessions if mask[s.index] and s.active) if ctx.config.report_idle_ues \
        else frozenset()
    rctx = ReportContext(window.start_ns, window.end_ns, sessions, active, ctx.app_info)
    limit = ctx.config.max_items_per_notification
    items = [item for event in sub.events for item in event_items(event, window.usage[event.level], rctx, limit)]
    return pack(items, sub.correlation_id, limit)


async def _report(ctx: UpfContext, sub: ReportingSubscription, window: Window) -> None:
    bodies = await asyncio.to_thread(build_notifications, sub, window, ctx)
    current = ctx.subscriptions.get(sub.subscription_id)
    channel = ctx.notifier.channels.get(sub.subscription_id)
    if current is None or channel is None:
        ctx.pump.reports_discarded += 1  # unsubscribed while the report was being built
        return
    if current.muted:
        current.muted_reports += 1
        return
    for body in bodies:
        channel.offer(body)
    current.notifications += len(bodies)


def _end(ctx: UpfContext, sub: ReportingSubscription, why: str) -> None:
    if ctx.subscriptions.get(sub.subscription_id) is not sub:
        return
    del ctx.subscriptions[sub.subscription_id]
    # The last report (ONE_TIME, maxReports) still goes out: the channel closes once drained, in the background.
    task = asyncio.get_running_loop().create_task(
        ctx.notifier.close(sub.subscription_id, drain_timeout_s=ctx.config.notify_backoff_max_s * 3))
    ctx.closing.add(task)
    task.add_done_callback(ctx.closing.discard)
    log.info("subscription ended: %s", why, extra={"subscription_id": sub.subscription_id})


async def reporting_tick(ctx: UpfContext) -> bool:
    """One tick; False when the data clock has not started (a file source before its first packet)."""
    now_ns = ctx.clock.now_ns()
    if now_ns is None:
        return False
    start = ctx.accounting.period_start_ns
    snapshot = ctx.accounting.snapshot_and_reset_period(max(now_ns, start if start is not None else now_ns))
    ctx.pump.ticks += 1
    sessions = ctx.sessions.sessions
    now = datetime.now(UTC)
    for sub in list(ctx.subscriptions.values()):
        if sub.expiry is not None and sub.expiry <= now:
            _end(ctx, sub, "expiry reached")
            continue
        sub.window.add(snapshot, targets(sub.request, sessions))
        if not sub.due():
            continue
        window, sub.window = sub.window, Window.open(sub.window.end_ns, set(sub.window.usage))
        sub.reports += 1
        await _report(ctx, sub, window)
        if sub.exhausted():
            _end(ctx, sub, "report limit reached" if sub.period_s else "one-time report sent")
    return True


async def reporting_loop(ctx: UpfContext, stop: asyncio.Event) -> None:
    """Tick every ``report_tick_s`` of data time (wall time / replay speed) until ``stop``; a failing tick is
    logged and the loop goes on."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), ctx.clock.tick_s(ctx.config.report_tick_s))
            return
        except TimeoutError:
            pass
        try:
            await reporting_tick(ctx)
        except Exception:
            log.exception("reporting tick failed")
