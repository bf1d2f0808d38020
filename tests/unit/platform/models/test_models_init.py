"""The package's public surface: ``__all__`` lists exactly what it re-exports, and nothing is missing."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import nwdaf.platform.models as models
from nwdaf.platform.models import (
    analytics,
    analytics_info,
    common,
    events_subscription,
    flows,
    ml_provision,
    units,
    upf_ee,
)

pytestmark = pytest.mark.unit

HEAVY = ("jsonschema", "referencing", "openapi_schema_validator")
SUBMODULES = (analytics, analytics_info, common, events_subscription, flows, ml_provision, units, upf_ee)


def test_all_names_exist_and_are_unique() -> None:
    assert len(models.__all__) == len(set(models.__all__))
    missing = [name for name in models.__all__ if not hasattr(models, name)]
    assert missing == []


def test_all_is_sorted_for_review() -> None:
    assert models.__all__ == sorted(models.__all__)


def test_every_public_class_and_helper_of_the_submodules_is_exported() -> None:
    defined = {
        name
        for module in SUBMODULES
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and obj.__module__ == module.__name__
    }
    assert defined - set(models.__all__) == set()


def test_exports_are_the_submodule_objects() -> None:
    assert models.NotificationData is upf_ee.NotificationData
    assert models.AnalyticsException is analytics.AnalyticsException
    assert models.to_wire is common.to_wire


def test_importing_the_package_does_not_load_the_validation_libraries() -> None:
    # jsonschema & co. are only needed by nwdaf.platform.models.openapi; a fresh interpreter shows what the import
    # pulls in.
    code = (
        "import sys, nwdaf.platform.models; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} or m == 'nwdaf.platform.models.openapi'))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[]"
