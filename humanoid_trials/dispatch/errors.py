"""Errors of the dispatch layer. Messages say what failed and where (task, repetition, robot, goal)."""

from __future__ import annotations

from humanoid_trials.errors import TrialsError


class DispatchError(TrialsError):
    """Base of the dispatch layer's errors."""


class PlanError(DispatchError):
    """A scenario cannot be turned into a trial plan (unknown station, object, robot profile, dependency cycle)."""


class AllocationError(DispatchError):
    """Inconsistent input to the allocator (mismatched sizes, unknown task keys, bad weights)."""


class TrialStateError(DispatchError):
    """An input that the trial state machine cannot accept in its current state (e.g. start twice)."""


class UnknownGoalError(TrialStateError):
    """A goal id that this trial never sent."""


class UnknownRobotError(TrialStateError):
    """A robot id that is not deployed in this trial."""


class GateError(DispatchError):
    """Bad input to the validation gate (unknown mode, override without who/why)."""


class SnapshotError(DispatchError):
    """A trial snapshot that cannot be restored (wrong version, missing or malformed field)."""
