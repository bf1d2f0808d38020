"""Contract-test fixtures: one :class:`SpecValidator` over the 3GPP YAML for the whole session."""

from __future__ import annotations

import pytest

from nwdaf.platform.models.openapi import OpenApiUnavailable, SpecValidator


@pytest.fixture(scope="session")
def spec() -> SpecValidator:
    """The validator over ``$NWDAF_3GPP_OPENAPI_DIR`` or ``<repo>/../shared/3gpp/openapi``; skips when absent."""
    try:
        return SpecValidator()
    except OpenApiUnavailable as exc:
        pytest.skip(f"3GPP OpenAPI YAML unavailable, contract tests skipped: {exc}")
