"""Request bodies, the one way in: JSON is read (415/400), checked against the 3GPP YAML and a pydantic model, and
every failure becomes a 400 ProblemDetails whose ``invalidParams`` are JSON pointers (TS 29.500 clause 5.2.7.2,
TS 29.571 ``InvalidParam``).

Routers read with :func:`read_model` / :func:`read_models` (or :func:`json_body` and then :func:`parse_model` when
they need the document too) and hand the parsed models to their procedures, which never see HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Protocol, TypeVar

import orjson
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from nwdaf.platform.sbi.problem import InvalidParam, ProblemError, problem_response

JSON: Final = "application/json"
MANDATORY_IE_INCORRECT: Final = "MANDATORY_IE_INCORRECT"
INVALID_MSG_FORMAT: Final = "INVALID_MSG_FORMAT"
MAX_INVALID_PARAMS: Final = 50
"""At most this many ``invalidParams`` in one answer (a broken body can violate a schema thousands of times)."""
MAX_DETAIL: Final = 1000

M = TypeVar("M", bound=BaseModel)


class SchemaValidator(Protocol):
    """What the 3GPP YAML validator (:class:`nwdaf.platform.models.openapi.SpecValidator`) offers: every
    violation of the schema ``ref`` as (JSON pointer, reason)."""

    def errors(self, instance: Any, ref: str) -> Sequence[tuple[str, str]]: ...


# --- errors -------------------------------------------------------------------------------------------------


def pointer(loc: Iterable[int | str], at: str = "") -> str:
    """A pydantic error location as a JSON pointer (RFC 6901) below ``at``; ``"/"`` for the document itself."""
    path = "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in loc)
    return (at + path) or "/"


def invalid_params_from_errors(errors: Iterable[Mapping[str, Any]], at: str = "") -> list[InvalidParam]:
    """Pydantic error dicts as 3GPP ``InvalidParam`` entries (JSON pointer + reason)."""
    return [InvalidParam(pointer(e.get("loc", ()), at), str(e.get("msg", ""))) for e in errors]


def invalid_request(summary: str, params: Sequence[InvalidParam], cause: str = MANDATORY_IE_INCORRECT,
                    title: str = "Invalid request") -> ProblemError:
    """The 400 for a request that names what is wrong in ``params``."""
    detail = f"{summary}: " + "; ".join(f"{p.param}: {p.reason}" for p in params) if params else summary
    return ProblemError(400, title, detail[:MAX_DETAIL], cause, tuple(params[:MAX_INVALID_PARAMS]))


def validation_problem(exc: ValidationError, what: str, at: str = "",
                       cause: str = MANDATORY_IE_INCORRECT) -> ProblemError:
    """A pydantic ``ValidationError`` of the document ``what`` (found at ``at``) as a 400 ProblemError."""
    return invalid_request(f"{what} is invalid", invalid_params_from_errors(exc.errors(), at), cause)


def check_schema(doc: Any, validator: SchemaValidator | None, ref: str | None, what: str, at: str = "",
                 cause: str = MANDATORY_IE_INCORRECT) -> None:
    """Check ``doc`` against the 3GPP YAML schema ``ref`` (skipped without a validator or a schema)."""
    if validator is None or ref is None:
        return
    errors = validator.errors(doc, ref)
    if errors:
        params = [InvalidParam((at + path) or "/", reason) for path, reason in errors]
        raise invalid_request(f"{len(errors)} violation(s) of {what}", params, cause)


# --- documents ----------------------------------------------------------------------------------------------


def json_object(doc: Any, what: str, at: str = "") -> dict[str, Any]:
    """``doc`` if it is a JSON object, else a 400 ``INVALID_MSG_FORMAT``."""
    if not isinstance(doc, dict):
        raise ProblemError(400, "Invalid request", f"{what} must be a JSON object", INVALID_MSG_FORMAT,
                           [InvalidParam(at or "/", "not a JSON object")])
    return doc


def parse_model(doc: Any, model: type[M], *, what: str | None = None, validator: SchemaValidator | None = None,
                schema: str | None = None, at: str = "", cause: str = MANDATORY_IE_INCORRECT) -> M:
    """A JSON document as ``model``: a JSON object, valid against the YAML ``schema`` (when a validator is
    given) and against the model, strictly as JSON ("15" is not an integer). Raises a 400 :class:`ProblemError`
    naming every offending attribute as a pointer below ``at``."""
    name = what or model.__name__
    obj = json_object(doc, name, at)
    check_schema(obj, validator, schema, name, at, cause)
    try:
        return model.model_validate_json(orjson.dumps(obj), strict=True)
    except ValidationError as exc:
        raise validation_problem(exc, name, at, cause) from None


def parse_models(doc: Any, model: type[M], *, what: str | None = None, validator: SchemaValidator | None = None,
                 schema: str | None = None, single: bool = False) -> list[M]:
    """A non-empty JSON array of ``model`` (each item as :func:`parse_model`, pointers ``/0/...``); with
    ``single`` a lone object is taken as an array of one (pointers then start at the object)."""
    name = what or f"array of {model.__name__}"
    if single and isinstance(doc, dict):
        return [parse_model(doc, model, what=name, validator=validator, schema=schema)]
    if not isinstance(doc, list) or not doc:
        raise ProblemError(400, "Invalid request", f"{name} must be a non-empty JSON array", INVALID_MSG_FORMAT,
                           [InvalidParam("/", "not a non-empty array")])
    return [parse_model(item, model, what=name, validator=validator, schema=schema, at=f"/{i}")
            for i, item in enumerate(doc)]


# --- requests -----------------------------------------------------------------------------------------------


async def json_body(request: Request, media_type: str | None = None) -> Any:
    """The body as JSON, or a 415 (not JSON, or not exactly ``media_type`` when given) or a 400 (malformed)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type is not None:
        if ctype != media_type:
            raise ProblemError(415, "Unsupported Media Type", f"expected {media_type}, got {ctype or 'none'}",
                               "UNSUPPORTED_MEDIA_TYPE")
    elif ctype and ctype != JSON and not ctype.endswith("+json"):
        raise ProblemError(415, "Unsupported Media Type", f"expected {JSON}, got {ctype}", "UNSUPPORTED_MEDIA_TYPE")
    raw = await request.body()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProblemError(400, "Malformed request syntax", f"body is not valid JSON: {exc}", INVALID_MSG_FORMAT,
                           [InvalidParam("/", str(exc))]) from exc


async def read_model(request: Request, model: type[M], *, what: str | None = None,
                     validator: SchemaValidator | None = None, schema: str | None = None) -> M:
    """The body as ``model`` (:func:`json_body`, then :func:`parse_model`)."""
    return parse_model(await json_body(request), model, what=what, validator=validator, schema=schema)


async def read_models(request: Request, model: type[M], *, what: str | None = None,
                      validator: SchemaValidator | None = None, schema: str | None = None, single: bool = False,
                      media_type: str | None = None) -> list[M]:
    """The body as a non-empty array of ``model`` (:func:`json_body`, then :func:`parse_models`)."""
    return parse_models(await json_body(request, media_type), model, what=what, validator=validator, schema=schema,
                        single=single)


# --- what FastAPI validates itself (path and query parameters) ----------------------------------------------

_ORIGINS = frozenset({"body", "query", "path", "header", "cookie"})


def _request_pointer(loc: Sequence[int | str]) -> str:
    """``("body", "a", 0)`` -> ``/a/0``; ``("query", "limit")`` -> ``query:limit``."""
    if loc and loc[0] in _ORIGINS and loc[0] != "body":
        return f"{loc[0]}:{'/'.join(str(p) for p in loc[1:])}"
    return pointer(loc[1:] if loc and loc[0] == "body" else loc)


async def on_request_validation(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own validation (parameters, and bodies declared in a signature) answered like ours: 400."""
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    params = [InvalidParam(_request_pointer(tuple(e.get("loc", ()))), str(e.get("msg", ""))) for e in errors]
    if any(e.get("type") == "json_invalid" for e in errors):
        problem = invalid_request("request is malformed", params, INVALID_MSG_FORMAT, "Malformed request syntax")
    else:
        problem = invalid_request("request is invalid", params)
    return problem_response(problem, request)
