"""The stash: TTL and size on event time, strategies, and the expression helpers."""
from __future__ import annotations

from typing import Any

import pytest

from engine.expr import ExprRuntimeError, compile_expr
from engine.gotime import GoDuration
from engine.helpers.stash import Stash
from engine.runtime import Runtime

S = 1_000_000_000


def test_ttl_is_measured_on_event_time() -> None:
    stash = Stash()
    stash.configure("c", ttl_ns=5 * S, size=10)
    stash.set("c", "k", "v", now_ns=100 * S)
    assert stash.get("c", "k", now_ns=100 * S) == "v"
    assert stash.get("c", "k", now_ns=105 * S) == "v"  # expiry is inclusive
    assert stash.get("c", "k", now_ns=105 * S + 1) == ""
    assert stash.size_of("c") == 0  # reading an expired entry removes it
    assert stash.get("c", "k", now_ns=100 * S) == ""  # gone even if time goes back


def test_set_refreshes_value_and_ttl() -> None:
    stash = Stash()
    stash.configure("c", ttl_ns=5 * S, size=10)
    stash.set("c", "k", "v1", now_ns=0)
    stash.set("c", "k", "v2", now_ns=4 * S)
    assert stash.get("c", "k", now_ns=9 * S) == "v2"
    assert stash.get("c", "k", now_ns=9 * S + 1) == ""


def test_per_set_ttl_overrides_the_cache_ttl() -> None:
    stash = Stash()
    stash.configure("c", ttl_ns=5 * S, size=10)
    stash.set("c", "k", "v", now_ns=0, ttl_ns=60 * S)
    assert stash.get("c", "k", now_ns=60 * S) == "v"


def test_zero_ttl_expires_at_the_next_nanosecond() -> None:
    stash = Stash()
    stash.configure("c", ttl_ns=0, size=1)
    stash.set("c", "k", "v", now_ns=10)
    assert stash.get("c", "k", now_ns=10) == "v"
    assert stash.get("c", "k", now_ns=11) == ""


def test_lru_eviction_counts_reads_as_uses() -> None:
    stash = Stash()
    stash.configure("c", ttl_ns=60 * S, size=2)
    stash.set("c", "a", "1", now_ns=0)
    stash.set("c", "b", "2", now_ns=1)
    assert stash.get("c", "a", now_ns=2) == "1"  # b is now the least recently used
    stash.set("c", "c", "3", now_ns=3)
    assert (stash.get("c", "a", now_ns=4), stash.get("c", "b", now_ns=4), stash.get("c", "c", now_ns=4)) \
        == ("1", "", "3")
    assert stash.size_of("c") == 2


def test_expired_entries_take_room_until_read() -> None:
    stash = Stash()
    stash.configure("c", ttl_ns=1, size=2)
    stash.set("c", "old", "x", now_ns=0)
    stash.set("c", "b", "2", now_ns=100)
    stash.set("c", "c", "3", now_ns=100)  # evicts the least recently used: "old"
    assert stash.size_of("c") == 2
    assert stash.get("c", "b", now_ns=101) == "2"


def test_overwriting_a_key_in_a_full_cache_evicts_nothing() -> None:
    stash = Stash()
    stash.configure("c", ttl_ns=60 * S, size=2)
    stash.set("c", "a", "1", now_ns=0)
    stash.set("c", "b", "2", now_ns=0)
    stash.set("c", "a", "3", now_ns=0)
    assert (stash.get("c", "a", now_ns=0), stash.get("c", "b", now_ns=0)) == ("3", "2")


def test_lfu_evicts_the_least_read() -> None:
    stash = Stash()
    stash.configure("c", ttl_ns=60 * S, size=2, strategy="LFU")
    stash.set("c", "a", "1", now_ns=0)
    stash.set("c", "b", "2", now_ns=0)
    for _ in range(3):
        stash.get("c", "a", now_ns=0)
    stash.get("c", "b", now_ns=0)
    stash.get("c", "a", now_ns=0)  # a is most recent and most read
    stash.set("c", "c", "3", now_ns=0)
    assert (stash.get("c", "a", now_ns=0), stash.get("c", "b", now_ns=0)) == ("1", "")


def test_unknown_cache_and_first_configuration_wins() -> None:
    stash = Stash()
    stash.set("nope", "k", "v", now_ns=0)  # ignored
    assert stash.get("nope", "k", now_ns=0) == ""
    stash.configure("c", ttl_ns=5 * S, size=1)
    stash.configure("c", ttl_ns=60 * S, size=100)
    stash.set("c", "k", "v", now_ns=0)
    assert stash.get("c", "k", now_ns=6 * S) == ""
    assert len(stash) == 1 and stash.has("c")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"ttl_ns": S, "size": 0}, "size must be at least 1"),
    ({"ttl_ns": -1, "size": 1}, "negative ttl"),
])
def test_configure_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Stash().configure("c", **kwargs)


def test_expression_helpers_use_the_current_event_time() -> None:
    runtime = Runtime()
    runtime.stash.configure("charon_ipsec_logs", ttl_ns=5 * S, size=10)
    get = compile_expr("GetFromStash('charon_ipsec_logs', evt_thread)", functions=runtime.functions)
    put = compile_expr("SetInStash('charon_ipsec_logs', evt_thread, 'ike-42')", functions=runtime.functions)
    with pytest.raises(ExprRuntimeError, match="no current event time"):
        get({"evt_thread": "07"})
    runtime.event_time_ns = 1000 * S
    assert put({"evt_thread": "07"}) is None
    assert get({"evt_thread": "07"}) == "ike-42"
    assert get({"evt_thread": "08"}) == ""
    runtime.event_time_ns = 1005 * S
    assert get({"evt_thread": "07"}) == "ike-42"
    runtime.event_time_ns = 1006 * S
    assert get({"evt_thread": "07"}) == ""
    assert compile_expr("GetFromStash('nope', 'k')", functions=runtime.functions)({}) == ""


def test_set_in_stash_with_a_duration() -> None:
    runtime = Runtime()
    runtime.stash.configure("c", ttl_ns=S, size=10)
    runtime.event_time_ns = 0
    compile_expr("SetInStash('c', 'k', 'v', d)", functions=runtime.functions)({"d": GoDuration(60 * S)})
    runtime.event_time_ns = 60 * S
    assert compile_expr("GetFromStash('c', 'k')", functions=runtime.functions)({}) == "v"
    with pytest.raises(ExprRuntimeError, match="argument 4"):
        compile_expr("SetInStash('c', 'k', 'v', '1m')", functions=runtime.functions)({})
