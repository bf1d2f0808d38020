"""``nwdaf testbed up | status | run | down`` through the Typer app the main CLI mounts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nwdaf.app import testbed_cli as cli
from nwdaf.lib.testbed.netns import list_namespaces, netns_permitted

pytestmark = [pytest.mark.integration, pytest.mark.root]


def test_up_run_status_down(tmp_path: Path) -> None:
    reason = netns_permitted()
    if reason:
        pytest.skip(f"testbed needs network namespaces: {reason}")
    name = f"nwc{os.getpid() % 100000}"
    common = ["--name", name, "--state-dir", str(tmp_path)]
    runner = CliRunner()
    try:
        result = runner.invoke(cli.testbed_app, ["up", "--ues", "2", "--servers", "1", *common])
        assert result.exit_code == 0, result.output
        assert f"live:n3@{name}-upf" in result.output
        assert sorted(ns for ns in list_namespaces() if ns.startswith(name)) == [
            f"{name}-dn", f"{name}-ue1", f"{name}-ue2", f"{name}-upf"]
        again = runner.invoke(cli.testbed_app, ["up", *common])
        assert again.exit_code == 2
        assert "already exists" in again.output
        result = runner.invoke(cli.testbed_app, ["run", "benign", "--duration", "1", *common])
        assert result.exit_code == 0, result.output
        assert "stopped 2 traffic generators" in result.output
        bad = runner.invoke(cli.testbed_app, ["run", "ddos", *common])
        assert bad.exit_code == 2
        assert "unknown scenario" in bad.output
        status = runner.invoke(cli.testbed_app, ["status", *common])
        assert status.output.count("running") == 2, status.output  # the two DN servers
    finally:
        result = runner.invoke(cli.testbed_app, ["down", *common])
    assert result.exit_code == 0, result.output
    assert "deleted 4 namespaces" in result.output
    assert not [ns for ns in list_namespaces() if ns.startswith(name)]
    missing = runner.invoke(cli.testbed_app, ["status", *common])
    assert missing.exit_code == 2
