"""engine.hub: the hub index and how hubtest references resolve (HUBTEST-SPEC A.2)."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.hub import Hub, HubError, go_join, stage_of_path
from tests.unit.engine.hubtest_fixtures import make_hub, write


@pytest.fixture()
def hub(tmp_path: Path) -> Hub:
    return Hub(make_hub(tmp_path))


def test_index_items_sorted_with_presence(hub: Hub) -> None:
    parsers = list(hub.items("parsers"))
    assert [i.name for i in parsers] == ["test/absent", "test/app-logs", "test/dates", "test/raw"]
    raw = hub.item("parsers", "test/raw")
    assert raw is not None and raw.stage == "s00-raw" and raw.version == "0.1" and raw.exists
    assert hub.item("parsers", "test/absent").exists is False  # type: ignore[union-attr]
    assert hub.item("scenarios", "nope") is None
    assert {i.type for i in hub.items()} == {"parsers", "scenarios"}


def test_resolve_index_name_uses_index_path_and_stage(hub: Hub) -> None:
    found = hub.resolve("parsers", "test/app-logs")
    assert found.by == "index"
    assert found.stage == "s01-parse"
    assert found.file == hub.root / "parsers/s01-parse/test/app-logs.yaml"
    assert hub.resolve("scenarios", "test/app-bf").stage == ""


@pytest.mark.parametrize("ref", ["./parsers/s02-enrich/test/dates.yaml",
                                 "/parsers/s02-enrich/test/dates.yaml",
                                 "parsers/s02-enrich/test/dates.yaml"])
def test_resolve_paths_with_join_semantics(hub: Hub, ref: str) -> None:
    found = hub.resolve("parsers", ref)
    assert found.by == "path"
    assert found.stage == "s02-enrich"
    assert found.file == (hub.root / "parsers/s02-enrich/test/dates.yaml").resolve()


def test_resolve_falls_back_to_the_test_folder(hub: Hub, tmp_path: Path) -> None:
    test_dir = tmp_path / "tests" / "t1"
    own = write(test_dir / "parsers" / "s01-parse" / "me" / "own.yaml", "name: me/own\n")
    found = hub.resolve("parsers", "./parsers/s01-parse/me/own.yaml", test_dir, tmp_path / "tests")
    assert found.file == own.resolve() and found.stage == "s01-parse"
    scenario = write(test_dir / "scenarios" / "me" / "s.yaml", "name: me/s\n")
    assert hub.resolve("scenarios", "/scenarios/me/s.yaml", test_dir).file == scenario.resolve()


def test_resolve_dot_tests_names_a_sibling_test(hub: Hub, tmp_path: Path) -> None:
    tests = tmp_path / "tests"
    other = write(tests / "geo" / "parsers" / "s02-enrich" / "x" / "geo.yaml", "name: x/geo\n")
    found = hub.resolve("parsers", "./.tests/geo/parsers/s02-enrich/x/geo.yaml", tests / "t1", tests)
    assert found.file == other.resolve() and found.stage == "s02-enrich"


def test_unresolvable_and_absent_items_are_errors(hub: Hub) -> None:
    with pytest.raises(HubError, match="not in the hub index"):
        hub.resolve("parsers", "someone/unknown")
    with pytest.raises(HubError, match="does not exist"):
        hub.resolve("parsers", "test/absent")


def test_not_a_hub_dir(tmp_path: Path) -> None:
    with pytest.raises(HubError, match="not a hub directory"):
        Hub(tmp_path)


def test_go_join_and_stage_of_path() -> None:
    assert go_join("./a/b/../c.yaml") == "a/c.yaml"
    assert go_join("/x/y") == "/x/y"
    assert stage_of_path("parsers/s01-parse/me/f.yaml") == "s01-parse"
    assert stage_of_path("f.yaml") == ""
