"""NWDAF containing MTLF (TS 23.288 clause 6.2A): model training, the MLflow registry, Nnwdaf_MLModelProvision.

Light names (config, the model artifact) import eagerly; training, the registry and the service load on first use,
so an AnLF that only loads provisioned artifacts never imports MLflow or imbalanced-learn.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from nwdaf.lib.ml.bundle import BundleError, ModelBundle, ModelMeta, sha256_hex
from nwdaf.nf.mtlf.config import MtlfConfig, MtlfSettings
from nwdaf.nf.mtlf.train.config import TrainConfig

_LAZY = {
    "TrainConfig": "nwdaf.nf.mtlf.train.config",
    "train": "nwdaf.nf.mtlf.train",
    "evaluate": "nwdaf.nf.mtlf.train",
    "TrainResult": "nwdaf.nf.mtlf.train",
    "ModelRegistry": "nwdaf.nf.mtlf.registry",
    "RegistryError": "nwdaf.nf.mtlf.registry",
    "build_mtlf": "nwdaf.nf.mtlf.service",
    "MtlfService": "nwdaf.nf.mtlf.service",
}

__all__ = [
    "BundleError",
    "ModelBundle",
    "ModelMeta",
    "ModelRegistry",
    "MtlfConfig",
    "MtlfService",
    "MtlfSettings",
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
        raise AttributeError(f"module 'nwdaf.nf.mtlf' has no attribute {name!r}")
    return getattr(import_module(module), name)
