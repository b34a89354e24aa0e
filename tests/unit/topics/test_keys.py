"""Partitioning matches Kafka's default partitioner (murmur2 vectors from Kafka's own tests)."""
import pytest

from topics.keys import murmur2, partition_for


@pytest.mark.parametrize(
    ("key", "expected"),
    [("21", -973932308), ("foobar", -790332482), ("a-little-bit-long-string", -985981536),
     ("a-little-bit-longer-string", -1486304829),
     ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971), ("abc", 479470107),
     ("", 275646681)],
)
def test_murmur2_matches_kafka(key: str, expected: int) -> None:
    assert murmur2(key.encode()) == expected


def test_partition_for_is_stable_and_in_range() -> None:
    assert partition_for("203.0.113.7", 8) == (murmur2(b"203.0.113.7") & 0x7FFFFFFF) % 8
    assert {partition_for(f"10.0.0.{i}", 8) for i in range(200)} == set(range(8))
