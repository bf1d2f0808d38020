"""MLflow pyfunc flavour of a model bundle: the same skops bytes, served by ``mlflow models serve``.

The MTLF provisions the skops file itself (no MLflow needed to load it); this wrapper exists so the registry's
model versions are also standard MLflow models (UI, ``mlflow models serve``, the inference benchmark).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pandas as pd  # type: ignore[import-untyped]  # no pandas-stubs in the dev extra

from nwdaf.lib.ml.bundle import ModelBundle, feature_matrix

BUNDLE_ARTIFACT = "bundle"

# MLflow checks type hints on import (its own) and warns about some; ``pd.DataFrame`` on predict is what the
# scoring server passes and a hint MLflow accepts without inferring a schema (the signature is given at save time).
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    from mlflow.pyfunc.model import PythonModel

    class BundlePyfunc(PythonModel):
        """``predict(DataFrame) -> calibrated probability per row`` over the bundle's feature columns."""

        def load_context(self, context: Any) -> None:
            self._bundle = ModelBundle.from_bytes(Path(context.artifacts[BUNDLE_ARTIFACT]).read_bytes())

        def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> Any:
            bundle: ModelBundle = self._bundle
            return bundle.predict_proba(feature_matrix(model_input, bundle.meta.feature_columns))
