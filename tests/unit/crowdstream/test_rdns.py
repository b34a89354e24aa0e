"""Reverse DNS is bounded in time and cached (a fake lookup: tests never use the network)."""
import threading

from crowdstream.rdns import CachedResolver


def test_answers_are_cached() -> None:
    calls: list[str] = []

    def lookup(ip: str) -> str | None:
        calls.append(ip)
        return {"192.0.2.1": "host.example"}.get(ip)

    resolver = CachedResolver(lookup=lookup)
    assert [resolver("192.0.2.1"), resolver("192.0.2.1"), resolver("192.0.2.2"), resolver("192.0.2.2")] == [
        "host.example", "host.example", None, None]
    assert calls == ["192.0.2.1", "192.0.2.2"]


def test_slow_lookup_gives_none_then_its_late_answer() -> None:
    release = threading.Event()

    def lookup(ip: str) -> str | None:
        release.wait(5)
        return "late.example"

    resolver = CachedResolver(timeout=0.05, lookup=lookup)
    assert resolver("192.0.2.9") is None
    release.set()
    resolver._pool.shutdown(wait=True)  # the late answer is stored
    assert resolver("192.0.2.9") == "late.example"
