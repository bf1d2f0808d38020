"""MLflow pyfunc flavour of a model bundle: the same skops bytes, served by ``mlflow models serve``.

The MTLF provisions the skops file itself (no MLflow needed to load it); this wrapper exists so the registry's
model versions are also standard MLflow models (UI, ``mlflow models serve``, the inference benchmark).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlflow.pyfunc.model import PythonModel

from nwdaf.mtlf.bundle import ModelBundle, feature_matrix

BUNDLE_ARTIFACT = "bundle"


class BundlePyfunc(PythonModel):
    """``predict(DataFrame) -> calibrated probability per row`` over the bundle's feature columns."""

    def load_context(self, context: Any) -> None:
        self._bundle = ModelBundle.from_bytes(Path(context.artifacts[BUNDLE_ARTIFACT]).read_bytes())

    # No annotations on purpose: MLflow reads predict's type hints as an input schema and warns on a DataFrame.
    def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
        bundle: ModelBundle = self._bundle
        return bundle.predict_proba(feature_matrix(model_input, bundle.meta.feature_columns))
