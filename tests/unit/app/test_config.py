"""Configuration: YAML + NWDAF_ environment, errors that name the field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from nwdaf.app.config import ConfigError, Settings, load_settings
from nwdaf.lib.dataplane import AccountingConfig
from nwdaf.lib.flows import FORMATS as FLOW_FORMATS
from nwdaf.nf.mtlf.config import MtlfConfig
from nwdaf.nf.upf.config import FORMATS, AccountingSettings

pytestmark = pytest.mark.unit

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "nwdaf.example.yaml"


def test_defaults_are_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NWDAF_BUS__URL", raising=False)
    settings = load_settings()
    assert settings.bus.url == "memory://"
    assert settings.storage.warehouse_url.startswith("chdb://")


def test_yaml_file_then_env_then_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("bus:\n  url: kafka://127.0.0.1:9092\n  partitions: 8\nlogging:\n  level: DEBUG\n")
    assert load_settings(cfg).bus.partitions == 8
    monkeypatch.setenv("NWDAF_BUS__PARTITIONS", "2")
    settings = load_settings(cfg)
    assert settings.bus.partitions == 2
    assert settings.bus.url == "kafka://127.0.0.1:9092"
    assert settings.logging.level == "DEBUG"
    assert load_settings(cfg, bus={"partitions": 3}).bus.partitions == 3


def test_errors_name_the_field(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("bus:\n  url: rabbit://x\nnwdaf_sbi:\n  port: 70000\n")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    text = str(err.value)
    assert "bus.url" in text
    assert "nwdaf_sbi.port" in text


def test_unknown_key_is_rejected(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("buss:\n  url: memory://\n")
    with pytest.raises(ConfigError, match="buss"):
        load_settings(cfg)


def test_bad_env_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NWDAF_BUS__PARTITIONS", "lots")
    with pytest.raises(ConfigError, match=r"bus\.partitions"):
        load_settings()


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("bus: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(bad)


def test_documented_example_is_valid() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.instance_id


def test_documented_example_names_every_section() -> None:
    """The example documents every top-level field of Settings (a new section must be added there too)."""
    documented = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    missing = sorted(set(Settings.model_fields) - set(documented))
    assert not missing, f"config/nwdaf.example.yaml does not document: {', '.join(missing)}"


def test_documented_example_shows_the_defaults() -> None:
    """The example's header says every value is the default; keep it true."""
    assert load_settings(EXAMPLE) == load_settings()


def test_env_equal_to_the_default_still_beats_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: env values were dumped with exclude_defaults, so a default-valued env var lost to the YAML."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "bus:\n  partitions: 8\nlogging:\n  json_logs: true\nstorage:\n  sink:\n    consumers: 8\n    max_rows: 10\n"
    )
    defaults = load_settings()
    monkeypatch.setenv("NWDAF_BUS__PARTITIONS", str(defaults.bus.partitions))
    monkeypatch.setenv("NWDAF_LOGGING__JSON_LOGS", "false")
    monkeypatch.setenv("NWDAF_STORAGE__SINK__CONSUMERS", str(defaults.storage.sink.consumers))
    settings = load_settings(cfg)
    assert settings.bus.partitions == defaults.bus.partitions
    assert settings.logging.json_logs is False
    assert settings.storage.sink.consumers == defaults.storage.sink.consumers
    assert settings.storage.sink.max_rows == 10  # the file's sibling keys are kept


def test_commented_list_entries_of_the_example_are_valid(tmp_path: Path) -> None:
    """The example shows list entries (collector.upf_ee, upf.sessions ...) as comments under ``key: []``; with the
    comment marks removed they must load too."""
    lines: list[str] = []
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        entry = re.fullmatch(r"(\s*)# ( +(?:- |  ).*)", line)  # "  #  - key: v" / "  #    key: v"
        if entry is None:
            lines.append(line)
            continue
        if ": []" in lines[-1]:  # the first entry: the empty list above becomes the list holding it
            lines[-1] = lines[-1].replace(": []", ":", 1)
        lines.append(entry.group(1) + entry.group(2))
    uncommented = tmp_path / "uncommented.yaml"
    uncommented.write_text("\n".join(lines) + "\n")
    settings = load_settings(uncommented)
    lists = [settings.collector.upf_ee, settings.collector.smf_ee, settings.collector.amf_ee, settings.upf.sessions]
    assert all(len(entries) == 1 for entries in lists), lists


def test_every_section_is_settable_from_yaml_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The MTLF section was once outside Settings: its fields could be set neither from YAML nor the environment.
    cfg = tmp_path / "c.yaml"
    cfg.write_text("mtlf:\n  poll_s: 0.5\n  store_file: m.sqlite3\n")
    monkeypatch.setenv("NWDAF_MTLF__NOTIFY_ATTEMPTS", "7")
    settings = load_settings(cfg)
    assert (settings.mtlf.poll_s, settings.mtlf.store_file, settings.mtlf.notify_attempts) == (0.5, "m.sqlite3", 7)
    for name, field in Settings.model_fields.items():
        if isinstance(field.default, BaseModel):
            assert name in yaml.safe_load(EXAMPLE.read_text()), f"section {name} missing from the example"


def test_the_mtlf_section_reaches_the_service() -> None:
    settings = Settings(data_dir=Path("/data"), mtlf={"poll_s": 0.25, "notify_attempts": 5})
    config = MtlfConfig.from_settings(settings, settings.mtlf)
    assert (config.poll_s, config.notify_attempts) == (0.25, 5)
    assert config.store_path == Path("/data/mtlf-subscriptions.sqlite3")
    assert config.tracking_uri == settings.ml.tracking_uri


def test_upf_section_mirrors_the_data_plane_parameters() -> None:
    # The UPF section is a leaf (no data plane import): its copies of the data plane's names must not drift.
    assert set(FORMATS) == set(FLOW_FORMATS)
    assert AccountingSettings().model_dump() == AccountingConfig().model_dump()
    assert {n: f.description for n, f in AccountingSettings.model_fields.items()} == {
        n: f.description for n, f in AccountingConfig.model_fields.items()}
