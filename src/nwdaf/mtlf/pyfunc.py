"""MLflow pyfunc flavour of a model bundle: the same skops bytes, served by ``mlflow models serve``.

The MTLF provisions the skops file itself (no MLflow needed to load it); this wrapper exists so the registry's
model versions are also standard MLflow models (UI, ``mlflow models serve``, the inference benchmark).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from nwdaf.mtlf.bundle import ModelBundle, feature_matrix

BUNDLE_ARTIFACT = "bundle"

# MLflow inspects type hints (its own on import, predict's when the class is created) and warns about any that is
# not one of its schema types; the signature is given explicitly at save time instead.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    from mlflow.pyfunc.model import PythonModel

    class BundlePyfunc(PythonModel):
        """``predict(DataFrame) -> calibrated probability per row`` over the bundle's feature columns."""

        def load_context(self, context: Any) -> None:
            self._bundle = ModelBundle.from_bytes(Path(context.artifacts[BUNDLE_ARTIFACT]).read_bytes())

        def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
            bundle: ModelBundle = self._bundle
            return bundle.predict_proba(feature_matrix(model_input, bundle.meta.feature_columns))
