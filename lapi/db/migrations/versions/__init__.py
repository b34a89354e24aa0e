"""Revisions of the LAPI schema, oldest first (``0001_initial`` …)."""
