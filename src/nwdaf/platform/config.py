"""The settings every NF shares (bus, SBI endpoints and client, model registry, logging) and the loader.

Precedence (highest first): explicit overrides, ``NWDAF_*`` environment (nested with ``__``, e.g.
``NWDAF_BUS__URL=kafka://127.0.0.1:9092``), the YAML file, the defaults (the embedded defaults). The application's
:class:`nwdaf.app.config.Settings` adds one section per NF to :class:`CoreSettings`; an NF receives the core part
through its :class:`~nwdaf.platform.nf.ServiceContext` and its own section from the application, never the sections
of other NFs. The object is built once by the CLI and passed in; nothing reads settings at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


class ConfigError(ValueError):
    """Invalid configuration; the message names every offending field."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BusSettings(_Section):
    """Event bus backend: ``memory://`` (embedded) or ``kafka://host:port[,host:port]``."""

    url: str = "memory://"
    partitions: int = Field(4, ge=1, le=256)
    namespace: str = Field("", pattern=r"^[A-Za-z0-9._-]{0,120}$")
    """Prefix for every topic and consumer group (e.g. ``"lab-a."``): deployments sharing one Kafka stay apart."""

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, v: str) -> str:
        if not (v.startswith("memory://") or v.startswith("kafka://")):
            raise ValueError("must start with memory:// or kafka://")
        return v


class SbiEndpoint(_Section):
    """Where one NF's service-based interface listens (HTTP/2 cleartext and HTTP/1.1 on the same port)."""

    host: str = "127.0.0.1"
    port: int = Field(0, ge=0, le=65535)
    api_root: str = ""

    def base_url(self) -> str:
        return self.api_root or f"http://{self.host}:{self.port}"


class SbiClientSettings(_Section):
    """Outbound SBI calls: timeouts and retries."""

    timeout_s: float = Field(5.0, gt=0)
    retries: int = Field(2, ge=0, le=10)
    backoff_s: float = Field(0.2, ge=0)
    h2c_prior_knowledge: bool = False
    """Speak HTTP/2 without upgrade to ``http://`` peers (all NFs here do); off = HTTP/1.1, h2 over TLS by ALPN."""


class MlSettings(_Section):
    """Model registry: MLflow tracking URI (sqlite file embedded, ``http://`` for a server)."""

    tracking_uri: str = "sqlite:///.run/mlflow.db"
    artifact_root: str = "./.run/mlartifacts"


class LoggingSettings(_Section):
    """Log level and format (one JSON object per line with ``json_logs``)."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_logs: bool = False


class CoreSettings(BaseSettings):
    """The sections every NF may read; :class:`nwdaf.app.config.Settings` adds the NF sections."""

    model_config = SettingsConfigDict(env_prefix="NWDAF_", env_nested_delimiter="__", extra="forbid")

    instance_id: str = "nwdaf-1"
    data_dir: Path = Path(".run")
    bus: BusSettings = BusSettings()
    sbi_client: SbiClientSettings = SbiClientSettings()
    nwdaf_sbi: SbiEndpoint = SbiEndpoint(port=8080)
    upf_sbi: SbiEndpoint = SbiEndpoint(port=8081)
    smf_sbi: SbiEndpoint = SbiEndpoint(port=8082)
    ml: MlSettings = MlSettings()
    logging: LoggingSettings = LoggingSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _format_errors(exc: ValidationError, origin: str) -> str:
    lines = [f"invalid configuration ({origin}):"]
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "<root>"
        lines.append(f"  {where}: {err['msg']} (got {err.get('input')!r})")
    return "\n".join(lines)


S = TypeVar("S", bound=CoreSettings)


def load_config(cls: type[S], path: Path | None = None, **overrides: Any) -> S:
    """Build and validate ``cls`` from ``path``, the environment and ``overrides``; raises :class:`ConfigError`
    naming each bad field."""
    data: dict[str, Any] = {}
    origin = "defaults + NWDAF_* environment"
    if path is not None:
        origin = f"{path} + NWDAF_* environment"
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {path} must hold a mapping at the top level")
        data = loaded
    try:
        # Environment wins over the file, explicit overrides win over both. Only the fields the environment set
        # (exclude_unset, not exclude_defaults: NWDAF_BUS__PARTITIONS=4 must beat a file's 8 although 4 is the default).
        env_only = cls()
        merged = _deep_merge(_deep_merge(data, env_only.model_dump(exclude_unset=True)), overrides)
        return cls(**merged)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, origin)) from exc
