"""Pre-validation results: per task and robot a verdict with reasons a person understands, and the numbers behind it.

Pure value types (no pybullet): written by `humanoid_trials.sim`, read by the dispatcher's gate, the results store
and the CLI. Units: m, s, kg, N, N m, rad. `ValidationReport.to_json()` / `from_json()` round-trip exactly.
`fingerprint()` covers every verdict and number but not the wall-clock fields (created_at, wall_time_s), so two runs
of the same scenario can be compared bit for bit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


class Verdict(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @classmethod
    def worst(cls, verdicts: Iterable[Verdict]) -> Verdict:
        """The worst of `verdicts` (pass when there are none)."""
        worst = cls.PASS
        for verdict in verdicts:
            if verdict.rank > worst.rank:
                worst = verdict
        return worst


_RANK = {Verdict.PASS: 0, Verdict.WARN: 1, Verdict.FAIL: 2}


class Check(StrEnum):
    """The checks a task goes through (one name per check, used in reasons)."""

    CAPABILITY = "capability"
    REACH = "reach"
    JOINT_LIMITS = "joint_limits"
    COLLISION = "collision"
    BALANCE = "balance"
    TORQUE = "torque"
    PAYLOAD = "payload"
    HUMAN_ZONE = "human_zone"
    TRAVEL = "travel"
    CYCLE_TIME = "cycle_time"


@dataclass(frozen=True)
class Reason:
    """Why a check warned or failed: a sentence plus its numbers (name -> value; the unit is in the name)."""

    check: Check
    verdict: Verdict
    message: str
    values: tuple[tuple[str, float], ...] = ()

    def value(self, name: str) -> float:
        for key, number in self.values:
            if key == name:
                return number
        raise KeyError(f"reason {self.check.value!r} has no value {name!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check.value,
            "verdict": self.verdict.value,
            "message": self.message,
            "values": {key: number for key, number in self.values},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reason:
        return cls(
            check=Check(data["check"]),
            verdict=Verdict(data["verdict"]),
            message=str(data["message"]),
            values=tuple((str(k), float(v)) for k, v in dict(data.get("values", {})).items()),
        )


@dataclass(frozen=True)
class RobotVerdict:
    """One task checked for one deployed robot.

    `estimated_cycle_s`: one repetition (s); `min_obstacle_clearance_m`: smallest robot-to-environment distance on the
    motion (m, negative = penetration); `min_human_separation_m`: smallest robot-to-human-zone distance (m, negative =
    inside; None when the site has no human zones or the motion was not checked); `balance_margin_m`: smallest
    distance of the centre of pressure inside the support polygon (m, negative = outside); `max_torque_ratio`: largest
    static joint torque / effort limit; `ik_residual_mm`: worst reach residual (mm).
    """

    robot_id: str
    profile_id: str
    verdict: Verdict
    arm: str = ""
    estimated_cycle_s: float = 0.0
    travel_s: float = 0.0
    min_obstacle_clearance_m: float = 0.0
    min_human_separation_m: float | None = None
    balance_margin_m: float = 0.0
    max_torque_ratio: float = 0.0
    ik_residual_mm: float = 0.0
    reasons: tuple[Reason, ...] = ()

    def reasons_for(self, check: Check) -> tuple[Reason, ...]:
        return tuple(reason for reason in self.reasons if reason.check == check)

    def to_dict(self) -> dict[str, Any]:
        return {
            "robot_id": self.robot_id,
            "profile_id": self.profile_id,
            "verdict": self.verdict.value,
            "arm": self.arm,
            "estimated_cycle_s": self.estimated_cycle_s,
            "travel_s": self.travel_s,
            "min_obstacle_clearance_m": self.min_obstacle_clearance_m,
            "min_human_separation_m": self.min_human_separation_m,
            "balance_margin_m": self.balance_margin_m,
            "max_torque_ratio": self.max_torque_ratio,
            "ik_residual_mm": self.ik_residual_mm,
            "reasons": [reason.to_dict() for reason in self.reasons],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RobotVerdict:
        return cls(
            robot_id=str(data["robot_id"]),
            profile_id=str(data["profile_id"]),
            verdict=Verdict(data["verdict"]),
            arm=str(data.get("arm", "")),
            estimated_cycle_s=float(data.get("estimated_cycle_s", 0.0)),
            travel_s=float(data.get("travel_s", 0.0)),
            min_obstacle_clearance_m=float(data.get("min_obstacle_clearance_m", 0.0)),
            min_human_separation_m=_optional_float(data.get("min_human_separation_m")),
            balance_margin_m=float(data.get("balance_margin_m", 0.0)),
            max_torque_ratio=float(data.get("max_torque_ratio", 0.0)),
            ik_residual_mm=float(data.get("ik_residual_mm", 0.0)),
            reasons=tuple(Reason.from_dict(r) for r in data.get("reasons", ())),
        )


@dataclass(frozen=True)
class TaskVerdict:
    """One task of a scenario over every robot that may be assigned to it.

    Verdict: fail when no candidate robot passes; warn when some candidates fail (`feasible_robots` lists the ones
    that pass or warn; the dispatcher should only assign those) or any candidate warns; pass otherwise.
    `estimated_cycle_s` is the slowest feasible robot's cycle (s); `takt_time_s` the site's takt (s).
    """

    task_id: str
    task_type: str
    verdict: Verdict
    robots: tuple[RobotVerdict, ...]
    takt_time_s: float
    estimated_cycle_s: float
    feasible_robots: tuple[str, ...]

    @property
    def min_human_separation_m(self) -> float | None:
        """Smallest robot-to-human-zone distance over the robots checked (m); None when none was measured."""
        measured = [r.min_human_separation_m for r in self.robots if r.min_human_separation_m is not None]
        return min(measured) if measured else None

    @property
    def min_obstacle_clearance_m(self) -> float:
        return min((r.min_obstacle_clearance_m for r in self.robots), default=0.0)

    def robot(self, robot_id: str) -> RobotVerdict:
        for verdict in self.robots:
            if verdict.robot_id == robot_id:
                return verdict
        raise KeyError(f"task {self.task_id!r} was not checked for robot {robot_id!r}")

    def reasons(self) -> tuple[Reason, ...]:
        return tuple(reason for robot in self.robots for reason in robot.reasons)

    @classmethod
    def combine(cls, task_id: str, task_type: str, takt_time_s: float, robots: Iterable[RobotVerdict]) -> TaskVerdict:
        """Build the task verdict from its per-robot verdicts (in the given order)."""
        checked = tuple(robots)
        feasible = tuple(r.robot_id for r in checked if r.verdict != Verdict.FAIL)
        if not feasible:
            verdict = Verdict.FAIL
        elif len(feasible) < len(checked):
            verdict = Verdict.WARN
        else:
            verdict = Verdict.worst(r.verdict for r in checked)
        cycle = max((r.estimated_cycle_s for r in checked if r.robot_id in feasible), default=0.0)
        return cls(task_id, task_type, verdict, checked, takt_time_s, cycle, feasible)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "task_type": self.task_type,
            "verdict": self.verdict.value,
            "takt_time_s": self.takt_time_s,
            "estimated_cycle_s": self.estimated_cycle_s,
            "feasible_robots": list(self.feasible_robots),
            "robots": [robot.to_dict() for robot in self.robots],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskVerdict:
        return cls(
            task_id=str(data["task_id"]),
            task_type=str(data["task_type"]),
            verdict=Verdict(data["verdict"]),
            robots=tuple(RobotVerdict.from_dict(r) for r in data.get("robots", ())),
            takt_time_s=float(data["takt_time_s"]),
            estimated_cycle_s=float(data["estimated_cycle_s"]),
            feasible_robots=tuple(str(r) for r in data.get("feasible_robots", ())),
        )


@dataclass(frozen=True)
class ValidationReport:
    """The pre-validation of one scenario: the gate in front of the real robots.

    `content_hash` is `Catalog.content_hash(scenario_id)` at validation time; the dispatcher refuses a scenario whose
    latest report failed or carries another hash. `created_at` is an ISO 8601 UTC time; `wall_time_s` the time the
    validation took (s). Neither is part of `fingerprint()`.
    """

    scenario_id: str
    site_id: str
    content_hash: str
    verdict: Verdict
    tasks: tuple[TaskVerdict, ...]
    software_version: str
    pybullet_version: str
    created_at: str = ""
    wall_time_s: float = 0.0
    executor: str = "local"
    workers: int = 1
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when no task failed (warnings allowed)."""
        return self.verdict != Verdict.FAIL

    def task(self, task_id: str) -> TaskVerdict:
        for verdict in self.tasks:
            if verdict.task_id == task_id:
                return verdict
        raise KeyError(f"validation of {self.scenario_id!r} has no task {task_id!r}")

    def failed_tasks(self) -> tuple[TaskVerdict, ...]:
        return tuple(task for task in self.tasks if task.verdict == Verdict.FAIL)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario_id": self.scenario_id,
            "site_id": self.site_id,
            "content_hash": self.content_hash,
            "verdict": self.verdict.value,
            "software_version": self.software_version,
            "pybullet_version": self.pybullet_version,
            "created_at": self.created_at,
            "wall_time_s": self.wall_time_s,
            "executor": self.executor,
            "workers": self.workers,
            "extra": dict(self.extra),
            "tasks": [task.to_dict() for task in self.tasks],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ValidationReport:
        return cls(
            scenario_id=str(data["scenario_id"]),
            site_id=str(data["site_id"]),
            content_hash=str(data["content_hash"]),
            verdict=Verdict(data["verdict"]),
            tasks=tuple(TaskVerdict.from_dict(t) for t in data.get("tasks", ())),
            software_version=str(data.get("software_version", "")),
            pybullet_version=str(data.get("pybullet_version", "")),
            created_at=str(data.get("created_at", "")),
            wall_time_s=float(data.get("wall_time_s", 0.0)),
            executor=str(data.get("executor", "local")),
            workers=int(data.get("workers", 1)),
            extra=dict(data.get("extra", {})),
        )

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False)

    @classmethod
    def from_json(cls, text: str) -> ValidationReport:
        return cls.from_dict(json.loads(text))

    def fingerprint(self) -> str:
        """sha256 over every verdict, reason and number (floats by their exact repr); not times or executor."""
        data = self.to_dict()
        for key in ("created_at", "wall_time_s", "executor", "workers", "extra"):
            data.pop(key)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
