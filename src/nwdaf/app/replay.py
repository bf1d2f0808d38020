"""``nwdaf replay``: the whole service stack on a recording, the way a closed loop is evaluated on public captures.

One process runs every NF on embedded defaults (in-process bus, chdb in a temporary directory): the UPF reads the
recording (a pcap, or a flow dataset replayed as the packets its records stand for) with ``learn_sessions``, so
every flow initiator becomes a UE; the collector subscribes to Nupf_EventExposure, the processor builds windows,
the engines score them, the SMF subscribes to Nnwdaf_EventsSubscription (ABNORMAL_BEHAVIOUR) and releases the PDU
sessions of the UEs it is told about. Labels in the input never reach the data plane; where present they are set
against the outcome per host at the end (:mod:`nwdaf.app.replay_report`).

Time: the recording is rebased onto the wall clock (``upf.replay_time``) and paced at ``speed`` x, and every stage
keeps event time, so a UPF ``repPeriod`` and a processor window are data seconds at any speed (the UPF ticks
``speed`` times as often). The limit on speed is throughput: the stack must build, score and store
``speed / period_s`` reports per wall second. The run ends when the recording has been read and the last windows
have been scored and judged (drain: the data clock passes the last packet by a window and three periods, then
no window, finding or release is new for a second; the sink is stopped before its counts are read).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nwdaf.app.config import Settings, load_settings
from nwdaf.app.replay_report import HostTracker, build_report
from nwdaf.app.runtime import Runtime, start_runtime
from nwdaf.lib.storage.schema import TABLES
from nwdaf.nf.upf.config import FORMATS
from nwdaf.platform.bus import EnvelopeError, Message, decode, topics
from nwdaf.platform.events import AnalyticsResult, NfNotification
from nwdaf.platform.models import ExceptionId

Say = Callable[[str], None]
INPUT_FORMATS = ("pcap", *FORMATS)
DEFAULT_SPEED = 10.0
"""Ten recorded seconds per wall second: with the default 2 s report period the stack handles five reports per
wall second, which one core keeps up with for populations of a few hundred hosts (raise it for small captures)."""
DRAIN_QUIET_S = 1.0
DRAIN_MAX_S = 60.0


class ReplayError(RuntimeError):
    """The recording could not be replayed (unreadable input, the UPF's source failed)."""


@dataclass(frozen=True)
class ReplayOptions:
    """What to replay and how; ``period_s``/``window_s`` None take the configuration's (collector, processor)."""

    input: str
    speed: float = DEFAULT_SPEED
    period_s: int | None = None
    window_s: float | None = None
    model: str | None = None
    """MLflow tracking URI of a registry whose champion the MTLF serves to the engines; None: rules only."""
    exception_ids: tuple[str, ...] = tuple(e.value for e in ExceptionId)
    """ExceptionIds the SMF subscribes to and acts on."""
    progress_s: float = 1.0


def source_string(input_spec: str, speed: float) -> str:
    """The UPF source (``pcap:PATH:SPEED`` / ``dataset:FORMAT:PATH:SPEED``) of ``FORMAT:PATH``; ``ValueError``."""
    fmt, sep, path = input_spec.partition(":")
    if not sep or not path or fmt not in INPUT_FORMATS:
        raise ValueError(f"--input must be FORMAT:PATH with FORMAT one of {', '.join(INPUT_FORMATS)} "
                         f"(got {input_spec!r})")
    if speed <= 0:
        raise ValueError(f"--speed must be > 0, got {speed}")
    return f"pcap:{path}:{speed:g}" if fmt == "pcap" else f"dataset:{fmt}:{path}:{speed:g}"


def replay_settings(base: Settings, opts: ReplayOptions, run_dir: Path) -> Settings:
    """Embedded defaults in ``run_dir``, free ports, the recording as the UPF's source, an SMF that acts on
    ``opts.exception_ids`` without a rate limit that would throttle a fast replay."""
    period = opts.period_s or (base.collector.upf_ee[0].rep_period_s if base.collector.upf_ee else 2)
    window = opts.window_s or base.processor.window_s
    registry = opts.model or f"sqlite:///{(run_dir / 'registry' / 'mlflow.db').resolve()}"
    (run_dir / "registry").mkdir(parents=True, exist_ok=True)
    overrides: dict[str, Any] = {
        "data_dir": str(run_dir),
        "nwdaf_sbi": {"port": 0}, "upf_sbi": {"port": 0}, "smf_sbi": {"port": 0},
        "bus": {"url": "memory://"},
        "storage": {"timeseries_url": f"chdb://{run_dir}/chdb", "warehouse_url": f"chdb://{run_dir}/chdb"},
        "ml": {"tracking_uri": registry, "artifact_root": str((run_dir / "registry" / "artifacts").resolve())},
        "upf": {**base.upf.model_dump(mode="json", exclude_unset=True), "source": source_string(opts.input, opts.speed),
                "learn_sessions": True, "report_idle_ues": False},
        "collector": {"upf_ee": [{"rep_period_s": period}]},
        "processor": {**base.processor.model_dump(mode="json", exclude_unset=True), "window_s": window},
        "smf": {**base.smf.model_dump(mode="json", exclude_unset=True), "exception_ids": list(opts.exception_ids),
                "max_releases_per_minute": 100_000, "audit_file": ""},
        "anlf": {**base.anlf.model_dump(mode="json", exclude_unset=True), "store_file": ":memory:"},
    }
    return load_settings(None, **{**base.model_dump(mode="json", exclude_unset=True), **overrides})


def _service(rt: Runtime, name: str) -> Any:
    return next(s for s in rt.services if s.name == name)


@dataclass
class _Watch:
    """The run's view of the stack: the tracker fed from the bus, progress counters, the drain state."""

    rt: Runtime
    tracker: HostTracker
    window_s: float
    period_s: float
    done_at_ns: int | None = None
    quiet_since: float | None = None
    last_counts: tuple[int, ...] = ()
    started: float = field(default_factory=time.monotonic)

    @property
    def upf(self) -> Any:
        return _service(self.rt, "upf")

    async def on_report(self, msg: Message) -> None:
        try:
            note = decode(msg.value, NfNotification).payload
        except EnvelopeError:
            return
        self.tracker.on_usage_items(note.body.get("notificationItems", []))

    async def on_result(self, msg: Message) -> None:
        try:
            self.tracker.on_result(decode(msg.value, AnalyticsResult).payload)
        except EnvelopeError:
            return

    def released(self) -> int:
        return sum(1 for s in self.upf.ctx.sessions.sessions if not s.active)

    def status(self) -> str:
        ctx = self.upf.ctx
        now = ctx.clock.now_ns()
        at = "-" if now is None else time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ctx.clock.recording_ns(now) / 1e9))
        return (f"[{time.monotonic() - self.started:6.1f}s] recording {at}Z | UPF {ctx.pump.packets:,} packets, "
                f"{len(ctx.sessions.sessions)} UEs | NWDAF {self.tracker.reports} reports, "
                f"{_service(self.rt, 'engines').windows} windows, {self.tracker.findings} findings | "
                f"SMF {self.released()} released")

    def finished(self) -> bool:
        """Whether the recording is read and the last windows judged (module docstring)."""
        ctx = self.upf.ctx
        if ctx.pump.source_error is not None:
            raise ReplayError(f"the UPF's source failed: {ctx.pump.source_error}")
        if not ctx.pump.source_done:
            return False
        now = ctx.clock.now_ns() or 0
        if self.done_at_ns is None:
            self.done_at_ns = now
        if now < self.done_at_ns + int((self.window_s + 3 * self.period_s) * 1e9):
            return False
        counts = (_service(self.rt, "engines").windows, self.tracker.findings, self.released())
        wall = time.monotonic()
        if counts != self.last_counts:
            self.last_counts, self.quiet_since = counts, wall
        assert self.quiet_since is not None
        return wall - self.quiet_since >= DRAIN_QUIET_S


async def run_replay(settings: Settings, opts: ReplayOptions, say: Say) -> dict[str, Any]:
    """Run the stack on the recording until it is read and drained; return the report (see replay_report)."""
    period = float(settings.collector.upf_ee[0].rep_period_s)
    window = settings.processor.window_s
    async with AsyncExitStack() as stack:
        rt = await start_runtime(settings, ["all"], stack)
        upf = _service(rt, "upf")
        clock = upf.ctx.clock
        tracker = HostTracker(lambda t: t - (clock.offset_ns or 0) / 1e9)
        watch = _Watch(rt, tracker, window, period)
        await rt.context.bus.subscribe([topics.UPF_EE_NOTIFICATIONS], "replay-observer", watch.on_report)
        await rt.context.bus.subscribe([topics.ANALYTICS_RESULTS], "replay-observer", watch.on_result)
        say(f"replaying {upf.source.name} at {opts.speed:g}x: report period {period:g} s, window {window:g} s "
            f"(data time), model {'from ' + opts.model if opts.model else 'none (rules only)'}")
        drain_deadline: float | None = None
        while not watch.finished():
            await asyncio.sleep(opts.progress_s)
            say(watch.status())
            if upf.ctx.pump.source_done and drain_deadline is None:
                drain_deadline = time.monotonic() + DRAIN_MAX_S + (window + 3 * period) / opts.speed
                say("recording read to the end: draining the last windows")
            if drain_deadline is not None and time.monotonic() > drain_deadline:
                say("drain timed out: reporting what was judged so far")
                break
        storage = await storage_facts(rt)  # stops the UPF: sessions are final from here
        for s in upf.ctx.sessions.sessions:
            address = s.ue_ipv4 or (s.ue_ipv6_prefix or "").split("/")[0]
            tracker.on_session(address, s.supi, s.released_ns / 1e9 if s.released_ns else None)
        labels = upf.source.host_labels() if hasattr(upf.source, "host_labels") else None
        extra = {**_facts(rt, upf, opts), "storage": storage}
    return build_report(period, opts.speed, window, tracker, labels, **extra)


async def quiesce(rt: Runtime, settle_s: float = 0.5, limit_s: float = 30.0) -> None:
    """Stop the UPF (no more reports) and the collector (which would otherwise find its subscriptions gone and
    re-subscribe), then wait until the bus has delivered everything (no delivery for ``settle_s``): then no message
    is in flight, and stopping the sink's group members redelivers nothing."""
    await _service(rt, "upf").stop()
    await _service(rt, "collector").stop()
    stats = getattr(rt.context.bus, "stats", None)
    deadline, last, since = time.monotonic() + limit_s, -1, time.monotonic()
    while stats is not None and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        if stats.delivered != last:
            last, since = stats.delivered, time.monotonic()
        elif time.monotonic() - since >= settle_s:
            return


async def storage_facts(rt: Runtime) -> dict[str, Any]:
    """Rows the sink wrote (first writes; a redelivered message's rows are in ``rewritten``), refused and the backends
    hold, per table: stored == written - refused is the storage's promise, for a recording of any age. Quiesces the
    stack (:func:`quiesce`) and ends the sink's consumption (it flushes what it holds), so the counts are final:
    call it at the end of a run."""
    await quiesce(rt)
    storage = _service(rt, "storage")
    await storage.sink.stop()
    stats = storage.sink.stats
    stored = {}
    for name in stats.rows:
        backend = storage.storage.timeseries if TABLES[name].timeseries else storage.storage.warehouse
        count = getattr(backend, "count", None)
        if count is not None:
            stored[name] = await count(name)
    return {"written": dict(stats.rows), "refused": dict(stats.refused), "stored": stored,
            "rewritten": dict(stats.rewritten)}


def _facts(rt: Runtime, upf: Any, opts: ReplayOptions) -> dict[str, Any]:
    ctx = upf.ctx
    results = _service(rt, "anlf").processor.metrics.registry.get_sample_value
    facts: dict[str, Any] = {"input": opts.input, "offset_s": (ctx.clock.offset_ns or 0) / 1e9,
                             "packets": ctx.pump.packets, "model": opts.model,
                             "findings_accepted": int(results("nwdaf_anlf_analytics_results_total",
                                                              {"outcome": "accepted"}) or 0),
                             "findings_expired": int(results("nwdaf_anlf_analytics_results_total",
                                                             {"outcome": "expired"}) or 0)}
    skips = getattr(upf.source, "skips", None)  # the bad-row policy of nwdaf.lib.flows.skips (dataset and pcap)
    facts["input_rows"] = skips.as_dict() if skips is not None else None
    facts["skip_summary"] = skips.summary() if skips is not None else None
    return facts
