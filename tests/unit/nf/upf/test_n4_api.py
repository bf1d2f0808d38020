"""The N4-like PDU session API the SMF drives: establish, list, read, release, and what release does to packets."""

from __future__ import annotations

import httpx
import pytest
from tests.unit.nf.upf.helpers import packets, session_body

from nwdaf.nf.upf.enforcement import NftEnforcer
from nwdaf.nf.upf.service import UpfService, process_batch
from nwdaf.platform.sbi import PROBLEM_JSON

pytestmark = pytest.mark.unit

ROOT = "/nupf-n4/v1/pdu-sessions"
T0 = 1_700_000_000 * 10**9


async def _establish(api: httpx.AsyncClient, **kw: str) -> dict[str, object]:
    resp = await api.post(ROOT, json=session_body(**kw))  # type: ignore[arg-type]
    assert resp.status_code == 201, resp.text
    body: dict[str, object] = resp.json()
    return body


async def test_establish_returns_the_session_with_its_seid(api: httpx.AsyncClient) -> None:
    resp = await api.post(ROOT, json=session_body())
    assert resp.status_code == 201
    body = resp.json()
    assert resp.headers["location"] == f"http://upf.test{ROOT}/{body['seid']}"
    assert isinstance(body["seid"], int)
    assert {k: body[k] for k in ("supi", "pduSessionId", "ueIpv4Addr", "snssai", "dnn", "state")} == {
        "supi": "imsi-001010000000001", "pduSessionId": 1, "ueIpv4Addr": "10.60.0.11",
        "snssai": {"sst": 1, "sd": "000001"}, "dnn": "internet", "state": "ACTIVE"}
    assert (body["droppedPackets"], body["droppedBytes"]) == (0, 0)


async def test_list_filters_by_supi_and_read_by_seid(api: httpx.AsyncClient) -> None:
    a = await _establish(api)
    b = await _establish(api, supi="imsi-001010000000002", ip="10.60.0.12")
    everything = (await api.get(ROOT)).json()
    assert [s["seid"] for s in everything] == [a["seid"], b["seid"]]
    only_b = (await api.get(ROOT, params={"supi": "imsi-001010000000002"})).json()
    assert [s["seid"] for s in only_b] == [b["seid"]]
    assert (await api.get(ROOT, params={"supi": "imsi-999"})).json() == []
    one = (await api.get(f"{ROOT}/{a['seid']}")).json()
    assert one["supi"] == "imsi-001010000000001"


@pytest.mark.parametrize(("change", "param"), [
    ({"supi": ""}, "/supi"),
    ({"pduSessionId": 16}, "/pduSessionId"),
    ({"ueIpv4Addr": "10.60.0.300"}, "/ueIpv4Addr"),
    ({"ueIpv4Addr": None}, "/"),
    ({"snssai": {"sst": 1, "sd": "xyz"}}, "/snssai/sd"),
    ({"dnn": ""}, "/dnn"),
])
async def test_invalid_establishment_is_400(api: httpx.AsyncClient, change: dict[str, object], param: str) -> None:
    body = {**session_body(), **change}
    resp = await api.post(ROOT, json=body)
    assert resp.status_code == 400, resp.text
    assert resp.headers["content-type"] == PROBLEM_JSON
    assert any(p["param"].startswith(param) for p in resp.json()["invalidParams"])


async def test_conflicting_establishment_is_409(api: httpx.AsyncClient) -> None:
    await _establish(api)
    same_ip = await api.post(ROOT, json=session_body(supi="imsi-001010000000002"))
    assert same_ip.status_code == 409
    same_id = await api.post(ROOT, json=session_body(ip="10.60.0.99"))
    assert same_id.status_code == 409


async def test_release_is_idempotent_and_unknown_is_404(api: httpx.AsyncClient) -> None:
    s = await _establish(api)
    assert (await api.delete(f"{ROOT}/{s['seid']}")).status_code == 204
    assert (await api.delete(f"{ROOT}/{s['seid']}")).status_code == 204
    assert (await api.get(f"{ROOT}/{s['seid']}")).json()["state"] == "RELEASED"
    missing = await api.delete(f"{ROOT}/424242")
    assert missing.status_code == 404
    assert missing.json()["cause"] == "CONTEXT_NOT_FOUND"
    assert (await api.get(f"{ROOT}/424242")).status_code == 404


async def test_a_released_ue_is_dropped_and_counted_not_forwarded(api: httpx.AsyncClient, upf: UpfService) -> None:
    bot = await _establish(api)
    good = await _establish(api, supi="imsi-001010000000002", ip="10.60.0.12")
    process_batch(upf.ctx, packets("10.60.0.11", "10.61.0.10", 5, t0_ns=T0))
    process_batch(upf.ctx, packets("10.60.0.12", "10.61.0.10", 5, t0_ns=T0))
    assert (await api.delete(f"{ROOT}/{bot['seid']}")).status_code == 204
    process_batch(upf.ctx, packets("10.60.0.11", "10.61.0.10", 7, t0_ns=T0 + 10**9))
    process_batch(upf.ctx, packets("10.60.0.11", "10.61.0.10", 3, t0_ns=T0 + 2 * 10**9, uplink=False))
    process_batch(upf.ctx, packets("10.60.0.12", "10.61.0.10", 5, t0_ns=T0 + 10**9))
    released = (await api.get(f"{ROOT}/{bot['seid']}")).json()
    assert (released["forwardedPackets"], released["droppedPackets"], released["droppedBytes"]) == (5, 10, 10_000)
    kept = (await api.get(f"{ROOT}/{good['seid']}")).json()
    assert (kept["forwardedPackets"], kept["droppedPackets"]) == (10, 0)
    stats = (await api.get("/nupf-oam/v1/stats")).json()
    assert stats["dataplane"]["droppedPackets"] == 10
    assert stats["pump"]["dropped"] == 10


async def test_the_address_of_a_released_session_can_be_reused(api: httpx.AsyncClient, upf: UpfService) -> None:
    old = await _establish(api)
    await api.delete(f"{ROOT}/{old['seid']}")
    new = await _establish(api, supi="imsi-001010000000003")
    process_batch(upf.ctx, packets("10.60.0.11", "10.61.0.10", 4, t0_ns=T0))
    assert (await api.get(f"{ROOT}/{new['seid']}")).json()["forwardedPackets"] == 4
    assert (await api.get(f"{ROOT}/{old['seid']}")).json()["droppedPackets"] == 0


class _RecordingEnforcer(NftEnforcer):
    def __init__(self, fail: bool = False) -> None:
        super().__init__("test-ns")
        self.calls: list[tuple[str, str]] = []
        self.fail = fail

    async def block(self, address: str) -> None:
        self.calls.append(("block", address))
        if self.fail:
            raise OSError("nft: Operation not permitted")
        self.blocked.add(address)

    async def unblock(self, address: str) -> None:
        self.calls.append(("unblock", address))
        self.blocked.discard(address)


async def test_release_asks_the_enforcer_and_a_failure_is_500(api: httpx.AsyncClient, upf: UpfService) -> None:
    failing = _RecordingEnforcer(fail=True)
    upf.ctx.enforcer = failing
    s = await _establish(api)
    resp = await api.delete(f"{ROOT}/{s['seid']}")
    assert resp.status_code == 500
    assert "Operation not permitted" in resp.json()["detail"]
    assert (await api.get(f"{ROOT}/{s['seid']}")).json()["state"] == "RELEASED", "the data plane drop stands"
    working = _RecordingEnforcer()
    upf.ctx.enforcer = working
    assert (await api.delete(f"{ROOT}/{s['seid']}")).status_code == 204, "a retried release retries the rule"
    await _establish(api, supi="imsi-001010000000004")
    assert working.calls == [("block", "10.60.0.11"), ("unblock", "10.60.0.11")]
