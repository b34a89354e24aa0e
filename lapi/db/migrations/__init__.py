"""Alembic migrations of the LAPI schema (run by :mod:`lapi.db.migrate`)."""
