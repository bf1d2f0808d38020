"""NWDAF containing MTLF (TS 23.288 clause 6.2A): model training, the MLflow registry, Nnwdaf_MLModelProvision.

Light names (config, the model artifact) import eagerly; training, the registry and the service load on first use,
so an AnLF that only loads provisioned artifacts never imports MLflow or imbalanced-learn.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from nwdaf.mtlf.bundle import BundleError, ModelBundle, ModelMeta, sha256_hex
from nwdaf.mtlf.config import MtlfConfig, TrainConfig

_LAZY = {
    "train": "nwdaf.mtlf.train",
    "evaluate": "nwdaf.mtlf.train",
    "TrainResult": "nwdaf.mtlf.train",
    "ModelRegistry": "nwdaf.mtlf.registry",
    "RegistryError": "nwdaf.mtlf.registry",
    "build_mtlf": "nwdaf.mtlf.service",
    "MtlfService": "nwdaf.mtlf.service",
}

__all__ = [
    "BundleError",
    "ModelBundle",
    "ModelMeta",
    "ModelRegistry",
    "MtlfConfig",
    "MtlfService",
    "RegistryError",
    "TrainConfig",
    "TrainResult",
    "build_mtlf",
    "evaluate",
    "sha256_hex",
    "train",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nwdaf.mtlf' has no attribute {name!r}")
    return getattr(import_module(module), name)
