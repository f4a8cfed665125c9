"""Message <-> model conversions. Times are UTC `datetime`s in the model and builtin_interfaces/Time on the wire."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from builtin_interfaces.msg import Time
from humanoid_trials_interfaces.action import ExecuteTask
from humanoid_trials_interfaces.msg import RobotStatus as RobotStatusMsg
from humanoid_trials_interfaces.msg import SafetyEvent as SafetyEventMsg
from humanoid_trials_interfaces.msg import TrialEvent as TrialEventMsg
from pydantic import ValidationError

from humanoid_trials.model import task_from_dict
from humanoid_trials.model.events import EventKind, SafetyEvent, Severity, TrialEvent
from humanoid_trials.ros.backends import BackendStatus, TaskRequest
from humanoid_trials.ros.errors import ConversionError

_NS = 1_000_000_000


def to_time(value: datetime | None) -> Time:
    """UTC datetime -> Time (zero for None)."""
    if value is None:
        return Time()
    if value.tzinfo is None:
        raise ConversionError(f"naive datetime {value!r}: message times must be timezone-aware UTC")
    ns = round(value.timestamp() * _NS)
    return Time(sec=ns // _NS, nanosec=ns % _NS)


def from_time(msg: Time) -> datetime | None:
    """Time -> UTC datetime (None for zero)."""
    if msg.sec == 0 and msg.nanosec == 0:
        return None
    return datetime.fromtimestamp(msg.sec + msg.nanosec / _NS, tz=UTC)


def _required_time(msg: Time, what: str) -> datetime:
    value = from_time(msg)
    if value is None:
        raise ConversionError(f"{what}: stamp is zero; expected a UTC time")
    return value


def _uuid(text: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError as exc:
        raise ConversionError(f"{what}: {text!r} is not a UUID") from exc


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text) if text else {}
    except json.JSONDecodeError as exc:
        raise ConversionError(f"{what}: payload is not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ConversionError(f"{what}: payload is {type(data).__name__}, expected a JSON object")
    return data


def event_to_msg(event: TrialEvent) -> TrialEventMsg:
    return TrialEventMsg(
        event_id=str(event.event_id),
        trial_id=str(event.trial_id),
        kind=event.kind.value,
        stamp=to_time(event.stamp),
        payload_json=json.dumps(dict(event.payload), sort_keys=True, separators=(",", ":")),
    )


def event_from_msg(msg: TrialEventMsg) -> TrialEvent:
    what = f"trial event {msg.event_id!r}"
    try:
        kind = EventKind(msg.kind)
    except ValueError as exc:
        raise ConversionError(f"{what}: unknown kind {msg.kind!r}") from exc
    return TrialEvent(
        event_id=_uuid(msg.event_id, what),
        trial_id=_uuid(msg.trial_id, what),
        kind=kind,
        stamp=_required_time(msg.stamp, what),
        payload=_json_object(msg.payload_json, what),
    )


def safety_to_msg(event: SafetyEvent) -> SafetyEventMsg:
    return SafetyEventMsg(
        event_id=str(event.event_id),
        trial_id=str(event.trial_id) if event.trial_id else "",
        site_id=event.site_id,
        type=event.type,
        severity=event.severity.value,
        robot_id=event.robot_id,
        measured=float(event.measured),
        limit=float(event.limit),
        unit=event.unit,
        location_m=[float(v) for v in event.location_m],
        evidence_json=json.dumps(dict(event.evidence), sort_keys=True, separators=(",", ":")),
        stamp=to_time(event.stamp),
    )


def safety_from_msg(msg: SafetyEventMsg) -> SafetyEvent:
    what = f"safety event {msg.event_id!r}"
    try:
        severity = Severity(msg.severity)
    except ValueError as exc:
        raise ConversionError(f"{what}: unknown severity {msg.severity!r}") from exc
    x, y, z = (float(v) for v in msg.location_m)
    return SafetyEvent(
        event_id=_uuid(msg.event_id, what),
        trial_id=_uuid(msg.trial_id, what) if msg.trial_id else None,
        site_id=msg.site_id,
        type=msg.type,
        severity=severity,
        robot_id=msg.robot_id,
        measured=msg.measured,
        limit=msg.limit,
        unit=msg.unit,
        location_m=(x, y, z),
        evidence=_json_object(msg.evidence_json, what),
        stamp=_required_time(msg.stamp, what),
    )


def request_to_goal(request: TaskRequest) -> ExecuteTask.Goal:
    return ExecuteTask.Goal(
        trial_id=request.trial_id,
        task_id=request.task.id,
        repetition=request.repetition,
        attempt=request.attempt,
        task_type=request.task.type,
        task_json=request.task.model_dump_json(),
        time_scale=float(request.time_scale),
    )


def goal_to_request(goal: ExecuteTask.Goal) -> TaskRequest:
    what = f"execute_task goal for task {goal.task_id!r}"
    try:
        task = task_from_dict(_json_object(goal.task_json, what))
    except (ValidationError, KeyError) as exc:
        raise ConversionError(f"{what}: task_json is not a valid task ({exc})") from exc
    return TaskRequest(
        trial_id=goal.trial_id,
        task=task,
        repetition=int(goal.repetition),
        attempt=int(goal.attempt),
        time_scale=float(goal.time_scale) if goal.time_scale > 0 else 1.0,
    )


def status_to_msg(
    robot_id: str, robot_model: str, state: str, task_id: str, status: BackendStatus, stamp: datetime, seq: int
) -> RobotStatusMsg:
    """Robot status message from a backend status (site frame, m, m/s, rad)."""
    speed = (status.vx_m_s**2 + status.vy_m_s**2) ** 0.5
    return RobotStatusMsg(
        robot_id=robot_id,
        robot_model=robot_model,
        state=state,
        fault=status.fault,
        current_task_id=task_id,
        battery_fraction=float(status.battery_fraction),
        x_m=status.pose.x_m,
        y_m=status.pose.y_m,
        z_m=status.z_m,
        yaw_rad=status.pose.yaw_rad,
        vx_m_s=status.vx_m_s,
        vy_m_s=status.vy_m_s,
        base_speed_m_s=speed,
        tilt_rad=status.tilt_rad,
        com_x_m=status.com_x_m,
        com_y_m=status.com_y_m,
        stamp=to_time(stamp),
        seq=seq,
    )
