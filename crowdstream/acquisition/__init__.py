"""Acquisition: read logs from datasources and ship them to the raw topic."""
