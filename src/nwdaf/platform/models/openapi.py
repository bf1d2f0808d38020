"""Validate JSON payloads against the official 3GPP OpenAPI YAML (OpenAPI 3.0 / JSON Schema draft 4 semantics).

A schema is named by a reference such as
``"TS29520_Nnwdaf_EventsSubscription.yaml#/components/schemas/NnwdafEventsSubscription"``; cross-file ``$ref``s
are resolved inside the YAML directory. Files are parsed on first use and cached; each reference is compiled once
into one self-contained schema (every ``$ref`` inlined), so validating on a hot path costs only the schema walk.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote, urldefrag, urljoin

import yaml

from nwdaf.platform.models.openapi_fast import Check, fast_check

try:
    from jsonschema import ValidationError
    from jsonschema.validators import extend
    from openapi_schema_validator import OAS30Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT4
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        f"nwdaf.platform.models.openapi needs jsonschema, referencing and openapi-schema-validator ({exc.name} is "
        "missing): install the 'dev' extra, e.g. pip install -e '.[dev]'"
    ) from exc

ENV_VAR = "NWDAF_3GPP_OPENAPI_DIR"
_RELATIVE_DIR = Path("shared", "3gpp", "openapi")
_MARKER_FILE = "TS29571_CommonData.yaml"
_MAX_MESSAGE = 300
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# TS32291 carries TAB characters before comment lines, which YAML forbids (see shared/3gpp/README.md).
_TAB_COMMENT = re.compile(r"^[ \t]*\t[ \t]*#.*$", re.MULTILINE)


class OpenApiUnavailable(RuntimeError):  # noqa: N818 - name is part of the published API
    """The 3GPP OpenAPI directory (or one file in it) cannot be found or parsed."""


class FieldError(NamedTuple):
    """One schema violation: ``path`` is a JSON pointer into the instance (the form 3GPP ``InvalidParam.param``
    uses, TS 29.571), ``message`` a human-readable reason."""

    path: str
    message: str


class SchemaViolation(ValueError):  # noqa: N818 - name is part of the published API
    """An instance does not conform to a 3GPP schema; ``errors`` lists every violation with its JSON path."""

    def __init__(self, ref: str, errors: list[FieldError]) -> None:
        self.ref = ref
        self.errors = errors
        lines = "\n".join(f"  {e.path or '/'}: {e.message}" for e in errors)
        super().__init__(f"{len(errors)} violation(s) of {ref}:\n{lines}")


def openapi_dir() -> Path:
    """The 3GPP YAML directory: ``$NWDAF_3GPP_OPENAPI_DIR``, else ``<repo>/../shared/3gpp/openapi`` found by
    walking up from the working directory and from this file. Raises :class:`OpenApiUnavailable`."""
    env = os.environ.get(ENV_VAR)
    if env:
        path = Path(env)
        if (path / _MARKER_FILE).is_file():
            return path
        raise OpenApiUnavailable(f"{ENV_VAR}={env} does not contain {_MARKER_FILE}")
    starts = (Path.cwd().resolve(), Path(__file__).resolve().parent)
    for start in starts:
        for parent in (start, *start.parents):
            candidate = parent / _RELATIVE_DIR
            if (candidate / _MARKER_FILE).is_file():
                return candidate
    raise OpenApiUnavailable(
        f"3GPP OpenAPI YAML not found: set {ENV_VAR} or place it at <repo>/../{_RELATIVE_DIR.as_posix()} "
        f"(searched upwards from {', '.join(str(s) for s in starts)})"
    )


def _required_with_path(
    validator: Any, required: list[str], instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """Like OAS 3.0 ``required``, but the error path names the missing attribute, as InvalidParam wants."""
    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    for name in required:
        if name in instance:
            continue
        prop = properties.get(name, {})
        if prop.get("readOnly") or prop.get("writeOnly"):
            continue
        yield ValidationError(f"{name!r} is a required property", path=[name])


def _type_once(validator: Any, data_type: str, instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    """OAS 3.0 ``type`` with ``nullable`` honoured, reporting a null once (the stock keyword reports it twice)."""
    if instance is None:
        if schema.get("nullable") is not True:
            yield ValidationError(f"None is not of type {data_type!r} (not nullable)")
    elif not validator.is_type(instance, data_type):
        yield ValidationError(f"{instance!r} is not of type {data_type!r}")


_Validator: Any = extend(OAS30Validator, {"required": _required_with_path, "type": _type_once})
_SCHEMA_MAPS = frozenset({"properties"})
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf"})
_SCHEMA_VALUES = frozenset({"items", "not", "additionalProperties"})
# Annotations are dropped, and so is "discriminator": a hint in OpenAPI 3.0, the oneOf/anyOf it annotates decides.
_NOT_CHECKED = {"$ref", "description", "example", "externalDocs", "xml", "deprecated", "discriminator"}
_KEYWORDS = frozenset(_Validator.VALIDATORS) - _NOT_CHECKED
_KEYWORDS |= {"nullable", "exclusiveMaximum", "exclusiveMinimum"}


def _simplify_extensible_enum(schema: dict[str, Any]) -> dict[str, Any]:
    """3GPP enumerations are ``anyOf: [{type: string, enum: [...]}, {type: string}]`` (forward compatible, TS 29.501):
    that accepts exactly the strings, so check it as ``type: string`` (same result, one check instead of three)."""
    branches = schema.get("anyOf")
    if not isinstance(branches, list) or schema.get("type", "string") != "string":
        return schema
    plain = {"type": "string"}
    if plain in branches and all(
        isinstance(b, Mapping) and b.get("type") == "string" and set(b) <= {"type", "enum"} for b in branches
    ):
        simplified = {k: v for k, v in schema.items() if k != "anyOf"}
        simplified["type"] = "string"
        return simplified
    return schema


def _pointer(parts: Any) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _message(error: ValidationError) -> str:
    if error.validator in ("anyOf", "oneOf") and error.context:
        reasons = sorted({f"{_pointer(e.relative_path) or '/'} {e.message}" for e in error.context})
        text = "matches none of the alternatives: " + " | ".join(reasons)
    elif error.validator == "oneOf":
        text = "matches more than one of the alternatives, where exactly one is allowed"
    elif error.validator == "not":
        text = f"must not be valid under {error.validator_value!r}"
    else:
        text = error.message
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


class SpecValidator:
    """Lazily loads the 3GPP YAML files and validates instances against schemas named by ``file#pointer``."""

    def __init__(self, directory: Path | None = None) -> None:
        self._dir = (directory or openapi_dir()).resolve()
        if not (self._dir / _MARKER_FILE).is_file():
            raise OpenApiUnavailable(f"{self._dir} does not contain {_MARKER_FILE}")
        self._base = self._dir.as_uri() + "/"
        self._docs: dict[str, Any] = {}
        self._validators: dict[str, Any] = {}
        self._fast: dict[str, Check | None] = {}
        self._inline_memo: dict[str, Any] = {}
        self._inline_active: set[str] = set()
        self._recursive: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def directory(self) -> Path:
        return self._dir

    def document(self, filename: str) -> Mapping[str, Any]:
        """The parsed YAML file (cached)."""
        doc = self._docs.get(filename)
        if doc is None:
            doc = self._load(filename)
            self._docs[filename] = doc
        return doc  # type: ignore[no-any-return]

    def _load(self, filename: str) -> Any:
        path = self._dir / filename
        if Path(filename).name != filename or not path.is_file():
            raise OpenApiUnavailable(f"no such 3GPP OpenAPI file: {path}")
        text = path.read_text(encoding="utf-8")
        try:
            return yaml.load(text, Loader=_Loader)
        except yaml.YAMLError:
            try:
                return yaml.load(_TAB_COMMENT.sub("", text), Loader=_Loader)
            except yaml.YAMLError as exc:
                raise OpenApiUnavailable(f"cannot parse {path}: {exc}") from exc

    def _split(self, uri: str) -> tuple[str, str]:
        absolute, fragment = urldefrag(uri)
        if not absolute.startswith(self._base):
            raise OpenApiUnavailable(f"$ref {uri!r} points outside {self._dir}")
        return absolute[len(self._base) :], fragment

    def _absolute(self, ref: str) -> str:
        return urljoin(self._base, ref)

    def _at(self, filename: str, fragment: str) -> Any:
        node: Any = self.document(filename)
        for raw in fragment.lstrip("/").split("/") if fragment.strip("/") else ():
            key = unquote(raw).replace("~1", "/").replace("~0", "~")
            try:
                node = node[int(key)] if isinstance(node, list) else node[key]
            except (KeyError, IndexError, ValueError, TypeError):
                raise KeyError(f"{filename}#{fragment} does not exist") from None
        return node

    def schema(self, ref: str) -> Mapping[str, Any]:
        """The raw schema object a ``file#pointer`` reference names (``$ref``s left unresolved)."""
        node = self._at(*self._split(self._absolute(ref)))
        if not isinstance(node, Mapping):
            raise KeyError(f"{ref} is not a schema object")
        return node

    def _inlined(self, uri: str) -> Any:
        """The schema at ``uri`` with every ``$ref`` replaced by its (shared, converted) target: a ref lookup
        costs more than the check it leads to. Only files a schema reaches are parsed, so a broken file it
        does not use never matters. A recursive ref becomes a ref to the converted target, registered under
        a ``urn:`` name when the validator is compiled."""
        done = self._inline_memo.get(uri)
        if done is not None:
            return done
        if uri in self._inline_active:
            name = self._recursive.setdefault(uri, f"urn:nwdaf:schema:{len(self._recursive)}")
            return {"$ref": name}
        self._inline_active.add(uri)
        try:
            filename, fragment = self._split(uri)
            result = self._convert(filename, self._at(filename, fragment))
        finally:
            self._inline_active.discard(uri)
        self._inline_memo[uri] = result
        return result

    def _convert(self, filename: str, node: Any) -> Any:
        if not isinstance(node, Mapping):
            return node
        if isinstance(node.get("$ref"), str):  # OpenAPI 3.0 / draft 4: siblings of $ref are ignored
            return self._inlined(urljoin(self._base + filename, node["$ref"]))
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _SCHEMA_MAPS and isinstance(value, Mapping):
                out[key] = {name: self._convert(filename, sub) for name, sub in value.items()}
            elif key in _SCHEMA_LISTS and isinstance(value, list):
                out[key] = [self._convert(filename, sub) for sub in value]
            elif key in _SCHEMA_VALUES:
                out[key] = self._convert(filename, value)
            elif key in _KEYWORDS:
                out[key] = value
        return _simplify_extensible_enum(out)

    def _compiled(self, ref: str) -> Any:
        validator = self._validators.get(ref)
        if validator is not None:
            return validator
        with self._lock:
            validator = self._validators.get(ref)
            if validator is None:
                schema = self._inlined(self._absolute(ref))
                registry: Registry[Any] = Registry().with_resources(
                    (name, DRAFT4.create_resource(self._inline_memo[uri]))
                    for uri, name in self._recursive.items()
                    if uri in self._inline_memo  # absent only if its conversion failed
                )
                validator = _Validator(schema, registry=registry, format_checker=OAS30Validator.FORMAT_CHECKER)
                recursive = {name: self._inline_memo[uri] for uri, name in self._recursive.items()
                             if uri in self._inline_memo}
                self._fast[ref] = fast_check(schema, recursive, OAS30Validator.FORMAT_CHECKER)
                self._validators[ref] = validator
        return validator

    def warm_up(self, *refs: str) -> None:
        """Load and compile ahead of the first request, so the first validation is as fast as the rest."""
        for ref in refs:
            self._compiled(ref)

    def precheck(self, instance: Any, ref: str) -> bool | None:
        """The compiled pre-check's verdict (:mod:`nwdaf.platform.models.openapi_fast`): True is final, False
        is not (the Python walk decides); None where there is no compiled check."""
        self._compiled(ref)
        fast = self._fast.get(ref)
        return None if fast is None else fast(instance)

    def _surely_valid(self, instance: Any, ref: str) -> bool:
        fast = self._fast.get(ref)
        return fast is not None and fast(instance)

    def errors(self, instance: Any, ref: str, *, precheck: bool = True) -> list[FieldError]:
        """Every violation of ``ref`` by ``instance`` as (JSON pointer, message) pairs, sorted by path
        (``precheck=False``: the Python walk alone, without the compiled pre-check's shortcut)."""
        validator = self._compiled(ref)
        if precheck and self._surely_valid(instance, ref):
            return []
        found = validator.iter_errors(instance)
        result = [FieldError(_pointer(e.absolute_path), _message(e)) for e in found]
        return sorted(result, key=lambda e: e.path)

    def is_valid(self, instance: Any, ref: str) -> bool:
        validator = self._compiled(ref)
        return self._surely_valid(instance, ref) or bool(validator.is_valid(instance))

    def validate(self, instance: Any, ref: str) -> None:
        """Raise :class:`SchemaViolation` listing every error if ``instance`` does not conform to ``ref``."""
        if not self.is_valid(instance, ref):
            raise SchemaViolation(ref, self.errors(instance, ref))

    def property_names(self, ref: str) -> frozenset[str]:
        """Attribute names a schema defines, following ``$ref`` and ``allOf``/``anyOf``/``oneOf`` members;
        used to catch model fields whose names drift from the YAML (the schemas allow unknown attributes)."""
        names: set[str] = set()
        seen: set[str] = set()
        pending = [self._absolute(ref)]
        while pending:
            uri = pending.pop()
            if uri in seen:
                continue
            seen.add(uri)
            filename, fragment = self._split(uri)
            node = self._at(filename, fragment)
            base = self._base + filename
            if isinstance(node.get("$ref"), str):
                pending.append(urljoin(base, node["$ref"]))
            names.update(node.get("properties", {}))
            for key in ("allOf", "anyOf", "oneOf"):
                for i, member in enumerate(node.get(key, ())):
                    pending.append(
                        f"{base}#{fragment}/{key}/{i}" if "$ref" not in member else urljoin(base, member["$ref"])
                    )
        return frozenset(names)
