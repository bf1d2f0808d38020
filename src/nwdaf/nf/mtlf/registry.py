"""The model registry: MLflow, by tracking URI (``sqlite:///FILE`` embedded with a local artifact root, ``http://``
for a tracking server). One registered model per analytics (``nwdafEvent`` tag), versions with aliases
``champion`` (provisioned) and ``challenger`` (candidate); promotions are recorded so ``rollback`` can return to
the previous champion.
"""

from __future__ import annotations

import json
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from mlflow import MlflowClient
from mlflow.artifacts import download_artifacts
from mlflow.exceptions import MlflowException

from nwdaf.lib.ml.bundle import sha256_hex

CHAMPION: Final = "champion"
CHALLENGER: Final = "challenger"
EXPERIMENT: Final = "nwdaf-mtlf"
HISTORY_TAG: Final = "championHistory"
TRANSITION_TAG: Final = "lastTransition"
BUNDLE_PATH: Final = "provision/model.skops"


class RegistryError(LookupError):
    """Unknown model or version, or an operation the registry state does not allow (e.g. nothing to roll back)."""


class RegistryConflictError(RegistryError):
    """The registry state does not allow the operation (nothing to roll back to)."""


@dataclass(frozen=True)
class ModelVersionInfo:
    """One registered model version as the MTLF sees it."""

    name: str
    version: str
    run_id: str | None
    aliases: tuple[str, ...]
    tags: dict[str, str]
    created: datetime

    @property
    def sha256(self) -> str:
        return self.tags.get("sha256", "")

    @property
    def exception_ids(self) -> tuple[str, ...]:
        return tuple(e for e in self.tags.get("exceptionId", "").split(",") if e)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "runId": self.run_id, "aliases": list(self.aliases),
                "tags": self.tags, "created": self.created.isoformat()}


@dataclass(frozen=True)
class RegisteredVersion:
    name: str
    version: str
    run_id: str


class _QuietWarnings:
    """Warnings silenced while any thread is inside :func:`quiet`.

    ``warnings.catch_warnings`` saves and restores the process-wide filters, so two threads using it restore each
    other's filters (one thread then ran MLflow under the other's filters). Here the first thread in saves them and
    the last one out restores them; in between every thread is silenced. One per process, like the filters it guards.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._saved: Any = []

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._depth == 0:  # as catch_warnings does: keep the list, work on a copy
                self._saved = warnings.filters
                warnings.filters = list(self._saved)
                warnings.simplefilter("ignore")
            self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0:
                    warnings.filters = self._saved
                    warnings._filters_mutated()  # type: ignore[attr-defined]  # as catch_warnings does


quiet = _QuietWarnings()
"""``with quiet():`` — MLflow's chatter (deprecations, "no input example"...) is not the NF's output."""


class ModelRegistry:
    """Narrow facade over ``MlflowClient``: what training, provisioning and the admin API need."""

    def __init__(self, tracking_uri: str, artifact_root: str, experiment: str = EXPERIMENT) -> None:
        self.tracking_uri = tracking_uri
        self.artifact_root = artifact_root
        self._experiment_name = experiment
        self._experiment_id: str | None = None
        self._lock = threading.Lock()
        if tracking_uri.startswith("sqlite:///"):
            Path(tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        with quiet():
            self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)

    # --- experiment and runs -------------------------------------------------------------------------------

    def experiment_id(self) -> str:
        with self._lock:
            if self._experiment_id is None:
                self._experiment_id = self._get_or_create_experiment()
            return self._experiment_id

    def _get_or_create_experiment(self) -> str:
        with quiet():
            found = self.client.get_experiment_by_name(self._experiment_name)
            if found is not None:
                return str(found.experiment_id)
            location = None
            if not self.tracking_uri.startswith(("http://", "https://")):
                # Embedded store: artifacts in the configured local root (a server chooses its own).
                root = Path(self.artifact_root).resolve()
                root.mkdir(parents=True, exist_ok=True)
                location = root.as_uri()
            return str(self.client.create_experiment(self._experiment_name, artifact_location=location))

    def runs(self, limit: int = 50) -> list[dict[str, Any]]:
        """The training run log, newest first: status, params, metrics, tags."""
        with quiet():
            found = self.client.search_runs([self.experiment_id()], max_results=limit,
                                            order_by=["attributes.start_time DESC"])
        return [
            {"runId": r.info.run_id, "status": r.info.status, "start": _ms(r.info.start_time).isoformat(),
             "params": dict(r.data.params), "metrics": dict(r.data.metrics),
             "tags": {k: v for k, v in r.data.tags.items() if not k.startswith("mlflow.")}}
            for r in found
        ]

    # --- versions and aliases -------------------------------------------------------------------------------

    def models(self) -> list[dict[str, Any]]:
        with quiet():
            found = self.client.search_registered_models(max_results=1000)
        return [{"name": m.name, "aliases": dict(m.aliases or {}), "tags": dict(m.tags or {}),
                 "latestVersion": max((int(v.version) for v in m.latest_versions or ()), default=None)}
                for m in found]

    def versions(self, name: str) -> list[ModelVersionInfo]:
        with quiet():
            found = self.client.search_model_versions(f"name = '{_quote(name)}'")
        if not found:
            raise RegistryError(f"no registered model {name!r}")
        with quiet():
            aliases = dict(self.client.get_registered_model(name).aliases or {})
        infos = [_info(v, tuple(a for a, ver in aliases.items() if str(ver) == str(v.version))) for v in found]
        return sorted(infos, key=lambda v: int(v.version))

    def version(self, name: str, version: str) -> ModelVersionInfo:
        try:
            with quiet():
                return _info(self.client.get_model_version(name, str(version)))
        except MlflowException as exc:
            raise RegistryError(f"no version {version} of model {name!r}") from exc

    def by_alias(self, name: str, alias: str) -> ModelVersionInfo | None:
        try:
            with quiet():
                return _info(self.client.get_model_version_by_alias(name, alias))
        except MlflowException:
            return None

    def champion(self, name: str) -> ModelVersionInfo | None:
        return self.by_alias(name, CHAMPION)

    def champions(self) -> dict[str, ModelVersionInfo]:
        """Current champion of every registered model (models without one are absent)."""
        out: dict[str, ModelVersionInfo] = {}
        for model in self.models():
            if CHAMPION in model["aliases"]:
                out[model["name"]] = self.version(model["name"], model["aliases"][CHAMPION])
        return out

    def set_challenger(self, name: str, version: str) -> ModelVersionInfo:
        self.version(name, version)
        with quiet():
            self.client.set_registered_model_alias(name, CHALLENGER, str(version))
        return self.version(name, version)

    def promote(self, name: str, version: str) -> ModelVersionInfo:
        """Make ``version`` the champion; the previous champion is kept in the history for :meth:`rollback`."""
        target = self.version(name, str(version))
        current = self.champion(name)
        if current is not None and current.version == target.version:
            return target
        history = self._history(name, current)
        history.append(target.version)
        with quiet():
            self.client.set_registered_model_alias(name, CHAMPION, target.version)
            if CHALLENGER in target.aliases:
                self.client.delete_registered_model_alias(name, CHALLENGER)
            self.client.set_model_version_tag(name, target.version, "promotedAt", _now())
            if current is not None:
                self.client.set_model_version_tag(name, target.version, "previousChampion", current.version)
        self._record(name, history, "promote", current, target.version)
        return self.version(name, target.version)

    def rollback(self, name: str) -> ModelVersionInfo:
        """Champion -> the champion before it (recorded in the ``championHistory`` and ``lastTransition`` tags)."""
        current = self.champion(name)
        if current is None:
            raise RegistryConflictError(f"model {name!r} has no champion to roll back")
        history = self._history(name, current)
        if len(history) < 2:
            raise RegistryConflictError(f"model {name!r} has no previous champion (history {history})")
        history.pop()
        previous = history[-1]
        self.version(name, previous)
        with quiet():
            self.client.set_registered_model_alias(name, CHAMPION, previous)
            self.client.set_model_version_tag(name, current.version, "rolledBackAt", _now())
        self._record(name, history, "rollback", current, previous)
        return self.version(name, previous)

    def _history(self, name: str, current: ModelVersionInfo | None) -> list[str]:
        with quiet():
            tags = dict(self.client.get_registered_model(name).tags or {})
        history = [str(v) for v in json.loads(tags.get(HISTORY_TAG, "[]"))]
        # The alias is the truth; the history may be stale if someone moved the alias by hand.
        if current is not None and (not history or history[-1] != current.version):
            history.append(current.version)
        return history

    def _record(self, name: str, history: list[str], action: str, old: ModelVersionInfo | None, new: str) -> None:
        transition = {"action": action, "from": old.version if old else None, "to": new, "at": _now()}
        with quiet():
            self.client.set_registered_model_tag(name, HISTORY_TAG, json.dumps(history))
            self.client.set_registered_model_tag(name, TRANSITION_TAG, json.dumps(transition))

    # --- artifacts ------------------------------------------------------------------------------------------

    def artifact_bytes(self, name: str, version: str) -> bytes:
        """The provisioned skops file of a version, verified against its ``sha256`` tag."""
        info = self.version(name, version)
        uri = info.tags.get("artifactUri")
        if not uri:
            raise RegistryError(f"{name} version {version} has no provisionable artifact (no artifactUri tag)")
        with tempfile.TemporaryDirectory(prefix="nwdaf-mtlf-") as tmp, quiet():
            local = download_artifacts(artifact_uri=uri, dst_path=tmp, tracking_uri=self.tracking_uri)
            data = Path(local).read_bytes()
        if sha256_hex(data) != info.sha256:
            raise RegistryError(f"{name} version {version}: artifact sha256 {sha256_hex(data)} does not match "
                                f"the registered {info.sha256}")
        return data

    def artifact_bytes_for_uri(self, model_uri: str) -> bytes:
        """``models:/NAME/VERSION`` or ``models:/NAME@ALIAS`` -> the verified skops bytes."""
        ref = model_uri.removeprefix("models:/")
        if "@" in ref:
            name, alias = ref.split("@", 1)
            found = self.by_alias(name, alias)
            if found is None:
                raise RegistryError(f"model {name!r} has no alias {alias!r}")
            return self.artifact_bytes(name, found.version)
        name, _, version = ref.rpartition("/")
        if not name or not version:
            raise ValueError(f"model URI must be models:/NAME/VERSION or models:/NAME@ALIAS, got {model_uri!r}")
        return self.artifact_bytes(name, version)


def _info(v: Any, aliases: tuple[str, ...] | None = None) -> ModelVersionInfo:
    found = tuple(v.aliases or ()) if aliases is None else aliases
    return ModelVersionInfo(name=v.name, version=str(v.version), run_id=v.run_id, aliases=found,
                            tags=dict(v.tags or {}), created=_ms(v.creation_timestamp))


def _ms(stamp: int | None) -> datetime:
    return datetime.fromtimestamp((stamp or 0) / 1000, UTC)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _quote(value: str) -> str:
    return value.replace("'", "\\'")
