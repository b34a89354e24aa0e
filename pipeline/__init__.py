"""Faust wiring only: topics → agents → tables. The content logic lives in ``engine``;
record schemas and partitioning in ``topics``."""
