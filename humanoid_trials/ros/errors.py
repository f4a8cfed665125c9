"""Errors of the ROS layer. Messages say which node, parameter, robot or goal failed."""

from __future__ import annotations

from humanoid_trials.errors import TrialsError


class RosLayerError(TrialsError):
    """Base of the ROS layer's errors."""


class NodeConfigError(RosLayerError):
    """A node parameter is missing or names something that does not exist (site, robot, backend)."""


class BackendError(RosLayerError):
    """A robot backend failed to start or to execute a task."""


class ConversionError(RosLayerError):
    """A message that cannot be turned into a model value (bad UUID, unknown kind, malformed JSON)."""


class ProcessError(RosLayerError):
    """A node process could not be started or died."""
