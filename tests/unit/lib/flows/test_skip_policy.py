"""The one bad-row policy: SkipReport counts by reason with first lines, strict raises BadRowError, specs take a
file, a glob or a directory, and nothing is lost to an encoding or a cut gzip stream."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import pytest

from nwdaf.lib.flows import BadRowError, FlowFormatError, SkipReport, flow_paths, read_flows
from nwdaf.lib.flows.skips import reason_kind

pytestmark = pytest.mark.unit

HEADER = "StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,TotPkts,TotBytes,SrcBytes,Label"
GOOD = "2011/08/18 15:47:57.98,0.1,udp,10.0.0.1,1025,<->,10.0.0.2,53,CON,2,203,64,flow=From-Botnet-1"


def bad_port(n: int) -> str:
    return GOOD.replace(",1025,", f",x{n},")


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_reason_kind_drops_the_value() -> None:
    assert reason_kind("column dst_port: expected a port, got '0xzz'") == "column dst_port: expected a port"
    assert reason_kind("expected 13 fields, found 1") == "expected 13 fields"
    assert reason_kind("not valid") == "not valid"


def test_skips_are_counted_by_reason_with_first_lines(tmp_path: Path) -> None:
    lines = [HEADER, GOOD, *[bad_port(i) for i in range(7)], "garbage", GOOD]
    path = write(tmp_path / "a.binetflow", lines)
    skips = SkipReport()
    flows = read_flows(f"binetflow:{path}", skips=skips)
    assert flows.height == 2
    assert (skips.total_rows, skips.skipped) == (10, 8)
    reasons = skips.files[str(path)].reasons
    assert reasons["column src_port: expected a port"].count == 7
    assert reasons["column src_port: expected a port"].lines == [3, 4, 5, 6, 7]
    assert reasons["expected 13 fields"].lines == [10]
    assert skips.summary() == ("skipped 8 of 10 rows: column src_port: expected a port ×7 (lines 3, 4, 5, 6, 7, …); "
                               "expected 13 fields ×1 (line 10)")
    as_dict = skips.as_dict()
    assert as_dict["skipped"] == 8
    assert as_dict["files"][0]["reasons"]["expected 13 fields"] == {"count": 1, "lines": [10]}


def test_strict_fails_at_the_first_bad_row(tmp_path: Path) -> None:
    path = write(tmp_path / "a.binetflow", [HEADER, GOOD, bad_port(1), GOOD])
    for kwargs in ({"strict": True}, {"skips": SkipReport(strict=True)}):
        with pytest.raises(BadRowError, match=r"a\.binetflow:3: column src_port: expected a port, got 'x1'") as exc:
            read_flows(f"binetflow:{path}", **kwargs)  # type: ignore[call-overload]
        assert (exc.value.line, exc.value.path) == (3, str(path))
        assert isinstance(exc.value, ValueError)


def test_without_a_report_skips_are_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path / "a.binetflow", [HEADER, GOOD, bad_port(1)])
    with caplog.at_level(logging.WARNING, "nwdaf.flows"):
        assert read_flows(f"binetflow:{path}").height == 1
    assert "skipped 1 of 2 rows: column src_port: expected a port ×1 (line 3)" in caplog.text


def test_directory_glob_and_file_specs(tmp_path: Path) -> None:
    write(tmp_path / "b.binetflow", [HEADER, GOOD])
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.binetflow.gz").write_bytes(gzip.compress(f"{HEADER}\n{GOOD}\n{GOOD}\n".encode()))
    write(tmp_path / "README.md", ["# not a flow file"])
    write(tmp_path / ".hidden.binetflow", ["junk"])
    fmt, paths = flow_paths(f"binetflow:{tmp_path}")
    assert fmt == "binetflow"
    assert [p.name for p in paths] == ["b.binetflow", "a.binetflow.gz"]
    assert read_flows(f"binetflow:{tmp_path}").height == 3
    assert read_flows(f"binetflow:{tmp_path}/*.binetflow").height == 1
    with pytest.raises(FileNotFoundError, match="holds no zeek file"):
        read_flows(f"zeek:{tmp_path}")


def test_an_unreadable_file_among_others_is_left_out_and_reported(tmp_path: Path) -> None:
    write(tmp_path / "a.binetflow", [HEADER, GOOD])
    write(tmp_path / "b.binetflow", ["Foo,Bar", "1,2"])
    skips = SkipReport()
    assert read_flows(f"binetflow:{tmp_path}", skips=skips).height == 1
    assert skips.failed_files == [str(tmp_path / "b.binetflow")]
    assert "unreadable, left out:" in skips.summary()
    assert "header lacks column(s)" in skips.summary()
    with pytest.raises(FlowFormatError, match="header lacks"):
        read_flows(f"binetflow:{tmp_path}", strict=True)
    with pytest.raises(FlowFormatError, match="header lacks"):
        read_flows(f"binetflow:{tmp_path}/b.binetflow")


def test_windows_1252_lines_are_read_not_lost(tmp_path: Path) -> None:
    row = GOOD.replace("flow=From-Botnet-1", "Web Attack \x96 Brute Force").encode("latin-1")
    path = tmp_path / "cp.binetflow"
    path.write_bytes(f"{HEADER}\n{GOOD}\n".encode() + row + b"\n")
    flows = read_flows(f"binetflow:{path}")
    assert flows["label_detail"].to_list() == ["flow=From-Botnet-1", "Web Attack – Brute Force"]


def test_a_cut_gzip_stream_keeps_what_it_holds(tmp_path: Path) -> None:
    body = "\n".join([HEADER, *[GOOD] * 2000]).encode()
    path = tmp_path / "cut.binetflow.gz"
    whole = gzip.compress(body)
    path.write_bytes(whole[: len(whole) // 2])
    skips = SkipReport()
    flows = read_flows(f"binetflow:{path}", skips=skips)
    assert 0 < flows.height < 2000
    assert skips.skipped == 1
    assert "last line of a damaged gzip stream (cut short or corrupt) ×1" in skips.summary()
    assert flows.height + skips.skipped == skips.total_rows


def test_a_later_zeek_header_with_other_columns_is_a_counted_row(tmp_path: Path) -> None:
    fields = ["ts", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto"]
    row = "1545403816.9\t10.0.0.1\t41040\t10.0.0.2\t80\ttcp"
    lines = ["#separator \\x09", "#fields\t" + "\t".join(fields), row, "#fields\tts\tuid", row]
    skips = SkipReport()
    assert read_flows(f"zeek:{write(tmp_path / 'conn.log', lines)}", skips=skips).height == 2
    assert skips.files[str(tmp_path / "conn.log")].reasons["a second '#fields' header with other columns"].lines == [4]


def test_concatenated_gzip_members_and_a_corrupt_middle(tmp_path: Path) -> None:
    path = tmp_path / "two.binetflow.gz"
    path.write_bytes(gzip.compress(f"{HEADER}\n{GOOD}\n".encode()) + gzip.compress(f"{GOOD}\n".encode()))
    assert read_flows(f"binetflow:{path}", strict=True).height == 2
    body = "\n".join([HEADER, *[GOOD.replace(",1025,", f",{i * 7919 % 65536},") for i in range(50000)]]).encode()
    whole = bytearray(gzip.compress(body))
    whole[len(whole) * 3 // 4] ^= 0xFF
    path.write_bytes(bytes(whole))
    skips = SkipReport()
    flows = read_flows(f"binetflow:{path}", skips=skips)
    assert flows.height + skips.skipped == skips.total_rows
    assert 0 < flows.height < 50000
    assert "damaged gzip stream" in skips.summary()
