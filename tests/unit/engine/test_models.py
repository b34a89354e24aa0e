"""CrowdSec API models over alert dicts: Go zero values, Go methods, writable Go fields."""
from engine.event import Event
from engine.models import Alert, Source


def test_zero_values_for_absent_or_mistyped_fields() -> None:
    alert = Alert({"capacity": "5", "events": [{"meta": [{"key": "a", "value": "b"}], "timestamp": None}],
                   "labels": None, "source": None, "remediation": 1})
    assert (alert.Capacity, alert.Labels, alert.Remediation, alert.Source.Value) == (0, [], False, "")
    assert alert.Events[0].GetMeta("a") == "b" and alert.Events[0].GetMeta("z") == ""
    assert alert.Events[0].Timestamp == "" and alert.GetSources() == []


def test_as_number_name_as_go_builds_it() -> None:
    assert Source({"as_number": "0", "as_name": "X"}).GetAsNumberName() == " X"
    assert Source({"as_number": "64500", "as_name": "Y"}).GetAsNumberName() == "64500 Y"
    assert Source({}).GetAsNumberName() == ""


def test_statics_target_writes_through_an_overflow() -> None:
    class Overflow:
        GO_FIELDS = frozenset({"Alert"})

        def __init__(self) -> None:
            self.Alert = Alert({"source": {"scope": "Ip", "value": "2001:db8::1"}})

    evt = Event()
    evt.Overflow = Overflow()
    assert evt.set_target("evt.Overflow.Alert.Source.Value", "2001:db8::/64") is True
    assert evt.set_target("Overflow.Alert.Source.Scope", "Range") is True
    assert (evt.Overflow.Alert.Source.Value, evt.Overflow.Alert.GetScope()) == ("2001:db8::/64", "Range")
    assert evt.set_target("Overflow.Alert.Capacity", "3") is False  # not a string field
