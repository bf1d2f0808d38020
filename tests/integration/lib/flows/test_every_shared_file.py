"""Every file of ../shared/datasets reads to the end under the bad-row policy: each row (frame) is parsed or counted,
with the row counts of the datasets' README."""

from __future__ import annotations

import pytest
from tests.support.datasets import DATASETS, needs_datasets

from nwdaf.lib.flows import SkipReport, read_flows
from nwdaf.lib.flows.upf_usage import pcap_flow_records

pytestmark = [pytest.mark.integration, needs_datasets]

FLOW_FILES = [
    ("binetflow", "ctu13_sc11_sc12_botnet_only/capture20110818-2.botnet_only.binetflow.gz", 8164),
    ("binetflow", "ctu13_sc11_sc12_botnet_only/capture20110819.botnet_only.binetflow.gz", 2168),
    ("zeek", "iot23_ctu_iot_malware_capture_34_1/conn.log.labeled.gz", 23145),
    ("cicflow", "cicids2017_improved_random_samples", 43419),
    ("zeek", "slips_test_pcaps/test18-malicious-ctu-sme-11-win__zeek-labeled__conn.log.labeled", 766),
    ("zeek", "stratosphere_ctu_normal_hosts_zeek/008-zeek-mixed.conn.log.labeled.gz", 5663),
    ("zeek", "stratosphere_ctu_normal_hosts_zeek/010-zeek-mixed.conn.log.labeled.gz", 5347),
    ("zeek", "stratosphere_ctu_normal_hosts_zeek/011-zeek-mixed.conn.log.labeled.gz", 9048),
    ("zeek", "stratosphere_ctu_normal_hosts_zeek/012-zeek-mixed.conn.log.labeled.gz", 4740),
    ("zeek", "stratosphere_ctu_normal_hosts_zeek", 24798),
]
PCAPS = [
    ("test-cc__test-cc-capture-1.pcap", 7931),
    ("test-cc__test-cc-capture-2.pcap", 1084),
    ("test12-icmp-portscan.pcap", 37),
    ("test19-malicious-ssh__malicious-ssh-bruteforce.pcap", 1178),
    ("test7-malicious.pcap", 2000),
    ("test8-malicious.pcap", 534),
]


@pytest.mark.parametrize(("fmt", "where", "rows"), FLOW_FILES, ids=[w for _, w, _ in FLOW_FILES])
def test_flow_file_reads_to_the_end(fmt: str, where: str, rows: int) -> None:
    skips = SkipReport()
    flows = read_flows(f"{fmt}:{DATASETS / where}", skips=skips)
    assert skips.total_rows == rows, skips.summary()
    assert flows.height + skips.skipped == rows
    assert flows.height == rows, skips.summary()  # these files hold no malformed row
    assert not skips.failed_files
    assert flows["start_ts"].is_not_null().all()


@pytest.mark.parametrize(("name", "frames"), PCAPS, ids=[n for n, _ in PCAPS])
def test_capture_reads_to_the_end(name: str, frames: int) -> None:
    skips = SkipReport()
    flows = pcap_flow_records(DATASETS / "slips_test_pcaps" / name, skips=skips)
    assert skips.total_rows == frames, skips.summary()
    assert flows.height > 0
    assert set(skips.by_reason()) <= {"frame left out: non_ip"}  # ARP and the like, counted
