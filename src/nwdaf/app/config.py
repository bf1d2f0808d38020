"""The application's settings: the core sections every NF shares plus one section per NF.

Loaded once by the CLI (:func:`load_settings`: YAML file + ``NWDAF_`` environment, see
:mod:`nwdaf.platform.config` for the precedence) and passed in; the runtime hands each NF its own section.
``config/nwdaf.example.yaml`` documents every field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nwdaf.nf.anlf.config import AnlfSettings
from nwdaf.nf.collector.config import CollectorSettings
from nwdaf.nf.engines.config import EngineSettings
from nwdaf.nf.mtlf.config import MtlfSettings
from nwdaf.nf.processor.config import ProcessorSettings
from nwdaf.nf.smf.config import SmfSettings
from nwdaf.nf.storage.config import StorageSettings
from nwdaf.nf.upf.config import UpfConfig
from nwdaf.platform.config import (
    BusSettings,
    ConfigError,
    CoreSettings,
    LoggingSettings,
    MlSettings,
    SbiClientSettings,
    SbiEndpoint,
    load_config,
)

__all__ = [
    "BusSettings",
    "ConfigError",
    "LoggingSettings",
    "MlSettings",
    "SbiClientSettings",
    "SbiEndpoint",
    "Settings",
    "load_settings",
]


class Settings(CoreSettings):
    """The whole configuration; see ``config/nwdaf.example.yaml`` for a documented example."""

    storage: StorageSettings = StorageSettings()
    collector: CollectorSettings = CollectorSettings()
    processor: ProcessorSettings = ProcessorSettings()
    engines: EngineSettings = EngineSettings()
    anlf: AnlfSettings = AnlfSettings()
    mtlf: MtlfSettings = MtlfSettings()
    upf: UpfConfig = UpfConfig()
    smf: SmfSettings = SmfSettings()


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Build and validate the settings; raises :class:`ConfigError` naming each bad field."""
    return load_config(Settings, path, **overrides)
