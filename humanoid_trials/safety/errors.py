"""Errors of the safety layer."""

from __future__ import annotations

from humanoid_trials.errors import TrialsError


class SafetyError(TrialsError):
    """Base of the safety layer's errors."""


class LimitTableError(SafetyError):
    """A body-region limit table (sites/safety/<name>.yaml) is missing or wrong, or names no such region."""


class ResumeRefusedError(SafetyError):
    """An explicit resume that may not happen now (nothing stopped, robot not yet stopped, person still too close)."""


class StopError(SafetyError):
    """A stop request that cannot be booked (unknown robot, empty scope)."""
