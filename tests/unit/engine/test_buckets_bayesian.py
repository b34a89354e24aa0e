"""Bayesian buckets: float32 posteriors, guillotine, lifetime, and the validation of their keys."""
from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.bucket import BUCKET_TYPES, bayes_update, expire, float32, is_idle, pour
from engine.gotime import GoTime
from engine.scenario import Scenario, load_scenarios
from engine.spec import ContentError

Write = Callable[[str, str], Path]
T0 = 1_795_327_800.0  # 2026-11-22T06:10:00Z
NS = 10**9
BAYESIAN = BUCKET_TYPES["bayesian"]

BASE = """\
type: bayesian
name: t/bayes
description: d
filter: "true"
capacity: -1
leakspeed: 30s
bayesian_prior: 0.5
bayesian_threshold: 0.8
bayesian_conditions:
- condition: evt.Meta.path == "/"
  prob_given_evil: 0.8
  prob_given_benign: 0.2
  guillotine: true
- condition: evt.Meta.user == "admin"
  prob_given_evil: 0.9
  prob_given_benign: 0.5
  guillotine: true
"""


def load(write: Write, text: str) -> Scenario:
    return load_scenarios([write("s.yaml", text)])[0]


def event(offset: float, **meta: str) -> dict[str, Any]:
    return {"time": GoTime.from_unix(T0 + offset).marshal_text(), "meta": {"source_ip": "203.0.113.7", **meta}}


def posterior(sc: Scenario, state: dict[str, Any], evt: dict[str, Any]) -> float:
    """The posterior the bucket computed after pouring ``evt`` (recomputed from the prior)."""
    value, _ = BAYESIAN.posterior(sc, state["bucket"], evt)  # type: ignore[attr-defined]
    return value  # type: ignore[no-any-return]


# --- the arithmetic ----------------------------------------------------------------------

def test_bayes_update_is_float32() -> None:
    assert bayes_update(float32(0.5), float32(0.8), float32(0.2)) == 0.800000011920929 == float32(0.8)
    # a false condition uses the float32 complements (1 - 0.9 is 0.100000024 in float32)
    assert bayes_update(float32(0.8), float32(1 - float32(0.9)), float32(1 - float32(0.5))) == 0.44444453716278076
    assert bayes_update(float32(0.8), float32(0.1), float32(0.5)) == 0.4444444477558136
    assert bayes_update(float32(0.8), float32(0.9), float32(0.5)) == 0.878048837184906
    assert bayes_update(float32(0.5), float32(1 - float32(0.8)), float32(1 - float32(0.2))) == 0.19999998807907104
    # evidence that says nothing still moves the float32 posterior up a little
    assert bayes_update(float32(0.1), float32(0.85), float32(0.85)) == 0.10000000894069672
    assert float32(0.1) == 0.10000000149011612


def test_bayes_update_zero_denominator_is_nan() -> None:
    assert math.isnan(bayes_update(1.0, 0.0, 0.3))
    assert math.isnan(bayes_update(math.nan, 0.5, 0.5))


# --- loading -----------------------------------------------------------------------------

def test_bayesian_keys_load_as_float32(write: Write) -> None:
    sc = load(write, BASE.replace("0.8\n  prob_given_benign: 0.2", "0.7\n  prob_given_benign: 0.1"))
    assert (sc.type, sc.capacity, sc.leakspeed_ns) == ("bayesian", -1, 30 * NS)
    assert (sc.bayesian_prior, sc.bayesian_threshold) == (0.5, 0.800000011920929)
    assert [(c.condition.source, c.prob_given_evil, c.prob_given_benign, c.guillotine)
            for c in sc.bayesian_conditions] == [
        ('evt.Meta.path == "/"', 0.699999988079071, 0.10000000149011612, True),
        ('evt.Meta.user == "admin"', 0.8999999761581421, 0.5, True)]
    assert BAYESIAN.lifetime_ns(sc) == 30 * NS


# --- pouring -----------------------------------------------------------------------------

def test_guillotine_keeps_a_condition_true_and_overflows(write: Write) -> None:
    sc = load(write, BASE)
    state, overflow = pour(sc, None, T0, event(0, path="/"))
    assert overflow is None and state is not None
    assert posterior(sc, state, event(0, path="/")) == 0.44444453716278076
    assert state["bucket"]["guillotined"] == [0]
    assert json.loads(json.dumps(state)) == state
    before = copy.deepcopy(state)
    new_state, overflow = pour(sc, state, T0 + 1, event(1, user="admin"))
    assert state == before  # never mutated in place
    assert new_state is None  # dead after its overflow
    assert overflow is not None
    assert (overflow.scenario, overflow.count) == ("t/bayes", 2)
    assert (overflow.first_ns, overflow.stop_ns) == (int(T0) * NS, int(T0 + 1) * NS)
    assert (overflow.first_time, overflow.stop_time) == ("2026-11-22T06:10:00Z", "2026-11-22T06:10:01Z")
    assert [e["meta"] for e in overflow.queue] == [{"source_ip": "203.0.113.7", "path": "/"},
                                                   {"source_ip": "203.0.113.7", "user": "admin"}]


def test_without_guillotine_each_pour_starts_again_from_the_prior(write: Write) -> None:
    sc = load(write, BASE.replace("  guillotine: true\n", ""))
    state, overflow = pour(sc, None, T0, event(0, path="/"))
    assert overflow is None and state is not None and "guillotined" not in state["bucket"]
    state, overflow = pour(sc, state, T0 + 1, event(1, user="admin"))
    assert overflow is None and state is not None
    # path "/" is false again for this event: 0.5 → 0.2 → 0.31
    assert posterior(sc, state, event(1, user="admin")) == 0.31034478545188904
    assert state["bucket"]["count"] == 2 and "guillotined" not in state["bucket"]


def test_queue_conditions_see_every_event_of_the_bucket(write: Write) -> None:
    sc = load(write, BASE.replace("  guillotine: true\n", "")
              .replace('evt.Meta.path == "/"', 'any(queue.Queue, {.Meta.path == "/"})')
              .replace('evt.Meta.user == "admin"', 'any(queue.Queue, {.Meta.user == "admin"})'))
    state = None
    for i in range(3):  # the posterior does not accumulate over pours
        state, overflow = pour(sc, state, T0 + i, event(i, path="/"))
        assert overflow is None and state is not None
        assert posterior(sc, state, event(i, path="/")) == 0.44444453716278076
    state, overflow = pour(sc, state, T0 + 3, event(3, user="admin"))
    assert overflow is not None and overflow.count == 4 and overflow.stop_ns == int(T0 + 3) * NS


def test_guillotine_is_per_bucket(write: Write) -> None:
    sc = load(write, BASE)
    state, _ = pour(sc, None, T0, event(0, path="/"))
    _, overflow = pour(sc, state, T0 + 1, event(1, user="admin"))
    assert overflow is not None
    # a new bucket: path "/" is evaluated again (false), no overflow
    state, overflow = pour(sc, None, T0 + 2, event(2, user="admin"))
    assert overflow is None and state is not None
    assert posterior(sc, state, event(2, user="admin")) == 0.31034478545188904
    assert state["bucket"]["guillotined"] == [1]


def test_posterior_equal_to_the_threshold_does_not_overflow(write: Write) -> None:
    sc = load(write, BASE.replace("  guillotine: true\n", "").replace(
        '- condition: evt.Meta.user == "admin"\n  prob_given_evil: 0.9\n  prob_given_benign: 0.5\n', ""))
    state, overflow = pour(sc, None, T0, event(0, path="/"))
    assert overflow is None and state is not None
    assert posterior(sc, state, event(0, path="/")) == sc.bayesian_threshold == 0.800000011920929


def test_float32_rounding_decides_the_overflow(write: Write) -> None:
    text = BASE.split("bayesian_prior")[0] + (
        "bayesian_prior: 0.1\nbayesian_threshold: 0.1\nbayesian_conditions:\n"
        "- condition: 'true'\n  prob_given_evil: 0.85\n  prob_given_benign: 0.85\n")
    sc = load(write, text)
    _, overflow = pour(sc, None, T0, event(0))  # 0.10000000894 > float32(0.1)
    assert overflow is not None and overflow.count == 1


def test_leaky_is_available_and_failing_conditions_are_skipped(write: Write) -> None:
    text = BASE.split("bayesian_conditions")[0].replace("0.8", "0.85") + (
        "bayesian_conditions:\n"
        "- condition: evt.Meta.path\n  prob_given_evil: 0.99\n  prob_given_benign: 0.01\n"
        "- condition: leaky.Total_count >= 3\n  prob_given_evil: 0.9\n  prob_given_benign: 0.1\n")
    sc = load(write, text)
    state = None
    for i in range(2):
        state, overflow = pour(sc, state, T0 + i, event(i, path="/"))
        assert overflow is None and state is not None
        assert posterior(sc, state, event(i, path="/")) == 0.10000002384185791
    state, overflow = pour(sc, state, T0 + 2, event(2, path="/"))
    assert overflow is not None and overflow.count == 3


def test_lifetime_is_leakspeed(write: Write) -> None:
    sc = load(write, BASE)
    state, _ = pour(sc, None, T0, event(0, path="/"))
    kept, overflow = pour(sc, state, T0 + 30, event(30, user="nobody"))
    assert overflow is None and kept is not None and kept["bucket"]["count"] == 2
    assert is_idle(sc, state, T0 + 30) is False and is_idle(sc, state, T0 + 30.000001) is True
    assert expire(sc, state, T0 + 31) == (None, None)
    # 31s later the bucket (and its guillotine) is gone: no overflow
    fresh, overflow = pour(sc, state, T0 + 31, event(31, user="admin"))
    assert overflow is None and fresh is not None
    assert (fresh["bucket"]["count"], fresh["bucket"]["guillotined"]) == (1, [1])


# --- validation --------------------------------------------------------------------------

def line_of(text: str, start: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), 1) if ln.startswith(start))


def error_of(write: Write, text: str) -> str:
    """The load error of scenario ``text``, without its leading ``FILE:``."""
    path = write("bad.yaml", text)
    with pytest.raises(ContentError) as info:
        load_scenarios([path])
    message = str(info.value)
    assert message.startswith(f"{path}:")
    return message[len(str(path)) + 1:]


@pytest.mark.parametrize(("change", "key_line", "message"), [
    (("bayesian_prior: 0.5", "bayesian_prior: 0"), "bayesian_prior",
     "bayesian_prior: invalid prior: must be > 0 and <= 1"),
    (("bayesian_prior: 0.5", "bayesian_prior: 1.5"), "bayesian_prior",
     "bayesian_prior: invalid prior: must be > 0 and <= 1"),
    (("bayesian_prior: 0.5", "bayesian_prior: high"), "bayesian_prior",
     "bayesian_prior: expected a number, got 'high'"),
    (("bayesian_threshold: 0.8", "bayesian_threshold: -0.1"), "bayesian_threshold",
     "bayesian_threshold: invalid threshold: must be > 0 and <= 1"),
    (("bayesian_threshold: 0.8", "bayesian_threshold: 2"), "bayesian_threshold",
     "bayesian_threshold: invalid threshold: must be > 0 and <= 1"),
    (("bayesian_threshold: 0.8\n", ""), "type", "bayesian_threshold: is required"),
    (("bayesian_prior: 0.5\n", ""), "type", "bayesian_prior: is required"),
    (('- condition: evt.Meta.path == "/"\n', '- prob: 1\n  condition: evt.Meta.path == "/"\n'),
     "- prob", "bayesian_conditions[0].prob: unknown key"),
    (('- condition: evt.Meta.user == "admin"\n', '- condition: ""\n'),
     '- condition: ""', "bayesian_conditions[1].condition: is required"),
    (('evt.Meta.user == "admin"', "foo.Meta"), "- condition: foo.Meta",
     "bayesian_conditions[1].condition: invalid expression: unknown name foo (1:1)\n | foo.Meta\n | ^"),
    (("  prob_given_benign: 0.5\n", ""), "- condition: evt.Meta.user",
     "bayesian_conditions[1].prob_given_benign: is required"),
    (("  prob_given_evil: 0.9\n", "  prob_given_evil: 1.2\n"), "  prob_given_evil: 1.2",
     "bayesian_conditions[1].prob_given_evil: invalid probability: must be >= 0 and <= 1"),
    (("  prob_given_benign: 0.2\n", "  prob_given_benign: -0.2\n"), "  prob_given_benign: -0.2",
     "bayesian_conditions[0].prob_given_benign: invalid probability: must be >= 0 and <= 1"),
    (("  prob_given_benign: 0.2\n  guillotine: true", "  prob_given_benign: 0.2\n  guillotine: 1"),
     "  guillotine: 1", "bayesian_conditions[0].guillotine: expected true or false, got '1'"),
    (("capacity: -1", "capacity: 5"), "type", "bayesian bucket: invalid capacity '5': must be -1"),
    (("leakspeed: 30s\n", ""), "type", "bayesian bucket: leakspeed is required and must be > 0"),
])
def test_invalid_bayesian_scenarios(write: Write, change: tuple[str, str], key_line: str, message: str) -> None:
    text = BASE.replace(*change)
    assert text != BASE
    assert error_of(write, text) == f"{line_of(text, key_line)}: {message}"


@pytest.mark.parametrize(("conditions", "key_line", "message"), [
    ("[]", "bayesian_conditions", "bayesian_conditions: is required"),
    ("{condition: 'true'}", "bayesian_conditions", "bayesian_conditions: expected a list"),
    ("['true']", "type", "bayesian_conditions[0]: expected a mapping"),  # the document's line
])
def test_conditions_must_be_a_list_of_mappings(write: Write, conditions: str, key_line: str, message: str) -> None:
    text = BASE.split("bayesian_conditions")[0] + f"bayesian_conditions: {conditions}\n"
    assert error_of(write, text) == f"{line_of(text, key_line)}: {message}"


@pytest.mark.parametrize("key", ["bayesian_prior: 0.5", "bayesian_threshold: 0.5",
                                 "bayesian_conditions: []"])
def test_bayesian_keys_are_only_for_bayesian_buckets(write: Write, key: str) -> None:
    text = ("type: leaky\nname: t/l\ndescription: d\nfilter: 'true'\ncapacity: 5\nleakspeed: 10s\n"
            f"{key}\n")
    assert error_of(write, text) == f"7: {key.split(':')[0]}: is only for bayesian buckets"
