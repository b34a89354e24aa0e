"""Errors with a reason meant for the client (HTTP 4xx) or the operator."""
from __future__ import annotations


class LapiError(Exception):
    """Base class; ``str(exc)`` is a one-line reason."""


class InvalidAlert(LapiError):
    """An alert that cannot be ingested (bad time, duration, IP…); ``index`` is its position
    in the submitted list."""

    def __init__(self, reason: str, index: int | None = None) -> None:
        super().__init__(reason if index is None else f"alert #{index}: {reason}")
        self.reason = reason
        self.index = index


class InvalidFilter(LapiError):
    """A malformed query parameter (HTTP 400)."""


class BouncerError(LapiError):
    """A bouncer management error (duplicate name, unknown bouncer, bad key)."""


class ProfileError(LapiError):
    """A profiles.yaml that cannot be loaded, or a profile that failed on an alert."""
