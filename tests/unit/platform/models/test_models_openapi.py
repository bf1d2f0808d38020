"""SpecValidator on a small synthetic YAML directory: cross-file refs, recursion, OpenAPI 3.0 nullable, error
paths, caching, and locating the 3GPP directory."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from nwdaf.platform.models import openapi
from nwdaf.platform.models.openapi import FieldError, OpenApiUnavailable, SchemaViolation, SpecValidator, openapi_dir

pytestmark = pytest.mark.unit

FILES = {
    "TS29571_CommonData.yaml": """
        openapi: 3.0.0
        components:
          schemas:
            Id:
              type: string
              pattern: '^[a-z]+$'
            DateTime:
              type: string
              format: date-time
    """,
    "TS00000_Things.yaml": """
        openapi: 3.0.0
        components:
          schemas:
            Thing:
              type: object
              required: [id, when]
              properties:
                id:
                  $ref: 'TS29571_CommonData.yaml#/components/schemas/Id'
                when:
                  $ref: 'TS29571_CommonData.yaml#/components/schemas/DateTime'
                note:
                  type: string
                  nullable: true
                count:
                  type: integer
                  minimum: 0
                kind:
                  $ref: '#/components/schemas/Kind'
                tree:
                  $ref: '#/components/schemas/Tree'
                a/b:
                  type: boolean
            Kind:
              anyOf:
                - type: string
                  enum: [ONE, TWO]
                - type: string
            Tree:
              type: object
              required: [name]
              properties:
                name:
                  type: string
                children:
                  type: array
                  minItems: 1
                  items:
                    $ref: '#/components/schemas/Tree'
            Extended:
              allOf:
                - $ref: '#/components/schemas/Tree'
                - type: object
                  properties:
                    extra:
                      type: string
            Either:
              type: object
              oneOf:
                - required: [x]
                - required: [y]
            NotBoth:
              type: object
              not:
                required: [x, y]
    """,
    "TS99999_Broken.yaml": "components: [unclosed\n",
    # A TAB before a comment line, as in TS32291 (invalid YAML).
    "TS88888_Tabbed.yaml": "components:\n  schemas:\n\t# comment\n    Flag:\n      type: boolean\n",
}
THING = "TS00000_Things.yaml#/components/schemas/Thing"
VALID = {
    "id": "abc",
    "when": "2025-03-27T18:03:49Z",
    "note": None,
    "kind": "THREE",
    "tree": {"name": "root", "children": [{"name": "leaf"}]},
}


@pytest.fixture
def spec_dir(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    return tmp_path


@pytest.fixture
def spec(spec_dir: Path) -> SpecValidator:
    return SpecValidator(spec_dir)


def test_valid_instance_passes(spec: SpecValidator) -> None:
    spec.validate(VALID, THING)
    assert spec.is_valid(VALID, THING)
    assert spec.errors(VALID, THING) == []


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"id": "ABC"}, "/id", "does not match"),
        ({"when": "yesterday"}, "/when", "is not a 'date-time'"),
        ({"count": -1}, "/count", "less than the minimum"),
        ({"count": None}, "/count", "not nullable"),
        ({"kind": 7}, "/kind", "is not of type 'string'"),
        ({"a/b": "yes"}, "/a~1b", "is not of type 'boolean'"),
        (
            {"tree": {"name": "root", "children": [{"children": [{"name": 1}]}]}},
            "/tree/children/0/name",
            "'name' is a required property",
        ),
        ({"tree": {"name": "root", "children": []}}, "/tree/children", "should be non-empty"),
    ],
)
def test_errors_carry_json_pointer_paths(
    spec: SpecValidator, change: dict[str, object], path: str, message: str
) -> None:
    errors = spec.errors({**VALID, **change}, THING)
    assert path in {e.path for e in errors}
    assert any(message in e.message for e in errors if e.path == path)


def test_recursive_schema_is_checked_at_any_depth(spec: SpecValidator) -> None:
    deep: dict[str, object] = {"name": "leaf", "children": [{"name": 5}]}
    for _ in range(10):
        deep = {"name": "n", "children": [deep]}
    errors = spec.errors({**VALID, "tree": deep}, THING)
    assert errors == [FieldError("/tree" + "/children/0" * 11 + "/name", "5 is not of type 'string'")]


def test_missing_required_attributes_are_named_in_the_path(spec: SpecValidator) -> None:
    errors = spec.errors({}, THING)
    assert errors == [
        FieldError("/id", "'id' is a required property"),
        FieldError("/when", "'when' is a required property"),
    ]


def test_schema_violation_lists_every_error(spec: SpecValidator) -> None:
    with pytest.raises(SchemaViolation) as raised:
        spec.validate({"id": "ABC", "count": "1"}, THING)
    violation = raised.value
    assert violation.ref == THING
    assert [e.path for e in violation.errors] == ["/count", "/id", "/when"]
    assert str(violation).startswith(f"3 violation(s) of {THING}:")
    assert "  /when: 'when' is a required property" in str(violation)


def test_one_of_failure_explains_the_alternatives(spec: SpecValidator) -> None:
    ref = "TS00000_Things.yaml#/components/schemas/Either"
    (error,) = spec.errors({}, ref)
    assert error.path == ""
    assert "/x 'x' is a required property" in error.message
    assert "/y 'y' is a required property" in error.message
    assert spec.errors({"x": 1, "y": 2}, ref)[0].message.startswith("matches more than one")


def test_not_failure_names_the_forbidden_schema_not_the_instance(spec: SpecValidator) -> None:
    errors = spec.errors({"x": 1, "y": 2, "z": "a long value " * 50}, "TS00000_Things.yaml#/components/schemas/NotBoth")
    assert errors == [FieldError("", "must not be valid under {'required': ['x', 'y']}")]


def test_unused_broken_files_are_never_parsed_and_used_ones_are_cached(
    spec: SpecValidator, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec.warm_up(THING)

    def refuse(filename: str) -> None:
        raise AssertionError(f"{filename} loaded again")

    monkeypatch.setattr(spec, "_load", refuse)
    spec.validate(VALID, THING)
    assert spec.document("TS29571_CommonData.yaml")["openapi"] == "3.0.0"


def test_unparsable_file_raises_a_clear_error(spec: SpecValidator) -> None:
    with pytest.raises(OpenApiUnavailable, match=r"cannot parse .*TS99999_Broken\.yaml"):
        spec.document("TS99999_Broken.yaml")


def test_tab_before_comment_is_tolerated(spec: SpecValidator) -> None:
    assert spec.is_valid(True, "TS88888_Tabbed.yaml#/components/schemas/Flag")
    assert not spec.is_valid("true", "TS88888_Tabbed.yaml#/components/schemas/Flag")


@pytest.mark.parametrize(
    ("ref", "error"),
    [
        ("TS00000_Things.yaml#/components/schemas/Nothing", KeyError),
        ("TS12345_Missing.yaml#/components/schemas/Thing", OpenApiUnavailable),
        ("../elsewhere.yaml#/components/schemas/Thing", OpenApiUnavailable),
    ],
)
def test_bad_references_raise(spec: SpecValidator, ref: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        spec.validate({}, ref)


def test_property_names_follow_refs_and_all_of(spec: SpecValidator) -> None:
    assert spec.property_names("TS00000_Things.yaml#/components/schemas/Extended") == {"name", "children", "extra"}
    assert "a/b" in spec.property_names(THING)


def test_schema_returns_the_raw_schema(spec: SpecValidator) -> None:
    assert spec.schema(THING)["required"] == ["id", "when"]


def test_openapi_dir_from_environment(spec_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(openapi.ENV_VAR, str(spec_dir))
    assert openapi_dir() == spec_dir
    assert SpecValidator().directory == spec_dir.resolve()


def test_openapi_dir_from_environment_must_hold_the_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(openapi.ENV_VAR, str(tmp_path))
    with pytest.raises(OpenApiUnavailable, match=openapi.ENV_VAR):
        openapi_dir()


def test_openapi_dir_found_next_to_the_repository(
    spec_dir: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path_factory.mktemp("checkout")
    target = root / "shared" / "3gpp" / "openapi"
    target.mkdir(parents=True)
    (target / "TS29571_CommonData.yaml").write_text((spec_dir / "TS29571_CommonData.yaml").read_text())
    (root / "main" / "tests").mkdir(parents=True)
    monkeypatch.delenv(openapi.ENV_VAR, raising=False)
    monkeypatch.chdir(root / "main" / "tests")
    assert openapi_dir() == target


def test_openapi_dir_absent_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(openapi.ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(openapi, "__file__", str(tmp_path / "pkg" / "openapi.py"))
    with pytest.raises(OpenApiUnavailable, match=f"set {openapi.ENV_VAR}"):
        openapi_dir()
