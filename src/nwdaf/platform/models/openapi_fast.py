"""A compiled (Rust) pre-check for the 3GPP schemas: ``jsonschema_rs`` on the same inlined schema.

:class:`nwdaf.platform.models.openapi.SpecValidator` walks a schema in Python (``jsonschema`` with the OpenAPI 3.0
keywords): about a millisecond per UPF notification item, the largest cost of ingesting a report at the HTTP edge.
Here the same schema is translated to plain draft 4 so that the compiled validator is *never more lenient* than
the Python one:

* ``nullable: true`` next to ``type: T`` becomes ``type: [T, "null"]`` (what the OpenAPI 3.0 ``type`` means);
* ``format: int32`` / ``int64`` become the ranges the OpenAPI format checker enforces (it checks integers, which
  draft-4 ``format`` in ``jsonschema_rs`` never looks at);
* string formats the OpenAPI checker knows are checked by *its* functions; other formats are dropped, as the
  Python validator ignores them;
* ``required`` keeps read-only/write-only members (the Python validator skips them: stricter, not laxer).

A verdict of *valid* is therefore final; *invalid* (rarer, and possibly only stricter) goes to the Python walk for
the exact errors and the final word. Without ``jsonschema_rs`` everything stays on the Python path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

_rs: Any
try:
    import jsonschema_rs as _rs
except ImportError:  # pragma: no cover - a dependency; without it the Python walk does everything
    _rs = None

Check = Callable[[Any], bool]

_INT_RANGES = {"int32": (-(1 << 31), (1 << 31) - 1), "int64": (-(1 << 63), (1 << 63) - 1)}
_LISTS = frozenset({"allOf", "anyOf", "oneOf"})
_VALUES = frozenset({"items", "not", "additionalProperties"})


def _format_functions(checker: Any) -> dict[str, Callable[[str], bool]]:
    """The OpenAPI format checker's string formats as plain predicates (a raised error counts as invalid)."""
    out: dict[str, Callable[[str], bool]] = {}
    for name, (func, raises) in checker.checkers.items():
        if name in _INT_RANGES:
            continue
        errors: tuple[type[Exception], ...] = (raises,) if isinstance(raises, type) else tuple(raises or ())

        def check(value: str, func: Callable[[Any], Any] = func, errors: tuple[type[Exception], ...] = errors) -> bool:
            try:
                return bool(func(value))
            except errors:
                return False

        out[name] = check
    return out


def _translate(node: Any, formats: frozenset[str]) -> Any:
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, Mapping):
            out[key] = {name: _translate(sub, formats) for name, sub in value.items()}
        elif key in _LISTS and isinstance(value, list):
            out[key] = [_translate(sub, formats) for sub in value]
        elif key in _VALUES:
            out[key] = _translate(value, formats)
        elif key == "format":
            if value in formats:
                out[key] = value
        elif key != "nullable":
            out[key] = value
    if node.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    bounds = _INT_RANGES.get(str(node.get("format")))
    if bounds is not None:
        return {"allOf": [out, {"minimum": bounds[0], "maximum": bounds[1]}]}
    return out


def fast_check(schema: Any, recursive: Mapping[str, Any], format_checker: Any) -> Check | None:
    """A compiled validity check of ``schema`` (recursive targets registered under their ``urn:`` names), or None
    where ``jsonschema_rs`` is missing or cannot compile it (the caller stays on the Python validator)."""
    if _rs is None:
        return None
    functions = _format_functions(format_checker)
    names = frozenset(functions)
    try:
        registry = _rs.Registry(
            [(name, _translate(target, names)) for name, target in recursive.items()]) if recursive else None
        validator = _rs.Draft4Validator(
            _translate(schema, names), formats=functions, validate_formats=True, registry=registry)
    except (ValueError, TypeError, _rs.ReferencingError):
        return None
    check: Check = validator.is_valid
    return check
