"""The one event format shared by the dispatcher, the safety monitor, the recorder and the results store.

Every event carries a UUID so that a restarted recorder can replay events without duplicates. Times are UTC.
Payloads are JSON-able dicts; typed views (`Attempt`, `SafetyEvent`) convert to and from them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    TRIAL_STARTED = "trial_started"
    TRIAL_FINISHED = "trial_finished"
    TRIAL_STOPPED = "trial_stopped"
    TASK_ASSIGNED = "task_assigned"
    TASK_UNASSIGNABLE = "task_unassignable"
    ATTEMPT_STARTED = "attempt_started"
    ATTEMPT_FINISHED = "attempt_finished"
    ROBOT_LOST = "robot_lost"
    ROBOT_RECOVERED = "robot_recovered"
    VALIDATION_OVERRIDE = "validation_override"
    SAFETY = "safety"
    STOP = "stop"
    RESUME = "resume"


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ROBOT_LOST = "robot_lost"
    TIMEOUT = "timeout"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


def utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: event times must be timezone-aware UTC")
    return value.astimezone(UTC).isoformat()


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"time {value!r} has no timezone: expected an ISO 8601 UTC time")
    return parsed.astimezone(UTC)


@dataclass(frozen=True)
class TrialEvent:
    """One thing that happened in a trial. `payload` is JSON-able; its keys depend on `kind`."""

    trial_id: uuid.UUID
    kind: EventKind
    payload: Mapping[str, Any] = field(default_factory=dict)
    stamp: datetime = field(default_factory=utcnow)
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def to_json(self) -> str:
        return json.dumps(
            {
                "event_id": str(self.event_id),
                "trial_id": str(self.trial_id),
                "kind": self.kind.value,
                "stamp": _iso(self.stamp),
                "payload": dict(self.payload),
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> TrialEvent:
        data = json.loads(text)
        return cls(
            event_id=uuid.UUID(data["event_id"]),
            trial_id=uuid.UUID(data["trial_id"]),
            kind=EventKind(data["kind"]),
            stamp=_parse_time(data["stamp"]),
            payload=data.get("payload", {}),
        )


@dataclass(frozen=True)
class Attempt:
    """One attempt of one task by one robot. Cycle time in seconds, from goal accepted to result."""

    trial_id: uuid.UUID
    task_id: str
    task_type: str
    robot_id: str
    robot_model: str
    attempt_no: int
    started_at: datetime
    finished_at: datetime
    outcome: Outcome
    reason: str = ""
    attempt_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def cycle_time_s(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def to_payload(self) -> dict[str, Any]:
        data = asdict(self)
        data["trial_id"] = str(self.trial_id)
        data["attempt_id"] = str(self.attempt_id)
        data["started_at"] = _iso(self.started_at)
        data["finished_at"] = _iso(self.finished_at)
        data["outcome"] = self.outcome.value
        data["cycle_time_s"] = self.cycle_time_s
        return data

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Attempt:
        return cls(
            trial_id=uuid.UUID(data["trial_id"]),
            task_id=data["task_id"],
            task_type=data["task_type"],
            robot_id=data["robot_id"],
            robot_model=data["robot_model"],
            attempt_no=int(data["attempt_no"]),
            started_at=_parse_time(data["started_at"]),
            finished_at=_parse_time(data["finished_at"]),
            outcome=Outcome(data["outcome"]),
            reason=data.get("reason", ""),
            attempt_id=uuid.UUID(data["attempt_id"]),
        )

    def to_event(self) -> TrialEvent:
        """The `attempt_finished` event for this attempt; its event id is the attempt id (idempotent replays)."""
        return TrialEvent(
            trial_id=self.trial_id,
            kind=EventKind.ATTEMPT_FINISHED,
            payload=self.to_payload(),
            stamp=self.finished_at,
            event_id=self.attempt_id,
        )


@dataclass(frozen=True)
class SafetyEvent:
    """A safety event. `measured`/`limit` are in `unit`; `location_m` is (x, y, z) in the site frame."""

    site_id: str
    type: str
    severity: Severity
    robot_id: str
    measured: float
    limit: float
    unit: str
    location_m: tuple[float, float, float] = (0.0, 0.0, 0.0)
    evidence: Mapping[str, Any] = field(default_factory=dict)
    trial_id: uuid.UUID | None = None
    stamp: datetime = field(default_factory=utcnow)
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def to_payload(self) -> dict[str, Any]:
        return {
            "event_id": str(self.event_id),
            "trial_id": str(self.trial_id) if self.trial_id else None,
            "site_id": self.site_id,
            "type": self.type,
            "severity": self.severity.value,
            "robot_id": self.robot_id,
            "measured": self.measured,
            "limit": self.limit,
            "unit": self.unit,
            "location_m": list(self.location_m),
            "evidence": dict(self.evidence),
            "stamp": _iso(self.stamp),
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> SafetyEvent:
        x, y, z = (float(v) for v in data.get("location_m", (0.0, 0.0, 0.0)))
        trial = data.get("trial_id")
        return cls(
            event_id=uuid.UUID(data["event_id"]),
            trial_id=uuid.UUID(trial) if trial else None,
            site_id=data["site_id"],
            type=data["type"],
            severity=Severity(data["severity"]),
            robot_id=data.get("robot_id", ""),
            measured=float(data["measured"]),
            limit=float(data["limit"]),
            unit=data["unit"],
            location_m=(x, y, z),
            evidence=data.get("evidence", {}),
            stamp=_parse_time(data["stamp"]),
        )

    def to_event(self) -> TrialEvent:
        """The `safety` trial event for this safety event; same event id."""
        if self.trial_id is None:
            raise ValueError("a safety event outside a trial has no trial event")
        return TrialEvent(
            trial_id=self.trial_id, kind=EventKind.SAFETY, payload=self.to_payload(), stamp=self.stamp,
            event_id=self.event_id,
        )


@dataclass(frozen=True)
class TrialInfo:
    """What a `trial_started` event says about a trial: where (site), what (scenario version), how (mode sim | field),
    with which software and robots (robot id -> robot model id), and who started it."""

    trial_id: uuid.UUID
    site_id: str
    scenario_id: str
    scenario_hash: str = ""
    mode: str = "sim"
    software_version: str = ""
    operator: str = ""
    robots: Mapping[str, str] = field(default_factory=dict)
    started_at: datetime = field(default_factory=utcnow)

    def to_payload(self) -> dict[str, Any]:
        return {
            "trial_id": str(self.trial_id),
            "site_id": self.site_id,
            "scenario_id": self.scenario_id,
            "scenario_hash": self.scenario_hash,
            "mode": self.mode,
            "software_version": self.software_version,
            "operator": self.operator,
            "robots": dict(self.robots),
            "started_at": _iso(self.started_at),
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> TrialInfo:
        return cls(
            trial_id=uuid.UUID(data["trial_id"]),
            site_id=data["site_id"],
            scenario_id=data["scenario_id"],
            scenario_hash=data.get("scenario_hash", ""),
            mode=data.get("mode", "sim"),
            software_version=data.get("software_version", ""),
            operator=data.get("operator", ""),
            robots={str(k): str(v) for k, v in data.get("robots", {}).items()},
            started_at=_parse_time(data["started_at"]),
        )

    def to_event(self) -> TrialEvent:
        """The `trial_started` event; its id is derived from the trial id, so a replay is not stored twice."""
        return TrialEvent(
            trial_id=self.trial_id, kind=EventKind.TRIAL_STARTED, payload=self.to_payload(), stamp=self.started_at,
            event_id=uuid.uuid5(self.trial_id, EventKind.TRIAL_STARTED.value),
        )
