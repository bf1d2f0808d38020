"""``nwdaf demo``: the whole closed loop in one process on embedded defaults, with a report.

A synthetic population (benign UEs plus bots that start attacking at random times) flows through the UPF's data
plane; the NWDAF collects the UPF's usage notifications, builds per-UE windows, scores them with the provisioned
model and the rules, notifies the SMF, and the SMF releases the bots' PDU sessions at the UPF.
"""

from __future__ import annotations

import asyncio
import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, fields, replace
from typing import Any

from nwdaf.app.config import Settings
from nwdaf.app.demo.model import ensure_champion
from nwdaf.app.demo.observer import LoopObserver, UeTimeline
from nwdaf.app.runtime import Runtime, start_runtime
from nwdaf.lib.dataplane import PacketBatch, Scenario, SessionTable
from nwdaf.nf.smf.service import SmfService, build_smf
from nwdaf.nf.upf.config import SourceSpec
from nwdaf.nf.upf.service import UpfService, create_upf_service
from nwdaf.nf.upf.sources import SyntheticSource
from nwdaf.platform.bus import topics
from nwdaf.platform.nf import Builder, ServiceContext

Say = Callable[[str], None]


@dataclass(frozen=True)
class DemoOptions:
    """The population and the timing of one demo run."""

    benign: int = 20
    attacks: tuple[str, ...] = ("scan", "udp_flood")
    seed: int = 42
    attack_window_s: tuple[float, float] = (10.0, 25.0)
    timeout_s: float = 90.0
    """Stop this long after the last attack started if not every bot has been released."""
    settle_s: float = 5.0
    """Keep running this long after the last release, to show that benign UEs stay connected."""
    exact_timing: bool = True
    """The default, so the report's times can be trusted: the scenario clock starts when the UPF starts reading
    it, at a random sub-second phase against the UPF's reporting tick; a PERIODIC SMF subscribes at a random phase
    within its repetition period (else its schedule would keep the same offset to the UPF's reports in every run);
    and a bot's attack start is the first whole scenario second at or after its drawn start, as the traffic
    generator switches on. Off, the times are the scenario's plan: it starts at the next whole second before
    start-up, so the attack start is off by up to about a second either way."""


def build_population(opts: DemoOptions, start_s: int) -> Scenario:
    """Benign UEs and one bot per attack kind, each bot with its own random attack start."""
    rng = random.Random(opts.seed)
    attackers: dict[str, int] = {}
    for attack in opts.attacks:
        attackers[attack] = attackers.get(attack, 0) + 1
    scenario = Scenario.build(benign=opts.benign, attackers=attackers, seed=opts.seed, start_s=start_s)
    scenario.ues = [replace(ue, attack_start_s=round(rng.uniform(*opts.attack_window_s), 1)) if ue.attack else ue
                    for ue in scenario.ues]
    return scenario


def timelines(scenario: Scenario, exact: bool = False) -> dict[str, UeTimeline]:
    t0 = scenario.start_ns / 1e9

    def attack_start(at_s: float) -> float:
        # The generator attacks from the first whole second (tick) at or after the drawn start.
        return t0 + (math.ceil(at_s) if exact else at_s)

    return {ue.supi: UeTimeline(ue.supi, ue.ip, "bot" if ue.attack else "benign", ue.attack,
                                attack_start(ue.attack_start_s) if ue.attack else None) for ue in scenario.ues}


class _WallClockSource(SyntheticSource):
    """The demo population on the wall clock: its second 0 is ``phase_s`` after the UPF prepares it, and a
    packet's time is the time it reaches the data plane (within one delivery step). Its packets are stamped with
    the wall clock, as live capture's are, so the UPF takes them as they are (no rebasing)."""

    live = True

    def __init__(self, phase_s: float) -> None:
        super().__init__(SourceSpec("synthetic", scenario="benign", seed=0))
        self.phase_s = phase_s
        self._closed = threading.Event()

    def prepare(self, sessions: SessionTable) -> None:
        self.scenario.start_ns = time.time_ns() + int(self.phase_s * 1e9)
        super().prepare(sessions)

    def batches(self) -> Iterator[PacketBatch]:
        if self._closed.wait(max(0.0, self.scenario.start_ns / 1e9 - time.time())):
            return
        yield from super().batches()

    def close(self) -> None:
        self._closed.set()
        super().close()


def _upf_builder(settings: Settings, scenario: Scenario, opts: DemoOptions) -> Callable[[ServiceContext], UpfService]:
    def build(ctx: ServiceContext) -> UpfService:
        source = (_WallClockSource(random.Random(f"{opts.seed}-phase").random()) if opts.exact_timing
                  else SyntheticSource(SourceSpec("synthetic", scenario="benign", seed=0)))
        source.scenario = scenario
        source.name = f"synthetic demo population ({len(scenario.ues)} UEs)"
        return create_upf_service(settings.upf, ctx.client, base_urls=ctx.base_urls, source=source)

    return build


@dataclass
class _PhasedSmf(SmfService):
    """The SMF, subscribing ``phase_s`` after the runtime starts it."""

    phase_s: float = 0.0

    async def start(self) -> None:
        await asyncio.sleep(self.phase_s)
        await super().start()


def _smf_builder(settings: Settings, opts: DemoOptions) -> Builder:
    def build(ctx: ServiceContext) -> SmfService:
        smf = build_smf(ctx, settings.smf)
        period = smf.smf.repetition_period_s if smf.smf.notification_method == "PERIODIC" else 0
        phase = random.Random(f"{opts.seed}-smf").uniform(0, period)
        return _PhasedSmf(**{f.name: getattr(smf, f.name) for f in fields(smf) if f.init}, phase_s=phase)

    return build


def _overrides(settings: Settings, scenario: Scenario, opts: DemoOptions) -> dict[str, Builder]:
    upf: dict[str, Builder] = {"upf": _upf_builder(settings, scenario, opts)}
    return {**upf, "smf": _smf_builder(settings, opts)} if opts.exact_timing else upf


async def run_demo(settings: Settings, opts: DemoOptions, say: Say) -> dict[str, Any]:
    """Train if needed, run the loop until every bot is released (or the timeout), return the report."""
    await asyncio.to_thread(ensure_champion, settings, say)
    scenario = build_population(opts, start_s=int(time.time()) + 1)
    ues = timelines(scenario)
    observer = LoopObserver(ues)
    async with AsyncExitStack() as stack:
        rt = await start_runtime(settings, ["all"], stack, overrides=_overrides(settings, scenario, opts))
        if opts.exact_timing:
            for supi, exact in timelines(scenario, exact=True).items():
                ues[supi].t_attack_start = exact.t_attack_start
        for nf, server in rt.servers.items():
            say(f"{nf.upper():<5} SBI listening at {server.url} (HTTP/2 h2c + HTTP/1.1)")
        await rt.context.bus.subscribe([topics.UPF_EE_NOTIFICATIONS], "demo-observer", observer.on_report)
        await rt.context.bus.subscribe([topics.ANALYTICS_RESULTS], "demo-observer", observer.on_result)
        await _watch(rt, scenario, observer, opts, say)
        _collect_smf_and_upf(rt, ues)
    return {"period_s": settings.collector.upf_ee[0].rep_period_s, "window_s": settings.processor.window_s,
            "ues": [ue.to_report() for ue in ues.values()]}


async def _watch(rt: Runtime, scenario: Scenario, observer: LoopObserver, opts: DemoOptions, say: Say) -> None:
    t0 = scenario.start_ns / 1e9
    last_attack = max((ue.attack_start_s for ue in scenario.ues if ue.attack), default=0.0)
    bots = [ue for ue in observer.ues.values() if ue.role == "bot"]
    announced: set[str] = set()
    all_released_at: float | None = None
    while True:
        await asyncio.sleep(1.0)
        now = time.time()
        _collect_smf_and_upf(rt, observer.ues)
        for line in _new_events(observer, announced, now):
            say(f"[{now - t0:5.1f}s] {line}")
        say(f"[{now - t0:5.1f}s] {_status(rt, observer)}")
        if all_released_at is None and bots and all(b.released for b in bots):
            all_released_at = now
        if all_released_at is not None and now - all_released_at >= opts.settle_s:
            return
        if now - t0 > last_attack + opts.timeout_s:
            say(f"timeout: {sum(b.released for b in bots)}/{len(bots)} bots released")
            return


def _new_events(observer: LoopObserver, announced: set[str], now: float) -> list[str]:
    lines = list(observer.events)
    observer.events.clear()
    for ue in observer.ues.values():
        if ue.t_attack_start is not None and ue.t_attack_start <= now and f"a{ue.supi}" not in announced:
            announced.add(f"a{ue.supi}")
            lines.append(f"bot {ue.supi} ({ue.ip}) starts its {ue.attack} attack")
        if ue.released and f"r{ue.supi}" not in announced:
            announced.add(f"r{ue.supi}")
            lines.append(f"SMF released the PDU session of {ue.supi} ({ue.ip}, {ue.role}); its traffic is dropped")
    return lines


def _service(rt: Runtime, name: str) -> Any:
    return next(s for s in rt.services if s.name == name)


def _status(rt: Runtime, observer: LoopObserver) -> str:
    upf = _service(rt, "upf").ctx.pump
    engines = _service(rt, "engines")
    released = sum(ue.released for ue in observer.ues.values())
    return (f"UPF {upf.forwarded:,} pkts forwarded, {upf.dropped:,} dropped | NWDAF {observer.reports} reports, "
            f"{engines.windows} windows, {observer.findings} findings | SMF {released} released")


def _collect_smf_and_upf(rt: Runtime, ues: dict[str, UeTimeline]) -> None:
    """Notification receipt times from the SMF's audit, release times from the UPF's session table."""
    for entry in _service(rt, "smf").audit.entries():
        ue = ues.get(entry.supi)
        if ue is not None and ue.t_notified is None:
            ue.t_notified = entry.receivedAt.timestamp()
    for session in _service(rt, "upf").ctx.sessions.sessions:
        ue = ues.get(session.supi)
        if ue is not None and session.released_ns and ue.t_released is None:
            ue.t_released = session.released_ns / 1e9
