"""Sum the JUnit XML reports of every tier: per tier, per real server, then one closing line
'N passed, N failed, N skipped'.

Usage: junit-summary.py junit-unit.xml junit-contract.xml ... (the tier is the name after ``junit-``).

Exit status 1 when a test failed, a tier ran no test (none collected, or every one skipped), no test ran on the
real Kafka broker, or a Kafka test was skipped: a broker that did not start must not pass as a green run.

Which real server a testcase used: the ``real_server`` properties of the testcase when the run recorded them
(``item.user_properties.append(("real_server", "kafka"))``), else its id (``module::name[params]``), only in
the tiers that talk to real servers (tests.integration, tests.e2e):

* Kafka: a ``[kafka`` parameter (the shared bus suite), or ``kafka`` in the module name (test_kafka_bus_errors,
  test_kafka_service_script, test_sink_crash_kafka);
* ClickHouse / InfluxDB / MLflow: the server's name anywhere in the id, and the ``[server]`` parameter of the
  MTLF tests (the real MLflow tracking server);
* every server: ``real_servers`` in the test name (the e2e closed loop on Kafka + ClickHouse + InfluxDB + MLflow).

Counts found by name are a lower bound for a server whose tests do not say so in their id.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

TIER_ORDER = ("unit", "contract", "integration", "e2e")
SERVERS = ("kafka", "clickhouse", "influxdb", "mlflow")
REAL_SERVER_TIERS = ("tests.integration.", "tests.e2e.")
NAME_RULES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"\[kafka", re.I), ("kafka",)),
    (re.compile(r"kafka[^:]*::", re.I), ("kafka",)),  # the module name
    (re.compile(r"clickhouse", re.I), ("clickhouse",)),
    (re.compile(r"influxdb", re.I), ("influxdb",)),
    (re.compile(r"mlflow|\.mtlf\..*\[server\]", re.I), ("mlflow",)),
    (re.compile(r"::\w*real_servers"), SERVERS),
)
MAX_LISTED = 10
"""Skipped Kafka tests named one per line at most; the rest are counted."""


@dataclass(frozen=True)
class Case:
    tier: str
    test_id: str  # module::name[params]
    status: str  # passed | failed | skipped
    servers: frozenset[str]
    skip_reason: str = ""


def _status(case: ET.Element) -> tuple[str, str]:
    if case.find("failure") is not None or case.find("error") is not None:
        return "failed", ""
    skipped = case.find("skipped")
    if skipped is not None:
        return "skipped", skipped.get("message", "")
    return "passed", ""


def _servers(case: ET.Element, test_id: str) -> frozenset[str]:
    recorded = {p.get("value", "").lower() for p in case.iterfind("properties/property")
                if p.get("name") == "real_server"}
    if not test_id.startswith(REAL_SERVER_TIERS):
        return frozenset(recorded)
    # Properties name the servers of the fixtures a test declares; a fixture taken with getfixturevalue (the bus
    # suite's kafka parameter) is not declared, so the id rules still apply.
    named = {s for pattern, servers in NAME_RULES if pattern.search(test_id) for s in servers}
    return frozenset(recorded | named)


def tier_of(path: Path) -> str:
    return path.stem.rsplit("junit-", 1)[-1]


def read_cases(path: Path) -> list[Case]:
    tier = tier_of(path)
    cases = []
    for case in ET.parse(path).getroot().iter("testcase"):
        test_id = f"{case.get('classname', '')}::{case.get('name', '')}"
        status, reason = _status(case)
        cases.append(Case(tier, test_id, status, _servers(case, test_id), reason))
    return cases


def _header(label: str) -> str:
    return f"  {label:<12} {'ran':>5} {'passed':>6} {'failed':>6} {'skipped':>7}"


def _row(label: str, counts: Counter[str]) -> str:
    ran = counts["passed"] + counts["failed"]
    return f"  {label:<12} {ran:>5} {counts['passed']:>6} {counts['failed']:>6} {counts['skipped']:>7}"


def summarise(paths: list[Path]) -> tuple[list[str], list[str], Counter[str]]:
    """The report lines, the problems (each one fails the run) and the totals."""
    lines, problems, totals = [_header("tier")], [], Counter[str]()
    cases: list[Case] = []
    order = {tier: i for i, tier in enumerate(TIER_ORDER)}
    for path in sorted(paths, key=lambda p: (order.get(tier_of(p), len(order)), p.name)):
        try:
            tier_cases = read_cases(path)
        except (OSError, ET.ParseError) as exc:
            problems.append(f"cannot read {path}: {exc}")
            continue
        counts = Counter(c.status for c in tier_cases)
        tier = tier_of(path)
        lines.append(_row(tier, counts))
        if counts["passed"] + counts["failed"] == 0:
            problems.append(f"tier {tier}: no test ran ({counts['skipped']} skipped)")
        totals.update(counts)
        cases += tier_cases
    lines.append(_header("real server"))
    for server in SERVERS:
        on_server = [c for c in cases if server in c.servers]
        lines.append(_row(server, Counter(c.status for c in on_server)))
    kafka = [c for c in cases if "kafka" in c.servers]
    if not any(c.status != "skipped" for c in kafka):
        problems.append("no test ran on the real Kafka broker")
    skipped = [c for c in kafka if c.status == "skipped"]
    problems += [f"Kafka test skipped: {c.test_id} ({c.skip_reason})" for c in skipped[:MAX_LISTED]]
    if len(skipped) > MAX_LISTED:
        problems.append(f"... and {len(skipped) - MAX_LISTED} more Kafka tests skipped")
    if totals["failed"]:
        problems.append(f"{totals['failed']} failed")
    return lines, problems, totals


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: junit-summary.py JUNIT_XML...", file=sys.stderr)
        return 2
    lines, problems, totals = summarise([Path(a) for a in argv])
    print("\n".join(lines))
    for problem in problems:
        print(f"FAIL: {problem}")
    print(f"{totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
