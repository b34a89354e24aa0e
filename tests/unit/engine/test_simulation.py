"""simulation.yaml: scenarios in simulation give alerts marked simulated."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from engine.content import Content
from engine.simulation import Simulation, load_simulation
from engine.spec import ContentError
from tests.unit.engine.test_content_default import feed, line


@pytest.mark.parametrize(("simulation", "exclusions", "expected"), [
    (False, [], False), (False, ["crowdsecurity/ssh-bf"], True),
    (True, [], True), (True, ["crowdsecurity/ssh-bf"], False),
])
def test_is_simulated(simulation: bool, exclusions: list[str], expected: bool) -> None:
    assert Simulation(simulation, frozenset(exclusions)).is_simulated(
        "crowdsecurity/ssh-bf") is expected
    assert Simulation(simulation, frozenset(exclusions)).is_simulated("other") is simulation


def test_load_with_local_override(write: Callable[[str, str], Path]) -> None:
    path = write("simulation.yaml", "simulation: false\nexclusions:\n  - a/b\n")
    assert load_simulation(path) == Simulation(False, frozenset({"a/b"}))
    write("simulation.yaml.local", "simulation: true\n")
    assert load_simulation(path) == Simulation(True, frozenset({"a/b"}))


def test_unknown_key_names_file_and_key(write: Callable[[str, str], Path]) -> None:
    path = write("simulation.yaml", "simulation: false\nexclusion: [a/b]\n")
    with pytest.raises(ContentError, match=r"simulation\.yaml.*exclusion"):
        load_simulation(path)


def test_alerts_of_a_simulated_scenario_are_simulated(content_dir: Path) -> None:
    lines = [line(s, ip="198.51.100.44") for s in range(8)]
    plain = Content.load([content_dir / "parsers"], [content_dir / "scenarios"],
                         content_dir / "patterns")
    simulated = Content.load([content_dir / "parsers"], [content_dir / "scenarios"],
                             content_dir / "patterns",
                             simulation=Simulation(False, frozenset({"crowdstream/ssh-bf"})))
    alerts, _ = feed(plain, lines)
    assert [(a["scenario"], a["simulated"]) for a in alerts] == [("crowdstream/ssh-bf", False)]
    alerts, _ = feed(simulated, lines)
    assert [(a["scenario"], a["simulated"]) for a in alerts] == [("crowdstream/ssh-bf", True)]
