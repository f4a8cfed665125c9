"""Errors of the results layer. Messages say what failed and where (database URL, table, event id, site)."""

from __future__ import annotations

from humanoid_trials.errors import TrialsError


class ResultsError(TrialsError):
    """Base of the results layer's errors."""


class StoreError(ResultsError):
    """The results database cannot be opened, written or read (bad URL, server down, write failed)."""


class MigrationError(StoreError):
    """The database schema is not at the revision this code needs, or a migration failed."""


class EventError(ResultsError):
    """A trial event whose payload cannot be turned into store rows (missing or malformed field)."""


class ReportError(ResultsError):
    """A report or comparison that cannot be built (unknown site or trial, no data, bad filter, bad format)."""
