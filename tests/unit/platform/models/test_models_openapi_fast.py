"""The compiled pre-check's translation of OpenAPI 3.0 keywords (``nwdaf.platform.models.openapi_fast``)."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator

from nwdaf.platform.models.openapi_fast import fast_check


def _check(schema: dict[str, Any]) -> Any:
    check = fast_check(schema, {}, OAS30Validator.FORMAT_CHECKER)
    assert check is not None
    return check


@pytest.mark.parametrize(("fmt", "low", "high"), [("int32", -(2**31), 2**31 - 1), ("int64", -(2**63), 2**63 - 1)])
def test_integer_formats_become_their_ranges(fmt: str, low: int, high: int) -> None:
    check = _check({"type": "integer", "format": fmt})
    assert check(low)
    assert check(high)
    assert not check(low - 1)
    assert not check(high + 1)


def test_nullable_admits_null_and_only_where_declared() -> None:
    assert _check({"type": "string", "nullable": True})(None)
    assert not _check({"type": "string"})(None)
    assert not _check({"type": "object", "properties": {"a": {"type": "integer"}}})({"a": None})


def test_string_formats_use_the_openapi_checker_and_unknown_ones_are_ignored() -> None:
    when = _check({"type": "string", "format": "date-time"})
    assert when("2026-01-01T00:00:00Z")
    assert not when("yesterday")
    assert _check({"type": "string", "format": "uri-reference"})("not checked by OpenAPI 3.0")


def test_recursive_targets_are_registered() -> None:
    node = {"type": "object", "properties": {"child": {"$ref": "urn:nwdaf:schema:0"}, "n": {"type": "integer"}}}
    check = fast_check(node, {"urn:nwdaf:schema:0": node}, OAS30Validator.FORMAT_CHECKER)
    assert check is not None
    assert check({"child": {"child": {"n": 1}}})
    assert not check({"child": {"child": {"n": "x"}}})
