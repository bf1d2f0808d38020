"""scripts/junit-summary.py on crafted JUnit XML: per-tier and per-real-server counts, the closing line, and a
non-zero exit when a test failed, a tier ran nothing, or the real Kafka broker ran no test or skipped one."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.unit

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "junit-summary.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("junit_summary", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


summary = _load()

PASS, SKIP = "", '<skipped type="pytest.skip" message="{}">skipped</skipped>'
FAIL = '<failure message="assert 0">boom</failure>'


def case(classname: str, name: str, body: str = PASS) -> str:
    return f'<testcase classname="{classname}" name="{name}" time="0.1">{body}</testcase>'


def junit(tmp_path: Path, tier: str, *cases: str) -> Path:
    path = tmp_path / f"junit-{tier}.xml"
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">'
        f'<testsuite name="pytest" tests="{len(cases)}">{"".join(cases)}</testsuite></testsuites>'
    )
    return path


BUS = "tests.integration.bus.test_bus_contract"
KAFKA_ERRORS = "tests.integration.bus.test_kafka_bus_errors"


def green_run(tmp_path: Path, *, kafka_body: str = PASS) -> list[Path]:
    return [
        junit(tmp_path, "unit", case("tests.unit.bus.test_kafka_backend", "test_producer_config"),
              case("tests.unit.config.test_config", "test_defaults"),
              case("tests.unit.x", "test_optional", SKIP.format("no dataset"))),
        junit(tmp_path, "contract", case("tests.contract.test_contract_nwdaf", "test_payload")),
        junit(tmp_path, "integration", case(BUS, "test_order[memory]"), case(BUS, "test_order[kafka]", kafka_body),
              case(KAFKA_ERRORS, "test_value_must_be_bytes"),
              case("tests.integration.storage.test_storage_real_backends", "test_write[clickhouse]"),
              case("tests.integration.storage.test_storage_real_backends", "test_write[influxdb]"),
              case("tests.integration.mtlf.test_provision_loop", "test_promote[server]"),
              case("tests.integration.mtlf.test_provision_loop", "test_promote[sqlite]")),
        junit(tmp_path, "e2e", case("tests.e2e.test_closed_loop", "test_closed_loop_on_real_servers")),
    ]


def rows(lines: list[str]) -> dict[str, list[int]]:
    """'  label  ran passed failed skipped' -> {label: [ran, passed, failed, skipped]} (real servers only)."""
    start = next(i for i, line in enumerate(lines) if "real server" in line)
    table = [line.split() for line in lines[start + 1:] if line.startswith("  ")]
    return {parts[0]: [int(p) for p in parts[1:]] for parts in table}


def test_green_run_counts_tiers_and_real_servers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert summary.main([str(p) for p in green_run(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "11 passed, 0 failed, 1 skipped"
    assert "FAIL" not in "\n".join(out)
    assert [line.split()[0] for line in out[1:5]] == ["unit", "contract", "integration", "e2e"]  # tier order
    servers = rows(out)
    assert servers["kafka"] == [3, 3, 0, 0]  # [kafka] param, the kafka module, the e2e run on real servers
    assert servers["clickhouse"] == [2, 2, 0, 0]
    assert servers["influxdb"] == [2, 2, 0, 0]
    assert servers["mlflow"] == [2, 2, 0, 0]


def test_unit_tests_named_kafka_are_not_real_broker_tests(tmp_path: Path) -> None:
    _, problems, _ = summary.summarise([junit(tmp_path, "unit", case("tests.unit.bus.test_kafka_backend", "t[kafka]"))])
    assert "no test ran on the real Kafka broker" in problems


def test_a_skipped_kafka_test_fails_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = green_run(tmp_path, kafka_body=SKIP.format("Kafka broker unavailable (NWDAF_SKIP_KAFKA=1)"))
    assert summary.main([str(p) for p in paths]) == 1
    out = capsys.readouterr().out.splitlines()
    assert f"FAIL: Kafka test skipped: {BUS}::test_order[kafka] (Kafka broker unavailable (NWDAF_SKIP_KAFKA=1))" in out
    assert out[-1] == "10 passed, 0 failed, 2 skipped"
    assert rows(out)["kafka"] == [2, 2, 0, 1]


def test_no_kafka_test_at_all_fails_the_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = junit(tmp_path, "integration", case(BUS, "test_order[memory]"))
    assert summary.main([str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "FAIL: no test ran on the real Kafka broker" in out
    assert out[-1] == "1 passed, 0 failed, 0 skipped"


def test_many_skipped_kafka_tests_are_listed_briefly(tmp_path: Path) -> None:
    cases = [case(BUS, f"test_{i}[kafka]", SKIP.format("no broker")) for i in range(15)]
    _, problems, _ = summary.summarise([junit(tmp_path, "integration", case(KAFKA_ERRORS, "test_ok"), *cases)])
    assert len([p for p in problems if p.startswith("Kafka test skipped")]) == summary.MAX_LISTED
    assert "... and 5 more Kafka tests skipped" in problems


def test_a_wholly_skipped_or_empty_tier_fails_the_run(tmp_path: Path) -> None:
    paths = green_run(tmp_path)
    paths[3] = junit(tmp_path, "e2e", case("tests.e2e.test_closed_loop", "test_embedded", SKIP.format("x")))
    _, problems, _ = summary.summarise(paths)
    assert problems == ["tier e2e: no test ran (1 skipped)"]
    paths[1] = junit(tmp_path, "contract")
    _, problems, _ = summary.summarise(paths)
    assert "tier contract: no test ran (0 skipped)" in problems


def test_failures_and_errors_count_once_per_test(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = green_run(tmp_path, kafka_body=FAIL + '<error message="teardown">x</error>')
    assert summary.main([str(p) for p in paths]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "10 passed, 1 failed, 1 skipped"
    assert "FAIL: 1 failed" in out
    assert rows(out)["kafka"] == [3, 2, 1, 0]  # a failed Kafka test still ran on the broker


def test_recorded_real_server_properties_add_to_the_name(tmp_path: Path) -> None:
    props = '<properties><property name="real_server" value="kafka"/><property name="real_server" ' \
            'value="clickhouse"/></properties>'
    mlflow = '<properties><property name="real_server" value="mlflow"/></properties>'
    path = junit(tmp_path, "integration", case("tests.integration.storage.test_sink", "test_crash", props),
                 case(BUS, "test_x[kafka]", mlflow), case("tests.unit.x", "test_y", mlflow))
    cases = summary.read_cases(path)
    assert [sorted(c.servers) for c in cases] == [["clickhouse", "kafka"], ["kafka", "mlflow"], ["mlflow"]]


def test_unreadable_report_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    paths = green_run(tmp_path)
    broken = paths[0]
    broken.write_text("<testsuites><testsuite>")
    _, problems, _ = summary.summarise([*paths, tmp_path / "junit-missing.xml"])
    assert any(p.startswith(f"cannot read {broken}") for p in problems)
    assert any("junit-missing.xml" in p for p in problems)


def test_command_line_exit_status_and_closing_line(tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, str(SCRIPT), *map(str, green_run(tmp_path))],
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.splitlines()[-1] == "11 passed, 0 failed, 1 skipped"
    usage = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, check=False)
    assert usage.returncode == 2
