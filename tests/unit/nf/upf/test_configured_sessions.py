"""PDU sessions and accounting limits from the ``upf`` configuration: validation naming the field, establishment
when the UPF starts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from tests.unit.nf.upf.helpers import packets

from nwdaf.app.config import ConfigError, load_settings
from nwdaf.nf.upf.config import UpfConfig
from nwdaf.nf.upf.service import UpfService, process_batch
from nwdaf.platform.sbi import create_sbi_app

pytestmark = pytest.mark.unit

T0 = 1_700_000_000 * 10**9
V4 = {"supi": "imsi-001010000000001", "pduSessionId": 1, "ueIpv4Addr": "10.60.0.11", "seid": 4242,
      "snssai": {"sst": 1, "sd": "000001"}, "dnn": "internet"}
V6 = {"supi": "imsi-001010000000002", "pduSessionId": 5, "ueIpv6Prefix": "2001:db8:0:7::/64",
      "snssai": {"sst": 2}, "dnn": "ims"}
DUAL = {"supi": "imsi-001010000000003", "pduSessionId": 1, "ueIpv4Addr": "10.60.0.13",
        "ueIpv6Prefix": "2001:db8:0:8::/64", "snssai": {"sst": 1, "sd": "000001"}, "dnn": "internet"}


def _errors(**config: Any) -> dict[tuple[str | int, ...], str]:
    with pytest.raises(ValidationError) as err:
        UpfConfig(**config)
    return {tuple(e["loc"]): e["msg"] for e in err.value.errors()}


def test_sessions_and_accounting_limits_parse() -> None:
    cfg = UpfConfig(sessions=[V4, V6, DUAL], accounting={"idle_timeout_s": 5, "max_flows": 1000})
    assert [(s.supi, s.seid) for s in cfg.sessions] == [
        ("imsi-001010000000001", 4242), ("imsi-001010000000002", None), ("imsi-001010000000003", None)]
    assert cfg.sessions[1].snssai.sd is None
    assert (cfg.accounting.idle_timeout_s, cfg.accounting.max_flows, cfg.accounting.bin_s) == (5, 1000, 1.0)


@pytest.mark.parametrize(("change", "loc"), [
    ({"ueIpv4Addr": "10.60.0.300"}, ("sessions", 0, "ueIpv4Addr")),
    ({"ueIpv4Addr": None, "ueIpv6Prefix": "2001:db8::/48"}, ("sessions", 0, "ueIpv6Prefix")),
    ({"pduSessionId": 16}, ("sessions", 0, "pduSessionId")),
    ({"supi": ""}, ("sessions", 0, "supi")),
    ({"snssai": {"sst": 300}}, ("sessions", 0, "snssai", "sst")),
    ({"seid": 0}, ("sessions", 0, "seid")),
    ({"ueIpAddr": "10.60.0.12"}, ("sessions", 0, "ueIpAddr")),
    ({"ueIpv4Addr": None}, ("sessions", 0)),
])
def test_a_bad_session_is_named_by_its_field(change: dict[str, Any], loc: tuple[str | int, ...]) -> None:
    errors = _errors(sessions=[{**V4, **change}])
    assert list(errors) == [loc], errors


@pytest.mark.parametrize(("second", "needle"), [
    ({**V6, "ueIpv6Prefix": None, "ueIpv4Addr": "10.60.0.11"}, "sessions[1].ueIpv4Addr 10.60.0.11"),
    ({**V6, "ueIpv6Prefix": "2001:db8:0:7::1/64"}, "sessions[1].ueIpv6Prefix 2001:db8:0:7::/64"),
    ({**V6, "supi": V4["supi"], "pduSessionId": 1}, "sessions[1].supi+pduSessionId"),
    ({**V6, "ueIpv6Prefix": "2001:db8:0:9::/64", "seid": 4242}, "sessions[1].seid 4242"),
])
def test_sessions_that_collide_are_refused(second: dict[str, Any], needle: str) -> None:
    errors = _errors(sessions=[{**V4, "ueIpv6Prefix": "2001:db8:0:7::/64"}, second])
    assert list(errors) == [("sessions",)]
    assert needle in errors[("sessions",)]
    assert "already used by sessions[0]" in errors[("sessions",)]


def test_bad_accounting_limits_are_named() -> None:
    assert set(_errors(accounting={"max_flows": 1, "idle_timeout_s": 0, "idle": 3})) == {
        ("accounting", "max_flows"), ("accounting", "idle_timeout_s"), ("accounting", "idle")}


def test_a_config_file_error_names_the_session_field(tmp_path: Path) -> None:
    path = tmp_path / "nwdaf.yaml"
    path.write_text("upf:\n  sessions:\n    - supi: imsi-001010000000001\n      pduSessionId: 1\n"
                    "      ueIpv4Addr: 10.60.0.300\n      snssai: {sst: 1}\n      dnn: internet\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"upf\.sessions\.0\.ueIpv4Addr"):
        load_settings(path)


async def test_start_establishes_the_configured_sessions(make_upf: Callable[..., UpfService]) -> None:
    upf = make_upf(sessions=[V4, V6, DUAL], accounting={"max_flows": 64, "idle_timeout_s": 5})
    assert upf.ctx.sessions.sessions == [], "nothing before start"
    await upf.start()
    try:
        await upf.start()  # a restart keeps the sessions instead of colliding with them
        transport = httpx.ASGITransport(app=create_sbi_app("upf", upf.routers()))
        async with httpx.AsyncClient(transport=transport, base_url="http://upf.test") as api:
            listed = (await api.get("/nupf-n4/v1/pdu-sessions")).json()
        assert [(s["supi"], s["pduSessionId"], s["state"]) for s in listed] == [
            ("imsi-001010000000001", 1, "ACTIVE"), ("imsi-001010000000002", 5, "ACTIVE"),
            ("imsi-001010000000003", 1, "ACTIVE")]
        assert listed[0]["seid"] == 4242
        assert listed[1]["seid"] > 4242, "allocated SEIDs never reuse a configured one"
        assert (listed[1]["ueIpv6Prefix"], listed[1]["snssai"], listed[1]["dnn"]) == (
            "2001:db8:0:7::/64", {"sst": 2}, "ims")
        process_batch(upf.ctx, packets("10.60.0.11", "10.61.0.10", 3, t0_ns=T0))
        process_batch(upf.ctx, packets("2001:db8:0:7::9", "2001:db8:ff::1", 2, t0_ns=T0))
        process_batch(upf.ctx, packets("2001:db8:0:8::1", "2001:db8:ff::1", 4, t0_ns=T0))
        assert upf.ctx.pump.forwarded == 9
        assert upf.ctx.accounting.by_session.total[:3, 2].tolist() == [3, 2, 4]
        assert (upf.ctx.accounting.flows.max_flows, upf.ctx.accounting.flows.idle_timeout_ns) == (64, 5 * 10**9)
    finally:
        await upf.stop()


async def test_a_configured_session_the_data_plane_refuses_names_the_entry(
    make_upf: Callable[..., UpfService]
) -> None:
    upf = make_upf(sessions=[V4])
    upf.ctx.sessions.establish("imsi-001010000000009", 1, ue_ipv4="10.60.0.11")
    with pytest.raises(ValueError, match=r"upf\.sessions\[0\] \(imsi-001010000000001\): address"):
        await upf.start()
    await upf.stop()
