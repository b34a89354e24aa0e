"""DeadlineIndex: due keys come out once, earliest first; one live entry per key."""
from engine.deadlines import DeadlineIndex


def test_due_keys_come_out_once_in_deadline_order() -> None:
    index = DeadlineIndex()
    index.schedule("b", 20.0)
    index.schedule("a", 10.0)
    index.schedule("c", 30.0)
    index.schedule("x", None)
    assert len(index) == 3
    assert index.due(5.0) == []
    assert index.due(20.0) == ["a", "b"]
    assert index.due(20.0) == []
    assert len(index) == 1


def test_an_earlier_deadline_wins_and_a_later_one_is_not_pushed() -> None:
    index = DeadlineIndex()
    index.schedule("k", 50.0)
    index.schedule("k", 40.0)   # earlier: replaces
    index.schedule("k", 90.0)   # later: the key still comes out at 40 (the caller reschedules)
    assert len(index._heap) == 2 and len(index) == 1
    assert index.due(45.0) == ["k"]
    assert index.due(100.0) == []  # the stale 50.0 entry is dropped silently
    assert index._heap == []
