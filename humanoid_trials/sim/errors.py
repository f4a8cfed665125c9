"""Errors of the simulation layer (world building, robot models, validation executors)."""

from __future__ import annotations

from humanoid_trials.errors import TrialsError


class SimError(TrialsError):
    """Base of the simulation layer's errors."""


class RobotModelError(SimError):
    """A robot model (URDF + profile) cannot be loaded or does not match its profile; the message names the file."""


class PlanError(SimError):
    """A task cannot be turned into a motion plan (e.g. it refers to an object the site does not have)."""


class ExecutorError(SimError):
    """A validation executor is unknown or cannot start (e.g. Ray cannot connect)."""
