"""The closed loop on real traffic: nmap from a UE namespace, the UPF capturing live, nftables on release."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from nwdaf.app.config import load_settings
from nwdaf.app.demo.cli import demo_settings, verdict
from nwdaf.app.demo.run import DemoOptions
from nwdaf.lib.testbed.netns import netns_permitted

pytestmark = pytest.mark.e2e

REASON = netns_permitted()


@pytest.mark.skipif(REASON is not None, reason=f"testbed unavailable: {REASON}")
def test_nmap_bot_is_cut_off_and_benign_ues_keep_working(tmp_path: Path) -> None:
    from nwdaf.app.demo.testbed import run_testbed_demo

    settings = demo_settings(load_settings(), tmp_path / "run", tmp_path / "registry", 1, 10.0)
    lines: list[str] = []
    report = asyncio.run(run_testbed_demo(settings, DemoOptions(attack_window_s=(5, 8), timeout_s=40, settle_s=1),
                                          lines.append, n_ues=4))
    ok, text = verdict(report)
    assert ok, text + "\n" + "\n".join(lines[-20:])
    bot = next(u for u in report["ues"] if u["role"] == "bot")
    assert report["reachability"][bot["supi"]] is False
    assert all(v for supi, v in report["reachability"].items() if supi != bot["supi"])
