"""Go encoding/json, the one implementation every JSON-speaking part of the engine uses."""
import pytest

from engine import gojson
from engine.gotime import GoDuration


def test_loads_gives_go_any() -> None:
    assert gojson.loads('{"a":[1,2.5,{"b":null}],"c":true}') == {"a": [1.0, 2.5, {"b": None}], "c": True}
    assert type(gojson.loads("1")) is float
    with pytest.raises(ValueError, match="looking for beginning of value"):
        gojson.loads("NaN")
    with pytest.raises(ValueError, match="cannot unmarshal number 1e999 into float64"):
        gojson.loads("1e999")


@pytest.mark.parametrize(("value", "text"), [
    (0.000015, "0.000015"), (1e-7, "1e-7"), (1e21, "1e+21"), (100.0, "100"), (-0.5, "-0.5"),
    (12345678901234567890.0, "12345678901234567000"), (3, "3"), (GoDuration(1500), "1500"),
])
def test_numbers_as_go_prints_them(value: object, text: str) -> None:
    assert gojson.dumps(value) == text


def test_compact_and_indented() -> None:
    value = {"b": [1, "<&>\u2028\b"], "a": {}}
    assert gojson.dumps(value) == '{"a":{},"b":[1,"\\u003c\\u0026\\u003e\\u2028\\b"]}'
    assert gojson.dumps(value, "  ") == '{\n  "a": {},\n  "b": [\n    1,\n    "\\u003c\\u0026\\u003e\\u2028\\b"\n  ]\n}'


def test_unsupported_values_are_errors() -> None:
    with pytest.raises(ValueError, match="json: unsupported value: NaN"):
        gojson.dumps(float("nan"))
    with pytest.raises(ValueError, match="json: unsupported type: set"):
        gojson.dumps({1})
