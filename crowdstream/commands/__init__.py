"""CLI sub-commands that live outside ``crowdstream.cli`` (content tooling)."""
