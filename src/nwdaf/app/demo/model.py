"""Make sure the registry holds a champion abnormal-behaviour model before the loop starts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from nwdaf.app.config import Settings
from nwdaf.app.demo.training import synthetic_training_flows
from nwdaf.nf.mtlf.registry import ModelRegistry, ModelVersionInfo
from nwdaf.nf.mtlf.train import train
from nwdaf.nf.mtlf.train.config import DEFAULT_MODEL_NAMES, TrainConfig

MODEL_NAME = DEFAULT_MODEL_NAMES["host_window"]


def ensure_champion(settings: Settings, say: Callable[[str], None]) -> ModelVersionInfo:
    """The champion if there is one; else train on synthetic UEs (other seeds than the demo's), register, promote."""
    registry = ModelRegistry(settings.ml.tracking_uri, settings.ml.artifact_root)
    champion = registry.champion(MODEL_NAME)
    if champion is not None:
        say(f"model registry: champion {MODEL_NAME} v{champion.version} found, no training needed")
        return champion
    window_s = settings.processor.window_s
    period_s = float(settings.collector.upf_ee[0].rep_period_s) if settings.collector.upf_ee else 1.0
    say("model registry is empty: generating labelled synthetic traffic (4 attack kinds x 2 populations) ...")
    flows = synthetic_training_flows(window_s=window_s, period_s=period_s, seeds=(1001, 1002), duration_s=60)
    say(f"training on {flows.height:,} flow records (group-aware CV, resampling, calibration) ...")
    config = TrainConfig.from_settings(settings, flows=flows, window_s=window_s, align_sources=False, n_splits=3,
                                       progress=False, report_dir=Path(settings.data_dir) / "mtlf" / "reports")
    result = train(config)
    assert result.version is not None
    champion = registry.promote(MODEL_NAME, result.version)
    m = result.metrics.get("test", {})
    say(f"trained {result.selected.candidate}+{result.selected.sampler}: held-out F1 {m.get('f1', float('nan')):.3f}, "
        f"MCC {m.get('mcc', float('nan')):.3f}; registered and promoted v{champion.version} to champion")
    return champion
