"""In-process inference for the AnLF: the model provisioned by the MTLF, hot-swapped without a restart.

On an ``NwdafMLModelProvNotif`` the holder downloads ``mLFileAddr.mLModelUrl``, checks the sha256 (the ``sha256``
query of the URL, from the trusted notification, and the server's ``Repr-Digest``), loads the skops file in a
worker thread and swaps the reference in one assignment: a ``score`` call in progress finishes on the model it
started with, the next one uses the new model. No MLflow and no per-model server are involved.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np

from nwdaf.lib.ml.bundle import BundleError, ModelBundle, ModelMeta, feature_matrix, sha256_hex
from nwdaf.platform.models.common import from_wire
from nwdaf.platform.models.ml_provision import NwdafMLModelProvNotif
from nwdaf.platform.sbi.client import SbiClient

log = logging.getLogger("nwdaf.anlf.inference")
_REPR_DIGEST = re.compile(r"sha-256=:([A-Za-z0-9+/=]+):")


class ModelUnavailableError(RuntimeError):
    """``score`` was called before any model was loaded."""


@dataclass(frozen=True)
class LoadedModel:
    """A loaded bundle and where it came from."""

    bundle: ModelBundle
    name: str
    version: str
    sha256: str
    url: str
    loaded_at: datetime

    @property
    def meta(self) -> ModelMeta:
        return self.bundle.meta


class ModelHolder:
    """Holds the current model of one analytics event and swaps it atomically when a new one is provisioned."""

    def __init__(self, client: SbiClient, *, event: str = "ABNORMAL_BEHAVIOUR") -> None:
        self._client = client
        self._event = event
        self._current: LoadedModel | None = None
        self._swap_lock = asyncio.Lock()
        self.swaps = 0

    @property
    def current(self) -> LoadedModel | None:
        return self._current

    def score(self, features: Any) -> np.ndarray:
        """Calibrated probability of abnormal behaviour per row of a polars/pandas frame holding the model's
        feature columns. Raises :class:`ModelUnavailableError` before the first model and
        :class:`~nwdaf.lib.ml.bundle.BundleError` naming missing columns."""
        model = self._current  # one read: a concurrent swap cannot mix two models in one call
        if model is None:
            raise ModelUnavailableError(f"no {self._event} model has been provisioned yet")
        return model.bundle.predict_proba(feature_matrix(features, model.meta.feature_columns))

    async def on_notification(self, payload: Any) -> LoadedModel | None:
        """Handle a notification body (a JSON array of ``NwdafMLModelProvNotif``, or one of them): load the
        first model address for our event; returns the newly loaded model, or None if nothing was for us."""
        items = payload if isinstance(payload, list) else [payload]
        loaded: LoadedModel | None = None
        for item in items:
            notif = item if isinstance(item, NwdafMLModelProvNotif) else from_wire(NwdafMLModelProvNotif, item)
            for event_notif in notif.eventNotifs:
                addr = event_notif.mLFileAddr
                if event_notif.event.value == self._event and addr is not None and addr.mLModelUrl:
                    loaded = await self.load_url(addr.mLModelUrl)
        return loaded

    async def load_url(self, url: str, expected_sha256: str | None = None) -> LoadedModel:
        """Download, verify and load a model artifact, then swap it in."""
        expected = expected_sha256 or parse_qs(urlsplit(url).query).get("sha256", [None])[0]
        response = await self._client.get(url)
        if response.status_code != 200:
            raise BundleError(f"model download {url} answered HTTP {response.status_code}: {response.text[:200]}")
        data = response.content
        _check_digest_header(response.headers, data)
        if expected is None:
            expected = response.headers.get("x-nwdaf-model-sha256")
        if expected is None:
            raise BundleError(f"no sha256 to verify {url} against (none in the URL nor the response)")
        bundle = await asyncio.to_thread(ModelBundle.from_bytes, data, expected)
        name = response.headers.get("x-nwdaf-model-name", "")
        version = response.headers.get("x-nwdaf-model-version", "")
        return await self._swap(LoadedModel(bundle, name, version, sha256_hex(data), url, datetime.now(UTC)))

    async def _swap(self, model: LoadedModel) -> LoadedModel:
        async with self._swap_lock:
            previous = self._current
            self._current = model
            self.swaps += 1
        log.info("model swapped: %s version %s -> %s", model.name,
                 previous.version if previous else None, model.version)
        return model


def _check_digest_header(headers: Mapping[str, str], data: bytes) -> None:
    """Verify RFC 9530 ``Repr-Digest: sha-256=:<base64>:`` when the server sent one."""
    header = headers.get("repr-digest")
    if not header:
        return
    found = _REPR_DIGEST.search(header)
    if found is None:
        return
    if base64.b64decode(found.group(1)).hex() != sha256_hex(data):
        raise BundleError("downloaded model does not match the server's Repr-Digest (corrupted transfer)")
