"""``nwdaf demo --testbed``: the closed loop on real traffic in Linux network namespaces (root only).

UEs browse the DN servers with curl; after a random delay one UE runs nmap scans. The UPF captures live in its
namespace; on release it drops the bot in the data plane and installs an nftables drop rule, so the bot's ping
fails while benign UEs keep working (the demo's proof that the release took effect).
"""

from __future__ import annotations

import asyncio
import random
import time
from contextlib import AsyncExitStack
from typing import Any

from nwdaf.app.config import Settings, load_settings
from nwdaf.app.demo.model import ensure_champion
from nwdaf.app.demo.observer import LoopObserver, UeTimeline
from nwdaf.app.demo.run import DemoOptions, Say, _collect_smf_and_upf, _status
from nwdaf.app.runtime import Runtime, start_runtime
from nwdaf.app.testbed_cli import establish_sessions
from nwdaf.lib.testbed import traffic
from nwdaf.lib.testbed.topology import Testbed, TestbedSpec, down, up
from nwdaf.platform.bus import topics


def _settings_for(settings: Settings, tb: Testbed) -> Settings:
    return load_settings(None, **{**settings.model_dump(mode="json", exclude_unset=True),
                                  "upf": {"source": tb.capture_source, "enforcement": f"nft:{tb.upf_ns}"}})


async def run_testbed_demo(settings: Settings, opts: DemoOptions, say: Say, n_ues: int = 5) -> dict[str, Any]:
    """Namespaces up, services up, benign traffic, a scan at a random time, release, ping check, all down."""
    await asyncio.to_thread(ensure_champion, settings, say)
    tb = await asyncio.to_thread(up, TestbedSpec(name="nwdaf-demo", n_ues=n_ues))
    say(f"testbed up: {len(tb.ues)} UE namespaces, UPF {tb.upf_ns}, DN {tb.dn_ns} ({len(tb.servers)} servers)")
    try:
        return await _run(_settings_for(settings, tb), tb, opts, say)
    finally:
        report = await asyncio.to_thread(down, tb.spec)
        say(f"testbed down ({report})")


async def _run(settings: Settings, tb: Testbed, opts: DemoOptions, say: Say) -> dict[str, Any]:
    bot = tb.ues[-1]
    ues = {ue.supi: UeTimeline(ue.supi, ue.ipv4, "bot" if ue is bot else "benign",
                               "nmap-scan" if ue is bot else None, None) for ue in tb.ues}
    observer = LoopObserver(ues)
    async with AsyncExitStack() as stack:
        rt = await start_runtime(settings, ["all"], stack)
        await asyncio.to_thread(establish_sessions, tb, rt.servers["upf"].url)
        await rt.context.bus.subscribe([topics.UPF_EE_NOTIFICATIONS], "demo-observer", observer.on_report)
        await rt.context.bus.subscribe([topics.ANALYTICS_RESULTS], "demo-observer", observer.on_result)
        await asyncio.to_thread(traffic.start, tb, "benign")
        delay = random.Random(opts.seed).uniform(*opts.attack_window_s)
        say(f"benign UEs browsing; {bot.supi} ({bot.ipv4}) starts scanning in {delay:.1f} s")
        await asyncio.sleep(delay)
        await asyncio.to_thread(traffic.stop_traffic, tb)
        ues[bot.supi].t_attack_start = time.time()
        await asyncio.to_thread(traffic.start, tb, "scan")
        await _wait_release(rt, ues, observer, opts, say)
        checks = await asyncio.to_thread(_reachability, tb)
        say("after release: " + ", ".join(f"{k} {'reachable' if v else 'CUT OFF'}" for k, v in checks.items()))
    return {"period_s": settings.collector.upf_ee[0].rep_period_s, "window_s": settings.processor.window_s,
            "testbed": True, "reachability": checks, "ues": [ue.to_report() for ue in ues.values()]}


async def _wait_release(rt: Runtime, ues: dict[str, UeTimeline], observer: LoopObserver, opts: DemoOptions,
                        say: Say) -> None:
    start = time.time()
    bots = [u for u in ues.values() if u.role == "bot"]
    while time.time() - start < opts.timeout_s:
        await asyncio.sleep(1.0)
        _collect_smf_and_upf(rt, ues)
        for line in observer.events:
            say(line)
        observer.events.clear()
        say(f"[{time.time() - start:5.1f}s after scan start] {_status(rt, observer)}")
        if all(b.released for b in bots):
            await asyncio.sleep(opts.settle_s)
            return
    say("timeout: the bot was not released")


def _reachability(tb: Testbed) -> dict[str, bool]:
    server = tb.server_addresses[0]
    return {ue.supi: traffic.ping(ue, server) for ue in tb.ues}
