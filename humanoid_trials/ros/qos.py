"""QoS profiles of the humanoid-trials graph and the liveness timings, defined once (names: `names.py`)."""

from __future__ import annotations

from rclpy.duration import Duration
from rclpy.qos import DurabilityPolicy, HistoryPolicy, LivelinessPolicy, QoSProfile, ReliabilityPolicy

# Graph names live in names.py (pure Python); re-exported here for nodes that import only qos.
from humanoid_trials.ros.names import (  # noqa: F401
    EVENTS_STORED,
    EXECUTE_TASK,
    HUMAN_PRESENCE,
    PROTECTIVE_STOP,
    ROBOT_STATUS,
    SAFETY_EVENTS,
    START_TRIAL,
    STOP_TRIAL,
    TRIAL_EVENTS,
    TRIAL_STATE,
    robot_namespace,
    robot_topic,
)

LIVELINESS_LEASE_S = 1.0
"""A robot whose status writer misses its lease this long (s) is reported not alive by DDS."""
HEARTBEAT_PERIOD_S = 0.2
"""Robot status (heartbeat) period (s)."""
ROBOT_LOST_AFTER_S = 1.0
"""A robot with no status for this long (s), or whose liveliness lapsed, is lost."""


LATCHED = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=1,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
"""Latest value reaches late joiners (trial_state)."""

EVENTS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=1000,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
"""Trial and safety events: reliable, the last 1000 kept for a late recorder; producers re-send until acked."""

ACKS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=100,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)
"""Acknowledgements of stored events."""

ROBOT_STATUS_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=5,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
    liveliness=LivelinessPolicy.AUTOMATIC,
    liveliness_lease_duration=Duration(seconds=LIVELINESS_LEASE_S),
)
"""Robot status heartbeat with DDS liveliness (lease 1 s)."""

SENSOR = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=10,
    reliability=ReliabilityPolicy.BEST_EFFORT,
    durability=DurabilityPolicy.VOLATILE,
)
"""High-rate observations (human presence)."""
