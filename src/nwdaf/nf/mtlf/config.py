"""The MTLF's settings: the ``mtlf`` section (:class:`MtlfSettings`) and the provisioning service's run-time
configuration (:class:`MtlfConfig`: the section plus the registry and data directory of the core settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from nwdaf.platform.config import CoreSettings


class MtlfSettings(BaseModel):
    """The ``mtlf`` section: the Nnwdaf_MLModelProvision subscription store, registry polling, notification retries."""

    model_config = ConfigDict(extra="forbid")

    store_file: str = "mtlf-subscriptions.sqlite3"
    """SQLite file (relative to ``data_dir``) holding the Nnwdaf_MLModelProvision subscriptions."""
    poll_s: float = Field(5.0, gt=0)
    """How often the registry is checked for champion changes made elsewhere (CLI, another MTLF)."""
    notify_attempts: int = Field(3, ge=1, le=10)
    notify_backoff_s: float = Field(0.2, ge=0)


class MtlfConfig(MtlfSettings):
    """The NWDAF containing MTLF at run time: registry, subscription store, notification delivery."""

    tracking_uri: str = "sqlite:///.run/mlflow.db"
    artifact_root: str = "./.run/mlartifacts"
    data_dir: Path = Path(".run")

    @property
    def store_path(self) -> Path:
        return self.data_dir / self.store_file

    @property
    def artifact_cache(self) -> Path:
        return self.data_dir / "mtlf" / "artifacts"

    @classmethod
    def from_settings(cls, settings: CoreSettings, section: MtlfSettings | None = None, **values: Any) -> MtlfConfig:
        """The ``mtlf`` section (defaults when absent) with the registry and data directory of ``settings``;
        explicit ``values`` win."""
        defaults: dict[str, Any] = {
            **(section or MtlfSettings()).model_dump(),
            "tracking_uri": settings.ml.tracking_uri,
            "artifact_root": settings.ml.artifact_root,
            "data_dir": settings.data_dir,
        }
        return cls(**{**defaults, **values})
