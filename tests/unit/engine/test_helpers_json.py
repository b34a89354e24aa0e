"""JSON helpers (jsonparser-style extraction, encoding/json decoding/encoding) and ParseKV."""
from __future__ import annotations

from typing import Any

import pytest

from engine.expr import ExprRuntimeError, StrMap, compile_expr
from engine.runtime import Runtime

RUNTIME = Runtime()


def ev(source: str, **env: Any) -> Any:
    return compile_expr(source, functions=RUNTIME.functions)(env)


BLOB = ('{"a": {"b": [1, {"c": "x\\"y"}], "n": 1.50, "t": true, "z": null, "o": {"k" : "v"} },'
        ' "log": "line1\\nline2 \\u00e9", "dup": 1, "dup": 2, "list": [{"uri": "/a"}, {"uri": "/b"}]}')


@pytest.mark.parametrize(("target", "expected"), [
    ("a.b[1].c", 'x\\"y'),  # raw: not unescaped
    ("a.b", '[1, {"c": "x\\"y"}]'),  # raw text of arrays and objects
    ("a.o", '{"k" : "v"}'),
    ("a.n", "1.50"),  # numbers as written
    ("a.t", "true"),
    ("a.z", "null"),
    ("a.b[0]", "1"),
    ("a.b[5]", ""),
    ("a.missing", ""),
    ("a.n.x", ""),
    ("dup", "1"),  # the first of duplicate keys
    ("list[1].uri", "/b"),
    ("log", "line1\\nline2 \\u00e9"),
])
def test_json_extract(target: str, expected: str) -> None:
    assert ev("JsonExtract(blob, target)", blob=BLOB, target=target) == expected


@pytest.mark.parametrize(("blob", "target", "expected"), [
    ('[{"a": 1}, {"a": 2}]', "[1].a", "2"),
    ('{"a": "b"', "a", "b"),  # lazy scan: nothing after the value is checked
    ("not json", "a", ""),
    ("", "a", ""),
    ('{"a": tru}', "a", ""),
    ('{"a\\u0062": 1}', "ab", "1"),  # escaped keys compare unescaped
    ('"top"', "", ""),
])
def test_json_extract_edge_cases(blob: str, target: str, expected: str) -> None:
    assert ev("JsonExtract(blob, target)", blob=blob, target=target) == expected


def test_json_extract_lib_takes_keys_as_arguments() -> None:
    assert ev("JsonExtractLib(blob, 'a', 'b', '[1]', 'c')", blob=BLOB) == 'x\\"y'
    assert ev("JsonExtractLib(blob, 'a', 'nope')", blob=BLOB) == ""
    assert ev("JsonExtractLib('  {\"a\":1}')") == '{"a":1}'


@pytest.mark.parametrize(("key", "expected"), [
    ("log", "line1\nline2 \u00e9"),
    ("dup", ""),  # not a string
    ("nope", ""),
    ("a.n", ""),  # the key is not split on dots
])
def test_json_extract_unescape(key: str, expected: str) -> None:
    assert ev("JsonExtractUnescape(blob, key)", blob=BLOB, key=key) == expected


def test_json_extract_unescape_ignores_further_keys() -> None:
    assert ev("JsonExtractUnescape(blob, 'log', 'x')", blob=BLOB) == "line1\nline2 \u00e9"


def test_json_extract_slice_and_object() -> None:
    assert ev("JsonExtractSlice(blob, 'a.b')", blob=BLOB) == [1.0, {"c": 'x"y'}]
    assert type(ev("JsonExtractSlice(blob, 'a.b')", blob=BLOB)[0]) is float
    assert ev("JsonExtractSlice(blob, 'a.o')", blob=BLOB) is None  # not an array
    assert ev("JsonExtractSlice(blob, 'nope')", blob=BLOB) is None
    assert ev("JsonExtractObject(blob, 'a.o')", blob=BLOB) == {"k": "v"}
    assert ev("JsonExtractObject(blob, 'a.b')", blob=BLOB) is None
    assert ev("map(JsonExtractSlice(blob, 'list'), JsonExtract(ToJsonString(#), 'uri'))",
              blob=BLOB) == ["/a", "/b"]


@pytest.mark.parametrize(("source", "expected"), [
    ("ToJsonString({'b': 1, 'a': [1.5, nil, true, '<x>&']})",
     '{"a":[1.5,null,true,"\\u003cx\\u003e\\u0026"],"b":1}'),
    ("ToJsonString('é\\n\\u2028')", '"é\\n\\u2028"'),
    ("ToJsonString(1e21)", "1e+21"),
    ("ToJsonString(1e20)", "100000000000000000000"),
    ("ToJsonString(0.0000001)", "1e-7"),
    ("ToJsonString(1.0)", "1"),
    ("ToJsonString(-0.5)", "-0.5"),
    ("ToJsonString([])", "[]"),
    ("ToJsonString(nil)", "null"),
])
def test_to_json_string(source: str, expected: str) -> None:
    assert ev(source) == expected


def test_to_json_string_unsupported_is_empty() -> None:
    assert ev("ToJsonString(x)", x=float("nan")) == ""
    assert ev("ToJsonString(x)", x=object()) == ""


def test_unmarshal_json_decodes_like_go() -> None:
    target: dict[str, Any] = {}
    assert ev("UnmarshalJSON(s, t, 'k')", s='{"a": 1, "b": [true, null, "x"], "c": 1.5e3}',
              t=target) is None
    assert target == {"k": {"a": 1.0, "b": [True, None, "x"], "c": 1500.0}}
    assert type(target["k"]["a"]) is float  # every JSON number is a float64
    ev("UnmarshalJSON('[1]', t, 'k')", t=target)  # overwrites
    assert target == {"k": [1.0]}


@pytest.mark.parametrize("bad", ["", "{", '{"a": 1} x', "NaN", '{"a": Infinity}', "1e400", "{'a': 1}"])
def test_unmarshal_json_errors_store_nothing(bad: str) -> None:
    target: dict[str, Any] = {}
    with pytest.raises(ExprRuntimeError, match="UnmarshalJSON"):
        ev("UnmarshalJSON(s, t, 'k')", s=bad, t=target)
    assert target == {}


def test_unmarshal_json_needs_a_map_target() -> None:
    with pytest.raises(ExprRuntimeError, match="argument 2"):
        ev("UnmarshalJSON('{}', nil, 'k')")


IPTABLES = ("IN=eth0 OUT= MAC=00:0c:29 SRC=1.2.3.4 DST=10.0.0.1 LEN=40 PROTO=TCP SPT=44 DPT=22 "
            'WINDOW=1024 RES=0x00 SYN URGP=0 msg="a \\"quoted\\" value" empty=""')


def test_parse_kv() -> None:
    target: dict[str, Any] = {}
    assert ev("ParseKV(line, t, 'iptables')", line=IPTABLES, t=target) is None
    kv = target["iptables"]
    assert type(kv) is StrMap
    assert kv == {"IN": "eth0", "OUT": "", "MAC": "00:0c:29", "SRC": "1.2.3.4", "DST": "10.0.0.1",
                  "LEN": "40", "PROTO": "TCP", "SPT": "44", "DPT": "22", "WINDOW": "1024",
                  "RES": "0x00", "URGP": "0", "msg": 'a \\"quoted\\" value', "empty": ""}
    assert kv["missing"] == ""


def test_parse_kv_merges_into_an_existing_map() -> None:
    target: dict[str, Any] = {}
    ev("ParseKV('a=1 b=2', t, 'p')", t=target)
    ev("ParseKV('b=3 c=4', t, 'p')", t=target)
    assert target == {"p": {"a": "1", "b": "3", "c": "4"}}


def test_parse_kv_errors() -> None:
    target: dict[str, Any] = {}
    with pytest.raises(ExprRuntimeError, match="invalid input format"):
        ev("ParseKV('no pairs here', t, 'p')", t=target)
    assert target == {}  # checked before the target map is created
    target["p"] = {"x": 1}
    with pytest.raises(ExprRuntimeError, match="not a map"):
        ev("ParseKV('a=1', t, 'p')", t=target)


def test_parse_kv_lax() -> None:
    target: dict[str, Any] = {}
    line = ('CEF:0|Ubiquiti|UniFi|8 msg=User admin logged in from 1.2.3.4 src=1.2.3.4 '
            'note="has key=inside \\"q\\"" last=')
    ev("ParseKVLax(line, t, 'unifi')", line=line, t=target)
    assert target == {"unifi": {"msg": "User admin logged in from 1.2.3.4", "src": "1.2.3.4",
                                "note": 'has key=inside "q"', "last": ""}}


def test_parse_kv_lax_errors_after_creating_the_map() -> None:
    target: dict[str, Any] = {}
    with pytest.raises(ExprRuntimeError, match="invalid input format"):
        ev("ParseKVLax('=nothing', t, 'p')", t=target)
    assert target == {"p": {}}
