"""UPF configuration (packet source strings) and the JSON Patch engine used by Nupf_EventExposure Modify."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from nwdaf.nf.upf.config import UpfConfig, parse_source
from nwdaf.nf.upf.jsonpatch import JsonPatchError, apply_patch
from nwdaf.platform.models.common import PatchItem

pytestmark = pytest.mark.unit


def test_source_strings_parse() -> None:
    assert parse_source("none").kind == "none"
    pcap = parse_source("pcap:/data/x.pcap:2.5")
    assert (pcap.kind, pcap.path, pcap.speed) == ("pcap", Path("/data/x.pcap"), 2.5)
    assert parse_source("pcap:/data/x.pcap").speed is None
    syn = parse_source("synthetic:scan:7")
    assert (syn.scenario, syn.seed) == ("scan", 7)
    live = parse_source("live:n3@nwdaf-tb-upf")
    assert (live.iface, live.netns) == ("n3", "nwdaf-tb-upf")
    assert parse_source("live:eth0").netns is None


@pytest.mark.parametrize(("text", "needle"), [
    ("kafka:x", "unknown packet source"),
    ("pcap:", "needs a path"),
    ("synthetic:scan:x", "seed"),
    ("live:", "interface"),
    ("live:averyveryverylongname", "interface"),
    ("live:eth0@bad/ns", "namespace"),
    ("flows:zeek:/x.log", "unknown packet source"),
])
def test_bad_source_strings_name_the_problem(text: str, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        parse_source(text)


def test_config_rejects_bad_fields_by_name() -> None:
    with pytest.raises(ValidationError) as err:
        UpfConfig(source="pcap:", enforcement="iptables")
    fields = {e["loc"][0] for e in err.value.errors()}
    assert fields == {"source", "enforcement"}
    assert UpfConfig(enforcement="nft:nwdaf-tb-upf").enforcement == "nft:nwdaf-tb-upf"


def _ops(*ops: dict[str, Any]) -> list[PatchItem]:
    return [PatchItem.model_validate(op) for op in ops]


def test_patch_operations_follow_rfc6902() -> None:
    doc = {"a": {"b": 1, "list": [1, 2, 3]}, "c": "x"}
    out = apply_patch(doc, _ops(
        {"op": "replace", "path": "/a/b", "value": 5},
        {"op": "add", "path": "/a/list/1", "value": 9},
        {"op": "add", "path": "/a/list/-", "value": 4},
        {"op": "remove", "path": "/c"},
        {"op": "copy", "from": "/a/b", "path": "/d"},
        {"op": "move", "from": "/d", "path": "/e"},
        {"op": "test", "path": "/e", "value": 5},
        {"op": "add", "path": "/a~1b", "value": True},
    ))
    assert out == {"a": {"b": 5, "list": [1, 9, 2, 3, 4]}, "e": 5, "a/b": True}
    assert doc == {"a": {"b": 1, "list": [1, 2, 3]}, "c": "x"}, "the input must not change"


@pytest.mark.parametrize(("op", "reason"), [
    ({"op": "replace", "path": "/missing", "value": 1}, "does not exist"),
    ({"op": "remove", "path": "/a/list/7"}, "out of range"),
    ({"op": "test", "path": "/a/b", "value": 2}, "test failed"),
    ({"op": "add", "path": "a/b", "value": 2}, "starts with '/'"),
    ({"op": "move", "from": "/a", "path": "/a/x"}, "own children"),
    ({"op": "add", "path": "/a/list/01", "value": 2}, "not an array index"),
])
def test_failing_patch_names_the_operation_and_changes_nothing(op: dict[str, Any], reason: str) -> None:
    doc = {"a": {"b": 1, "list": [1]}}
    with pytest.raises(JsonPatchError, match=reason) as err:
        apply_patch(doc, _ops({"op": "replace", "path": "/a/b", "value": 3}, op))
    assert err.value.index == 1
    assert doc == {"a": {"b": 1, "list": [1]}}
