"""Message <-> model conversions round-trip and reject malformed input with a message."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from builtin_interfaces.msg import Time

from humanoid_trials.model import Catalog
from humanoid_trials.model.events import EventKind, SafetyEvent, Severity, TrialEvent
from humanoid_trials.ros.backends import BackendStatus, BasePose, TaskRequest
from humanoid_trials.ros.convert import (
    event_from_msg,
    event_to_msg,
    from_time,
    goal_to_request,
    request_to_goal,
    safety_from_msg,
    safety_to_msg,
    status_to_msg,
    to_time,
)
from humanoid_trials.ros.errors import ConversionError


def test_time_round_trip_and_zero() -> None:
    stamp = datetime(2026, 11, 25, 1, 2, 3, 456789, tzinfo=UTC)
    assert from_time(to_time(stamp)) == stamp
    assert from_time(Time()) is None
    assert to_time(None) == Time()
    with pytest.raises(ConversionError, match="timezone-aware"):
        to_time(datetime(2026, 1, 1))


def test_trial_event_round_trip() -> None:
    event = TrialEvent(
        trial_id=uuid.uuid4(),
        kind=EventKind.TASK_ASSIGNED,
        payload={"task_id": "a", "n": [1, 2]},
        stamp=datetime(2026, 11, 25, 1, 0, 0, 250000, tzinfo=UTC),
    )
    assert event_from_msg(event_to_msg(event)) == event


def test_malformed_trial_event_is_rejected_with_the_reason() -> None:
    msg = event_to_msg(TrialEvent(trial_id=uuid.uuid4(), kind=EventKind.STOP))
    msg.kind = "exploded"
    with pytest.raises(ConversionError, match="unknown kind 'exploded'"):
        event_from_msg(msg)
    msg = event_to_msg(TrialEvent(trial_id=uuid.uuid4(), kind=EventKind.STOP))
    msg.payload_json = "[1]"
    with pytest.raises(ConversionError, match="expected a JSON object"):
        event_from_msg(msg)
    msg.payload_json, msg.trial_id = "{}", "nope"
    with pytest.raises(ConversionError, match="not a UUID"):
        event_from_msg(msg)


def test_safety_event_round_trip() -> None:
    event = SafetyEvent(
        site_id="s",
        type="separation",
        severity=Severity.CRITICAL,
        robot_id="rby1-01",
        measured=0.4,
        limit=0.9,
        unit="m",
        location_m=(1.0, 2.0, 0.5),
        evidence={"person": "w1"},
        trial_id=uuid.uuid4(),
        stamp=datetime(2026, 11, 25, 1, 0, tzinfo=UTC),
    )
    assert safety_from_msg(safety_to_msg(event)) == event


def test_goal_round_trip_keeps_the_typed_task(catalog: Catalog) -> None:
    task = catalog.scenario("ulsan-door-bolts").tasks[1]
    request = TaskRequest(trial_id=str(uuid.uuid4()), task=task, repetition=2, attempt=3, time_scale=7.5)
    assert goal_to_request(request_to_goal(request)) == request


def test_goal_with_a_broken_task_is_rejected(catalog: Catalog) -> None:
    task = catalog.scenario("ulsan-door-bolts").tasks[0]
    goal = request_to_goal(TaskRequest("t", task, 1, 1, 1.0))
    goal.task_json = '{"id": "x", "type": "pick_place", "params": {}}'
    with pytest.raises(ConversionError, match="not a valid task"):
        goal_to_request(goal)


def test_status_message_carries_speed_from_the_velocity() -> None:
    status = BackendStatus(pose=BasePose(1.0, 2.0, 0.5), vx_m_s=0.3, vy_m_s=0.4, battery_fraction=0.8)
    msg = status_to_msg("rby1-01", "rby1-class", "busy", "pick", status, datetime.now(UTC), 7)
    assert msg.base_speed_m_s == pytest.approx(0.5)
    assert (msg.x_m, msg.y_m, msg.yaw_rad, msg.seq) == (1.0, 2.0, 0.5, 7)
    assert msg.battery_fraction == pytest.approx(0.8)
