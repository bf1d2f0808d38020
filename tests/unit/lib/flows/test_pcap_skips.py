"""Captures under the bad-row policy: frames the data plane leaves out are counted by reason, and a capture whose
records break off keeps the packets before the fault (counted), or fails with ``strict``."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from nwdaf.lib.dataplane.writer import write_pcap
from nwdaf.lib.flows import BadRowError, SkipReport
from nwdaf.lib.flows.upf_usage import pcap_flow_records

pytestmark = pytest.mark.unit

MAC = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02"


def udp_frame(sport: int) -> bytes:
    payload = b"x" * 20
    udp = struct.pack("!HHHH", sport, 53, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, bytes([10, 0, 0, 1]),
                     bytes([8, 8, 8, 8])) + udp
    return MAC + b"\x08\x00" + ip


def arp_frame() -> bytes:
    return MAC + b"\x08\x06" + b"\x00" * 28


def capture(tmp_path: Path, tail: bytes = b"") -> Path:
    path = tmp_path / "c.pcap"
    t0 = 1_700_000_000 * 10**9
    frames = [(t0 + i * 10**6, udp_frame(40000 + i % 3)) for i in range(6)] + [(t0 + 7 * 10**6, arp_frame())]
    write_pcap(path, frames)
    with path.open("ab") as fh:
        fh.write(tail)
    return path


def test_frames_left_out_are_counted(tmp_path: Path) -> None:
    skips = SkipReport(strict=True)  # a frame that is not IP is no malformed row: counted, not fatal
    flows = pcap_flow_records(capture(tmp_path), skips=skips)
    assert flows.height > 0
    assert skips.summary() == "skipped 1 of 7 frames: frame left out: non_ip ×1"


def test_a_capture_that_breaks_off_keeps_what_came_before(tmp_path: Path) -> None:
    path = capture(tmp_path, tail=b"\x01\x02\x03\x04\x05")  # a cut record header
    skips = SkipReport()
    flows = pcap_flow_records(path, skips=skips)
    assert flows.height > 0
    assert skips.total_rows == 7
    [reason] = [r for r in skips.by_reason() if r.startswith("capture breaks off")]
    assert skips.by_reason()[reason][0] == 1
    with pytest.raises(BadRowError, match=r"c\.pcap: capture breaks off at byte"):
        pcap_flow_records(path, skips=SkipReport(strict=True))
