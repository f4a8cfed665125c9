"""Names of the humanoid-trials ROS graph (topics, services, actions, namespaces), defined once. Pure Python."""

from __future__ import annotations

import re

# Absolute names of the trial-wide endpoints.
START_TRIAL = "/start_trial"
STOP_TRIAL = "/stop_trial"
TRIAL_STATE = "/trial_state"
TRIAL_EVENTS = "/trial_events"
SAFETY_EVENTS = "/safety_events"
EVENTS_STORED = "/events_stored"
HUMAN_PRESENCE = "/human_presence"
# Relative names: they resolve inside a robot node's namespace, e.g. /rby1_01/robot_status.
ROBOT_STATUS = "robot_status"
EXECUTE_TASK = "execute_task"
PROTECTIVE_STOP = "protective_stop"

_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_]")


def robot_namespace(robot_id: str) -> str:
    """ROS namespace of a robot: its id with characters ROS names do not allow replaced by '_' ('rby1-01' ->
    'rby1_01'), prefixed with 'r_' when it would start with a digit."""
    name = _NOT_ALLOWED.sub("_", robot_id)
    return f"r_{name}" if name[:1].isdigit() else name


def robot_topic(robot_id: str, name: str) -> str:
    """Absolute name of a robot node's topic, service or action, e.g. /rby1_01/execute_task."""
    return f"/{robot_namespace(robot_id)}/{name}"
