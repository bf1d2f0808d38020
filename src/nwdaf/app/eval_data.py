"""The labelled datasets ``nwdaf eval`` scores detection on, and how their ground truth is read.

Each case yields flow records in the flow schema with its labels plus ``attack_class`` (null for a flow that is not
an attack flow), the set of hosts whose attack flows are scored (``attackers``) and the verified-normal hosts. The
detector never sees these columns: :mod:`nwdaf.app.eval` drops them before detection and uses them only to score.

Ground truth, per source (documented in ``docs/detection.md``):

* CTU-13 scenarios 11 and 12 hold **bot flows only**; each is combined with one Stratosphere normal-host day (its
  benign host and the Internet hosts around it) shifted onto the bot timeline, so the bots are scored among benign
  hosts. The bots are the three infected hosts of both scenarios (147.32.84.165, .191, .192, per the CTU-13
  scenario descriptions); other sources of ``From-Botnet`` flows (Argus direction flips) are neither scored nor
  counted as false positives.
* IoT-23 34-1: ``Malicious`` flows per ``detailed-label``, combined with normal-host day 011 the same way.
* Stratosphere normal hosts: the host named in each README is verified normal; the ``External-Attack-to-Device``
  sources (Internet scanners, a few flows each) are attackers reported for information, not a target.
* CIC-IDS2017 random samples: per-flow sampling destroys time and host context; the unit is the flow.
* Slips pcaps: one attacker host per file, worked out from its README and traffic (see :data:`SLIPS_PCAPS`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import polars as pl

from nwdaf.lib.flows import LABEL_MALICIOUS, SkipReport, read_flows

ATTACK_CLASS: Final = "attack_class"
Split = Literal["tuning", "held-out"]

CTU13_BOTS: Final = frozenset({"147.32.84.165", "147.32.84.191", "147.32.84.192"})
NORMAL_HOSTS: Final = {"008": "147.32.81.167", "010": "147.32.83.234", "011": "147.32.83.165",
                       "012": "147.32.83.161"}
"""Stratosphere CTU-50 normal captures: file prefix -> the one verified-normal host (the datasets README)."""
INBOUND_SCAN: Final = "External-Attack-to-Device"

SLIPS_PCAPS: Final = {
    "test-cc__test-cc-capture-1.pcap": ("147.32.80.37", "C&C (TCP)"),
    "test-cc__test-cc-capture-2.pcap": ("147.32.80.37", "C&C (TCP+UDP)"),
    "test12-icmp-portscan.pcap": ("192.168.1.109", "ICMP sweep"),
    "test19-malicious-ssh__malicious-ssh-bruteforce.pcap": ("147.32.80.40", "SSH brute force"),
    "test7-malicious.pcap": ("192.168.2.16", "malware (scan-like fan-out)"),
    "test8-malicious.pcap": ("192.168.1.247", "malware"),
}
"""pcap -> (attacker host, attack class). test-cc: the only initiator, C&C to one server port; test12: the only
ICMP echo sender, to 18 addresses; test19: nmap ssh-brute from 147.32.80.40 to 147.32.80.37:902 (its README);
test7: the infected host, the only local host with traffic to >100 peers; test8: the one local sender."""


@dataclass(frozen=True)
class Labelled:
    """Flows with labels and ``attack_class``; the attackers scored; the verified-normal hosts (rows skipped are in
    the :class:`SkipReport` the loader was given)."""

    flows: pl.DataFrame
    attackers: frozenset[str]
    verified_normal: frozenset[str]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvalCase:
    name: str
    split: Split
    unit: Literal["host", "flow"]
    load: Callable[[Path, SkipReport], Labelled]
    note: str = ""


def _read(spec: str, skips: SkipReport) -> pl.DataFrame:
    """The importers' one bad-row policy: bad rows skipped and counted by reason in ``skips``."""
    return read_flows(spec, include_labels=True, skips=skips)


def _with_class(flows: pl.DataFrame, expr: pl.Expr) -> pl.DataFrame:
    return flows.with_columns(pl.when(pl.col("label") == LABEL_MALICIOUS).then(expr).alias(ATTACK_CLASS))


def normal_day(root: Path, prefix: str, skips: SkipReport) -> Labelled:
    path = root / "stratosphere_ctu_normal_hosts_zeek" / f"{prefix}-zeek-mixed.conn.log.labeled.gz"
    flows = _read(f"zeek:{path}", skips)
    flows = _with_class(flows, pl.lit(INBOUND_SCAN))
    scanners = flows.filter(pl.col(ATTACK_CLASS).is_not_null()).get_column("src_ip").unique().to_list()
    return Labelled(flows, frozenset(scanners), frozenset({NORMAL_HOSTS[prefix]}))


def _on_timeline(base: Labelled, day: Labelled) -> Labelled:
    """``day`` shifted so that it starts when ``base`` starts, stacked under ``base``."""
    offset = float(base.flows["start_ts"].min()) - float(day.flows["start_ts"].min())  # type: ignore[arg-type]
    shifted = day.flows.with_columns(pl.col("start_ts") + offset)
    flows = pl.concat([base.flows, shifted.select(base.flows.columns)], how="vertical_relaxed")
    return Labelled(flows, base.attackers | day.attackers, base.verified_normal | day.verified_normal,
                    (*base.notes, f"benign day shifted by {offset:+.0f} s"))


def ctu13(root: Path, capture: str, normal: str, skips: SkipReport) -> Labelled:
    flows = _read(f"binetflow:{root / 'ctu13_sc11_sc12_botnet_only' / capture}", skips)
    flows = _with_class(flows, pl.when(pl.col("src_ip").is_in(CTU13_BOTS)).then(pl.lit("bot")))
    others = flows.filter(pl.col("label") == LABEL_MALICIOUS).get_column("src_ip").unique().to_list()
    bots = Labelled(flows, frozenset(others), frozenset())
    return _on_timeline(bots, normal_day(root, normal, skips))


def iot23(root: Path, normal: str, skips: SkipReport) -> Labelled:
    flows = _read(f"zeek:{root / 'iot23_ctu_iot_malware_capture_34_1' / 'conn.log.labeled.gz'}", skips)
    flows = _with_class(flows, pl.col("label_detail"))
    attackers = flows.filter(pl.col(ATTACK_CLASS).is_not_null()).get_column("src_ip").unique().to_list()
    return _on_timeline(Labelled(flows, frozenset(attackers), frozenset()), normal_day(root, normal, skips))


def cicids(root: Path, skips: SkipReport) -> Labelled:
    flows = _read(f"cicflow:{root / 'cicids2017_improved_random_samples' / '*.csv.gz'}", skips)
    flows = _with_class(flows, pl.col("label_detail"))
    attackers = flows.filter(pl.col(ATTACK_CLASS).is_not_null()).get_column("src_ip").unique().to_list()
    return Labelled(flows, frozenset(attackers), frozenset(),
                    ("per-flow random samples: time and host context destroyed",))


def slips_conn(root: Path, skips: SkipReport) -> Labelled:
    path = root / "slips_test_pcaps" / "test18-malicious-ctu-sme-11-win__zeek-labeled__conn.log.labeled"
    flows = _read(f"zeek:{path}", skips)
    flows = _with_class(flows, pl.lit("RemcosRAT"))
    attackers = flows.filter(pl.col(ATTACK_CLASS).is_not_null()).get_column("src_ip").unique().to_list()
    return Labelled(flows, frozenset(attackers), frozenset())


def slips_pcaps(root: Path, skips: SkipReport) -> Labelled:
    """Every Slips pcap through the UPF data plane, its attacker's flows labelled with the file's class."""
    from nwdaf.lib.flows.upf_usage import pcap_flow_records

    parts: list[pl.DataFrame] = []
    for name, (attacker, klass) in SLIPS_PCAPS.items():
        flows = pcap_flow_records(root / "slips_test_pcaps" / name, skips=skips)
        mine = pl.col("src_ip") == attacker
        parts.append(flows.with_columns(
            pl.when(mine).then(pl.lit(LABEL_MALICIOUS)).alias("label"), pl.lit(None, pl.String).alias("label_detail"),
            pl.when(mine).then(pl.lit(klass)).alias(ATTACK_CLASS)))
    flows = pl.concat(parts, how="diagonal_relaxed")
    return Labelled(flows, frozenset(a for a, _ in SLIPS_PCAPS.values()), frozenset(),
                    ("captures years apart; windows never mix two files",))


CASES: Final = (
    EvalCase("ctu13-sc11+normal-008", "tuning", "host", lambda r, k: ctu13(r, "capture20110818-2.botnet_only"
                                                                         ".binetflow.gz", "008", k),
             "CTU-13 bot flows only + normal-host day 008 shifted onto them"),
    EvalCase("cicids2017-samples", "tuning", "flow", cicids, "random per-flow samples: context destroyed"),
    EvalCase("ctu13-sc12+normal-010", "held-out", "host", lambda r, k: ctu13(r, "capture20110819.botnet_only"
                                                                            ".binetflow.gz", "010", k),
             "CTU-13 bot flows only + normal-host day 010 shifted onto them"),
    EvalCase("iot23-34-1+normal-011", "held-out", "host", lambda r, k: iot23(r, "011", k),
             "IoT-23 capture 34-1 + normal-host day 011 shifted onto it"),
    EvalCase("normal-012", "held-out", "host", lambda r, k: normal_day(r, "012", k), "one benign host, 24 h"),
    EvalCase("slips-conn-test18", "held-out", "host", slips_conn, "RemcosRAT, hand-labelled Zeek conn.log"),
    EvalCase("slips-pcaps", "held-out", "host", slips_pcaps, "six pcaps, one attacker each"),
)
