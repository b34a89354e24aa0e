"""CrowdSec's ``simulation.yaml``: which scenarios only simulate (their alerts, and so their
decisions, are marked ``simulated``; the LAPI stores them but never gives them to bouncers).

``simulation: true`` simulates every scenario except the ``exclusions``; ``false`` simulates
only the ``exclusions``. A ``simulation.yaml.local`` beside the file overrides its keys.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.spec import ContentError, load_documents


@dataclass(frozen=True, slots=True)
class Simulation:
    simulation: bool = False
    exclusions: frozenset[str] = frozenset()

    def is_simulated(self, scenario: str) -> bool:
        return self.simulation != (scenario in self.exclusions)


def load_simulation(path: Path) -> Simulation:
    """The simulation settings of ``path`` (and ``path.local``); ContentError naming the
    file and key of a problem."""
    simulation, exclusions = False, frozenset[str]()
    for file in (path, path.with_name(path.name + ".local")):
        if file is not path and not file.exists():
            continue
        docs = load_documents(file)
        if len(docs) > 1:
            raise ContentError(f"{file}: one YAML document expected, got {len(docs)}")
        for fields in docs:
            fields.check(("simulation", "exclusions"))
            if fields.present("simulation"):
                simulation = fields.bool("simulation")
            if fields.present("exclusions"):
                exclusions = frozenset(fields.strings("exclusions"))
    return Simulation(simulation, exclusions)
