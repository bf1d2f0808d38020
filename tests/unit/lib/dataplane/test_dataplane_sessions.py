"""PDU session table: establish/release, vectorised classification, drops, learning."""

from __future__ import annotations

import numpy as np
import pytest

from nwdaf.lib.dataplane import Direction, PacketBatch, SessionState, SessionTable, Snssai

pytestmark = pytest.mark.unit


def _batch(rows: list[tuple[str, str, int]], teid: list[int] | None = None) -> PacketBatch:
    n = len(rows)
    return PacketBatch.from_lists(ts_ns=list(range(n)), src=[r[0] for r in rows], dst=[r[1] for r in rows],
                                  sport=[1000] * n, dport=[80] * n, proto=[6] * n, length=[r[2] for r in rows],
                                  teid=teid)


def test_classify_by_ue_address_gives_session_and_direction() -> None:
    t = SessionTable()
    a = t.establish("imsi-001010000000001", 1, ue_ipv4="10.45.0.2", snssai=Snssai(1, "000001"), dnn="internet")
    b = t.establish("imsi-001010000000002", 5, ue_ipv6_prefix="2001:db8:1:2::/64")
    m = t.classify(_batch([("10.45.0.2", "8.8.8.8", 100), ("8.8.8.8", "10.45.0.2", 200),
                           ("2001:db8::99", "2001:db8:1:2::abcd", 300), ("1.1.1.1", "9.9.9.9", 400)]))
    assert m.session.tolist() == [a.index, a.index, b.index, -1]
    assert m.direction.tolist() == [Direction.UL, Direction.DL, Direction.DL, Direction.NONE]
    assert m.forwarded.tolist() == [True, True, True, False]
    assert (t.unmatched_packets, t.unmatched_bytes) == (1, 400)


def test_gtpu_packets_match_by_teid_and_teid_gives_direction() -> None:
    t = SessionTable()
    s = t.establish("imsi-001010000000001", ue_ipv4="10.45.0.2", teid=0x100, dl_teid=0x200)
    other = t.establish("imsi-001010000000002", ue_ipv4="10.45.0.3")
    m = t.classify(_batch([("10.45.0.3", "8.8.8.8", 1), ("8.8.8.8", "10.45.0.3", 1), ("1.2.3.4", "5.6.7.8", 1)],
                          teid=[0x100, 0x200, 0x999]))
    assert m.session.tolist() == [s.index, s.index, -1]
    assert m.direction.tolist() == [Direction.UL, Direction.DL, Direction.NONE]
    assert other.index not in m.session.tolist()


def test_released_session_packets_are_dropped_and_counted() -> None:
    t = SessionTable()
    s = t.establish("imsi-001010000000001", ue_ipv4="10.45.0.2", seid=77)
    assert [x.supi for x in t.release(seid=77, now_ns=5)] == [s.supi]
    assert s.state is SessionState.RELEASED
    assert s.released_ns == 5
    m = t.classify(_batch([("10.45.0.2", "8.8.8.8", 100), ("8.8.8.8", "10.45.0.2", 50)]))
    assert not m.forwarded.any()
    assert m.dropped.tolist() == [True, True]
    assert (s.dropped_packets, s.dropped_bytes) == (2, 150)
    assert t.unmatched_packets == 0


def test_release_by_supi_or_ip_and_reuse_of_address() -> None:
    t = SessionTable()
    old = t.establish("imsi-001010000000001", ue_ipv4="10.45.0.2")
    with pytest.raises(ValueError, match="already used by active session"):
        t.establish("imsi-001010000000009", ue_ipv4="10.45.0.2")
    assert t.release(ip="10.45.0.2") == [old]
    assert t.release(supi="imsi-001010000000001") == []
    new = t.establish("imsi-001010000000009", ue_ipv4="10.45.0.2")
    m = t.classify(_batch([("10.45.0.2", "8.8.8.8", 10)]))
    assert m.session.tolist() == [new.index]
    assert m.forwarded.all()


def test_establish_rejects_bad_input() -> None:
    t = SessionTable()
    with pytest.raises(ValueError, match="needs ue_ipv4"):
        t.establish("imsi-001010000000001")
    with pytest.raises(ValueError, match="must be a /64"):
        t.establish("imsi-001010000000001", ue_ipv6_prefix="2001:db8::/48")
    with pytest.raises(ValueError, match="TEID"):
        t.establish("imsi-001010000000001", ue_ipv4="10.0.0.1", teid=0)
    t.establish("imsi-001010000000001", ue_ipv4="10.0.0.1", seid=3)
    with pytest.raises(ValueError, match="SEID 3"):
        t.establish("imsi-001010000000002", ue_ipv4="10.0.0.2", seid=3)
    with pytest.raises(ValueError, match="already has an active PDU session 1"):
        t.establish("imsi-001010000000001", ue_ipv4="10.0.0.3")
    with pytest.raises(ValueError, match="needs supi, seid or ip"):
        t.release()


def test_learn_sessions_creates_deterministic_sessions_for_private_sources() -> None:
    t = SessionTable(learn_sessions=True)
    m = t.classify(_batch([("8.8.8.8", "1.1.1.1", 1), ("192.168.1.20", "8.8.8.8", 1), ("10.0.0.5", "8.8.4.4", 1),
                           ("8.8.8.8", "192.168.1.20", 1), ("fd00::1", "2001:db8::1", 1)]))
    assert [s.supi for s in t.sessions] == ["imsi-001010000000001", "imsi-001010000000002", "imsi-001010000000003"]
    assert [s.ue_ipv4 for s in t.sessions[:2]] == ["192.168.1.20", "10.0.0.5"]
    assert t.sessions[2].ue_ipv6_prefix == "fd00::/64"
    assert all(s.learned for s in t.sessions)
    assert m.session.tolist() == [-1, 0, 1, 0, 2]
    assert m.direction.tolist() == [0, 1, 1, 2, 1]
    assert t.unmatched_packets == 1


def test_classification_of_many_sessions_matches_a_dict_lookup() -> None:
    rng = np.random.default_rng(0)
    t = SessionTable()
    ips = [f"10.45.{i // 250}.{i % 250 + 1}" for i in range(2000)]
    for i, ip in enumerate(ips):
        t.establish(f"imsi-00101{i:010d}", ue_ipv4=ip)
    pick = rng.integers(0, 2000, 500)
    b = _batch([(ips[k], "203.0.113.1", 60) for k in pick])
    assert t.classify(b).session.tolist() == pick.tolist()
