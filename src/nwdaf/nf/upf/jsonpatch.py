"""JSON Patch (IETF RFC 6902) over plain JSON values, as TS 29.500 clause 5.2.7.3 prescribes for PATCH bodies.

The document is deep-copied first, so a patch either applies completely or leaves nothing changed (RFC 6902
clause 5: a failed operation aborts the whole patch).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from nwdaf.platform.models.common import PatchItem, PatchOperation


class JsonPatchError(ValueError):
    """A patch that cannot be applied; ``index`` is the offending operation, ``pointer`` its JSON pointer."""

    def __init__(self, index: int, pointer: str, reason: str) -> None:
        super().__init__(f"patch operation {index} ({pointer!r}): {reason}")
        self.index = index
        self.pointer = pointer
        self.reason = reason


def _tokens(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError("a JSON pointer is empty or starts with '/' (RFC 6901)")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _index(container: list[Any], token: str, *, insert: bool) -> int:
    if token == "-" and insert:
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise ValueError(f"{token!r} is not an array index")
    idx = int(token)
    if idx > len(container) or (idx == len(container) and not insert):
        raise ValueError(f"array index {idx} is out of range (length {len(container)})")
    return idx


def _parent(doc: Any, tokens: list[str]) -> Any:
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict):
            if token not in node:
                raise ValueError(f"member {token!r} does not exist")
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, insert=False)]
        else:
            raise ValueError(f"cannot descend into a {type(node).__name__} at {token!r}")
    return node


def _get(doc: Any, pointer: str) -> Any:
    tokens = _tokens(pointer)
    if not tokens:
        return doc
    parent, last = _parent(doc, tokens), tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise ValueError(f"member {last!r} does not exist")
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, insert=False)]
    raise ValueError(f"{type(parent).__name__} has no member {last!r}")


def _remove(doc: Any, pointer: str) -> Any:
    tokens = _tokens(pointer)
    if not tokens:
        raise ValueError("cannot remove the whole document")
    parent, last = _parent(doc, tokens), tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise ValueError(f"member {last!r} does not exist")
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(parent, last, insert=False))
    raise ValueError(f"{type(parent).__name__} has no member {last!r}")


def _add(doc: Any, pointer: str, value: Any, *, replace: bool = False) -> Any:
    tokens = _tokens(pointer)
    if not tokens:
        return value
    parent, last = _parent(doc, tokens), tokens[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise ValueError(f"member {last!r} does not exist (replace needs an existing target)")
        parent[last] = value
    elif isinstance(parent, list):
        idx = _index(parent, last, insert=not replace)
        if replace:
            parent[idx] = value
        else:
            parent.insert(idx, value)
    else:
        raise ValueError(f"cannot add a member to a {type(parent).__name__}")
    return doc


def _apply_one(doc: Any, item: PatchItem) -> Any:
    op = item.op
    if op is PatchOperation.ADD:
        return _add(doc, item.path, copy.deepcopy(item.value))
    if op is PatchOperation.REPLACE:
        return _add(doc, item.path, copy.deepcopy(item.value), replace=True)
    if op is PatchOperation.REMOVE:
        _remove(doc, item.path)
        return doc
    if op is PatchOperation.TEST:
        if _get(doc, item.path) != item.value:
            raise ValueError("test failed: the value differs")
        return doc
    source = str(item.from_)
    if op is PatchOperation.MOVE:
        if item.path.startswith(source + "/"):
            raise ValueError("cannot move a value into one of its own children")
        return _add(doc, item.path, _remove(doc, source))
    return _add(doc, item.path, copy.deepcopy(_get(doc, source)))


def apply_patch(document: Any, patch: Sequence[PatchItem]) -> Any:
    """The patched copy of ``document``; raises :class:`JsonPatchError` naming the first failing operation."""
    doc = copy.deepcopy(document)
    for index, item in enumerate(patch):
        try:
            doc = _apply_one(doc, item)
        except ValueError as exc:
            raise JsonPatchError(index, item.path, str(exc)) from None
    return doc
