"""What the OpenAPI of every NF documents: the request body a route reads itself and the ProblemDetails it answers.

Routes declare both with :func:`route_docs` (``@router.post(..., **route_docs(404, body=body_doc(Model)))``);
:func:`complete_openapi` then fills in what FastAPI cannot know: the body schemas (generated when the OpenAPI is,
not when a route is declared), the ``ProblemDetails`` schema (TS 29.571 clause 5.2.4.1), and 400 instead of
FastAPI's default 422, which no NF answers (parameter validation errors are 400, TS 29.500 clause 5.2.7.2).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from http import HTTPStatus
from typing import Any, Final

import fastapi.routing
from fastapi.routing import APIRoute
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.routing import BaseRoute

from nwdaf.platform.sbi.problem import PROBLEM_JSON

SCHEMAS: Final = "#/components/schemas/"
PROBLEM_DETAILS_REF: Final = SCHEMAS + "ProblemDetails"
PROBLEM_SCHEMAS: Final[dict[str, dict[str, Any]]] = {
    "ProblemDetails": {
        "type": "object",
        "description": "TS 29.571 clause 5.2.4.1: the body of every 4xx/5xx answer (application/problem+json).",
        "properties": {
            "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
            "detail": {"type": "string"}, "instance": {"type": "string"}, "cause": {"type": "string"},
            "invalidParams": {"type": "array", "minItems": 1, "items": {"$ref": SCHEMAS + "InvalidParam"}},
        },
    },
    "InvalidParam": {
        "type": "object",
        "description": "TS 29.571 clause 5.2.4.2: an offending attribute, as a JSON pointer into the request.",
        "required": ["param"],
        "properties": {"param": {"type": "string"}, "reason": {"type": "string"}},
    },
}
_DESCRIPTIONS: Final = {
    400: "Bad Request: malformed or invalid, `invalidParams` names each offending attribute",
    403: "Forbidden: the request is understood but not served",
    404: "Not Found: no such resource",
    409: "Conflict with the current state of the resource",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
    503: "Service Unavailable: try again later",
}
_FASTAPI_VALIDATION_SCHEMAS: Final = ("HTTPValidationError", "ValidationError")
_NOT_CONSTRAINTS: Final = frozenset({"title", "description", "default", "examples"})


class BodyDoc(dict[str, Any]):
    """The ``requestBody`` of a route that reads its body itself (:mod:`nwdaf.platform.sbi.body`); the schema of
    ``model`` is put in by :func:`complete_openapi`."""

    def __init__(self, model: type[BaseModel] | None, *, array: bool = False, media_type: str = "application/json",
                 description: str | None = None) -> None:
        schema: dict[str, Any] = {"type": "array", "items": {"type": "object"}} if array else {"type": "object"}
        super().__init__(required=True, content={media_type: {"schema": schema}})
        if description:
            self["description"] = description
        self.model = model
        self.array = array
        self.media_type = media_type


def body_doc(model: type[BaseModel] | None = None, *, array: bool = False, media_type: str = "application/json",
             description: str | None = None) -> BodyDoc:
    """A JSON body of ``model`` (an array of them with ``array``; any JSON object without a model)."""
    return BodyDoc(model, array=array, media_type=media_type, description=description)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries: each status answered with ProblemDetails."""
    return {status: {"description": _DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
                     "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_DETAILS_REF}}}}
            for status in sorted(set(statuses))}


def route_docs(*errors: int, body: BodyDoc | None = None) -> dict[str, Any]:
    """Keyword arguments of ``router.get/post/...``: the ProblemDetails answers ``errors`` and, for a route that
    reads a body, that body with its 400 (malformed or invalid) and 415 (not JSON)."""
    docs: dict[str, Any] = {"responses": problem_responses(*errors, *((400, 415) if body is not None else ()))}
    if body is not None:
        docs["openapi_extra"] = {"requestBody": body}
    return docs


def complete_openapi(schema: dict[str, Any], routes: Iterable[BaseRoute]) -> dict[str, Any]:
    """Finish FastAPI's OpenAPI ``schema`` of ``routes`` in place: body schemas, ProblemDetails, no 422."""
    components: dict[str, Any] = schema.setdefault("components", {}).setdefault("schemas", {})
    _add_bodies(schema, components, routes)
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            responses = operation.get("responses", {})
            if responses.pop("422", None) is not None and _parameters_can_fail(operation.get("parameters", [])):
                responses.setdefault("400", problem_responses(400)[400])
    for name in _FASTAPI_VALIDATION_SCHEMAS:  # HTTPValidationError refers to ValidationError: in this order
        if f'"{SCHEMAS}{name}"' not in json.dumps(schema):
            components.pop(name, None)
    if f'"{PROBLEM_DETAILS_REF}"' in json.dumps(schema):
        for name, definition in PROBLEM_SCHEMAS.items():
            components.setdefault(name, definition)
    if not components:
        del schema["components"]["schemas"]
    if not schema["components"]:
        del schema["components"]
    return schema


def route_views(routes: Iterable[BaseRoute]) -> Iterator[Any]:
    """Every route of an app as it serves it (path with the router's prefix, ``methods``, ``matches``,
    ``openapi_extra``): recent FastAPI keeps an included router as one route and resolves its routes through
    ``iter_route_contexts``; older ones copy them into the app's routes."""
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    yield from iterate(list(routes)) if iterate is not None else routes


def is_api_route(view: Any) -> bool:
    """Whether a :func:`route_views` entry is a FastAPI route (not ``/docs`` and the like)."""
    return isinstance(getattr(view, "original_route", view), APIRoute)


def _add_bodies(schema: dict[str, Any], components: dict[str, Any], routes: Iterable[BaseRoute]) -> None:
    docs: list[tuple[Any, BodyDoc]] = []
    for route in route_views(routes):
        body = (route.openapi_extra or {}).get("requestBody") if is_api_route(route) else None
        if isinstance(body, BodyDoc):
            docs.append((route, body))
    models = list(dict.fromkeys(doc.model for _, doc in docs if doc.model is not None))
    if not models:
        return
    refs, definitions = models_json_schema([(m, "validation") for m in models], ref_template=SCHEMAS + "{model}")
    for name, definition in definitions.get("$defs", {}).items():
        components.setdefault(name, definition)
    for route, doc in docs:
        if doc.model is None:
            continue
        ref = refs[(doc.model, "validation")]
        for method in route.methods:
            operation = schema["paths"][route.path_format][method.lower()]
            content = operation["requestBody"]["content"][doc.media_type]
            content["schema"] = {"type": "array", "items": ref} if doc.array else ref


def _parameters_can_fail(parameters: Iterable[Mapping[str, Any]]) -> bool:
    """Whether FastAPI may reject one of these parameters: a required query parameter, or one that is more than
    any string (a number, a pattern, a date-time, an enumeration)."""
    for param in parameters:
        if param.get("in") == "query" and param.get("required"):
            return True
        declared = param.get("schema", {})
        for option in declared.get("anyOf", [declared]):
            if {k: v for k, v in option.items() if k not in _NOT_CONSTRAINTS} not in ({"type": "string"},
                                                                                       {"type": "null"}):
                return True
    return False
