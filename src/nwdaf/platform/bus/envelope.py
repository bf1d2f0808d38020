"""Versioned, typed message envelopes for the bus.

Why an envelope: consumers of a topic may run a different release than its producers (Kafka retains messages), so
every message says which schema version and payload type it carries, and when and where it was made.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field

ENVELOPE_VERSION = 1

P = TypeVar("P", bound=BaseModel)


def _now() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel, Generic[P]):
    """A message on the bus: schema version, payload type, origin, correlation and the typed payload."""

    model_config = ConfigDict(frozen=True)

    v: int = ENVELOPE_VERSION
    type: str
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    ts: datetime = Field(default_factory=_now)
    source: str = ""
    correlation_id: str | None = None
    payload: P


class EnvelopeError(ValueError):
    """A message that is not a valid envelope of the expected type and version."""


def _payload_doc(payload: BaseModel) -> dict[str, Any]:
    """The payload's JSON object. Fields a model lists in ``raw_json_fields`` hold JSON-ready data (a body as
    received, columns of plain values): orjson writes them as they are, where pydantic would walk every value to
    infer its type (most of the cost of publishing a large UPF report)."""
    raw: tuple[str, ...] = getattr(type(payload), "raw_json_fields", ())
    doc = payload.model_dump(mode="json", by_alias=True, exclude_none=True, exclude=set(raw) or None)
    for name in raw:
        value = getattr(payload, name)
        if value is not None:
            doc[type(payload).model_fields[name].alias or name] = value
    return doc


def encode(payload: BaseModel, *, type_: str, source: str = "", correlation_id: str | None = None) -> bytes:
    """Serialise ``payload`` inside an envelope (compact JSON via orjson)."""
    doc: dict[str, Any] = {
        "v": ENVELOPE_VERSION,
        "type": type_,
        "id": uuid.uuid4().hex,
        "ts": _now().isoformat().replace("+00:00", "Z"),
        "source": source,
        "correlation_id": correlation_id,
        "payload": _payload_doc(payload),
    }
    return orjson.dumps(doc)


def decode(raw: bytes, payload_type: type[P], *, type_: str | None = None) -> Envelope[P]:
    """Parse and validate an envelope; raises :class:`EnvelopeError` naming what is wrong."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise EnvelopeError(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise EnvelopeError("envelope must be a JSON object")
    version = doc.get("v")
    if version != ENVELOPE_VERSION:
        raise EnvelopeError(f"unsupported envelope version {version!r} (this build reads {ENVELOPE_VERSION})")
    if type_ is not None and doc.get("type") != type_:
        raise EnvelopeError(f"expected payload type {type_!r}, got {doc.get('type')!r}")
    try:
        return Envelope[payload_type].model_validate(doc)  # type: ignore[valid-type]
    except ValueError as exc:
        raise EnvelopeError(str(exc)) from exc
