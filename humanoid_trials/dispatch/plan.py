"""The static plan of one trial: what each task needs (station, payload, reach points) and what each robot offers.

Built once from a Scenario, its Site and the robot profiles; JSON-able so that a trial snapshot is self-contained.
Positions are (x, y) in the site frame (m); heights above the floor (m).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from humanoid_trials.dispatch.allocation import ReachPoint, RobotState, TaskDemand, Unassignable, allocate
from humanoid_trials.dispatch.errors import PlanError
from humanoid_trials.model.robot import RobotProfile
from humanoid_trials.model.scenario import Scenario, TaskSpec
from humanoid_trials.model.site import Site, SiteObject
from humanoid_trials.model.validation import TaskVerdict, ValidationReport, Verdict
from humanoid_trials.tasks import Carry, Fasten, Inspect, Press


@dataclass(frozen=True)
class RobotSpec:
    """A deployed robot's fixed properties (kg, m, m/s) and its home station."""

    id: str
    model_id: str
    capabilities: frozenset[str]
    payload_per_arm_kg: float
    payload_total_kg: float
    reach_m: float
    height_m: float
    max_base_speed_m_s: float
    home_station: str
    home_xy_m: tuple[float, float]

    def state(
        self, xy_m: tuple[float, float], *, busy_s: float = 0.0, battery_frac: float = 1.0, unavailable: str = ""
    ) -> RobotState:
        return RobotState(
            robot_id=self.id, model_id=self.model_id, capabilities=self.capabilities,
            payload_per_arm_kg=self.payload_per_arm_kg, payload_total_kg=self.payload_total_kg,
            reach_m=self.reach_m, height_m=self.height_m, max_base_speed_m_s=self.max_base_speed_m_s,
            xy_m=xy_m, busy_s=busy_s, battery_frac=battery_frac, unavailable=unavailable,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "model_id": self.model_id, "capabilities": sorted(self.capabilities),
            "payload_per_arm_kg": self.payload_per_arm_kg, "payload_total_kg": self.payload_total_kg,
            "reach_m": self.reach_m, "height_m": self.height_m, "max_base_speed_m_s": self.max_base_speed_m_s,
            "home_station": self.home_station, "home_xy_m": list(self.home_xy_m),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RobotSpec:
        x, y = data["home_xy_m"]
        return cls(
            id=data["id"], model_id=data["model_id"], capabilities=frozenset(data["capabilities"]),
            payload_per_arm_kg=float(data["payload_per_arm_kg"]), payload_total_kg=float(data["payload_total_kg"]),
            reach_m=float(data["reach_m"]), height_m=float(data["height_m"]),
            max_base_speed_m_s=float(data["max_base_speed_m_s"]), home_station=data["home_station"],
            home_xy_m=(float(x), float(y)),
        )

    @classmethod
    def of(cls, robot_id: str, profile: RobotProfile, home_station: str, home_xy_m: tuple[float, float]) -> RobotSpec:
        return cls(
            id=robot_id, model_id=profile.id, capabilities=frozenset(profile.capabilities),
            payload_per_arm_kg=profile.payload_kg.per_arm, payload_total_kg=profile.payload_kg.total,
            reach_m=profile.reach_m, height_m=profile.height_m, max_base_speed_m_s=profile.max_base_speed_m_s,
            home_station=home_station, home_xy_m=home_xy_m,
        )


@dataclass(frozen=True)
class PlannedTask:
    """One scenario task: its demand (key = task id), where the robot ends up, repetitions and limits (s)."""

    demand: TaskDemand
    end_station: str
    end_xy_m: tuple[float, float]
    repetitions: int
    depends_on: tuple[str, ...]
    timeout_s: float
    max_retries: int

    @property
    def id(self) -> str:
        return self.demand.task_id

    @property
    def type(self) -> str:
        return self.demand.task_type

    def demand_for(self, repetition: int) -> TaskDemand:
        """The demand of one repetition; its key is `task_id#repetition`."""
        return replace(self.demand, key=f"{self.id}#{repetition}")

    def to_dict(self) -> dict[str, Any]:
        d = self.demand
        return {
            "task_id": d.task_id, "task_type": d.task_type, "station_id": d.station_id,
            "station_xy_m": list(d.station_xy_m), "payload_kg": d.payload_kg, "two_handed": d.two_handed,
            "reach_points": [[p.object_id, p.station_id, p.horizontal_m, p.height_m] for p in d.reach_points],
            "allowed_robots": sorted(d.allowed_robots) if d.allowed_robots is not None else None,
            "allowed_why": d.allowed_why, "end_station": self.end_station,
            "end_xy_m": list(self.end_xy_m), "repetitions": self.repetitions, "depends_on": list(self.depends_on),
            "timeout_s": self.timeout_s, "max_retries": self.max_retries,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlannedTask:
        sx, sy = data["station_xy_m"]
        ex, ey = data["end_xy_m"]
        demand = TaskDemand(
            key=data["task_id"], task_id=data["task_id"], task_type=data["task_type"], station_id=data["station_id"],
            station_xy_m=(float(sx), float(sy)), payload_kg=float(data["payload_kg"]),
            two_handed=bool(data["two_handed"]),
            reach_points=tuple(ReachPoint(o, s, float(h), float(z)) for o, s, h, z in data["reach_points"]),
            allowed_robots=frozenset(data["allowed_robots"]) if data["allowed_robots"] is not None else None,
            allowed_why=data["allowed_why"],
        )
        return cls(
            demand=demand, end_station=data["end_station"], end_xy_m=(float(ex), float(ey)),
            repetitions=int(data["repetitions"]), depends_on=tuple(data["depends_on"]),
            timeout_s=float(data["timeout_s"]), max_retries=int(data["max_retries"]),
        )


@dataclass(frozen=True)
class TrialPlan:
    """Everything the trial state machine needs that does not change during the trial."""

    trial_id: uuid.UUID
    scenario_id: str
    site_id: str
    time_limit_s: float
    tasks: tuple[PlannedTask, ...]
    robots: tuple[RobotSpec, ...]

    def task(self, task_id: str) -> PlannedTask:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise PlanError(f"trial plan of scenario {self.scenario_id!r} has no task {task_id!r}")

    def robot(self, robot_id: str) -> RobotSpec:
        for robot in self.robots:
            if robot.id == robot_id:
                return robot
        raise PlanError(f"trial plan of site {self.site_id!r} has no robot {robot_id!r}")

    def unassignable(self) -> tuple[Unassignable, ...]:
        """Tasks that no deployed robot can ever take (allowed list, capability, payload, reach), with the reason."""
        robots = [r.state(r.home_xy_m) for r in self.robots]
        return allocate([t.demand for t in self.tasks], robots).unassignable if self.tasks and robots else ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "trial_id": str(self.trial_id), "scenario_id": self.scenario_id, "site_id": self.site_id,
            "time_limit_s": self.time_limit_s, "tasks": [t.to_dict() for t in self.tasks],
            "robots": [r.to_dict() for r in self.robots],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrialPlan:
        return cls(
            trial_id=uuid.UUID(data["trial_id"]), scenario_id=data["scenario_id"], site_id=data["site_id"],
            time_limit_s=float(data["time_limit_s"]), tasks=tuple(PlannedTask.from_dict(t) for t in data["tasks"]),
            robots=tuple(RobotSpec.from_dict(r) for r in data["robots"]),
        )

    @classmethod
    def build(
        cls,
        scenario: Scenario,
        site: Site,
        profiles: Mapping[str, RobotProfile],
        *,
        trial_id: uuid.UUID | None = None,
        validation: ValidationReport | None = None,
    ) -> TrialPlan:
        """Plan a trial of `scenario` at `site`. Raises PlanError naming the missing station/object/profile.

        With `validation` (a report for this scenario's current content hash), each task is only given to robots
        that passed (or warned in) its pre-validation (`TaskVerdict.feasible_robots`).
        """
        if validation is not None and validation.scenario_id != scenario.id:
            raise PlanError(f"validation is for scenario {validation.scenario_id!r}, not {scenario.id!r}")
        if scenario.site != site.id:
            raise PlanError(f"scenario {scenario.id!r} is for site {scenario.site!r}, not {site.id!r}")
        robots = []
        for deployed in site.robots:
            profile = profiles.get(deployed.profile)
            if profile is None:
                raise PlanError(f"site {site.id!r}: robot {deployed.id!r} uses unknown profile {deployed.profile!r}")
            robots.append(RobotSpec.of(deployed.id, profile, deployed.home_station,
                                       _station_xy(site, deployed.home_station, f"robot {deployed.id!r}")))
        verdicts = {t.task_id: t for t in validation.tasks} if validation is not None else {}
        tasks = tuple(_plan_task(scenario, site, spec, verdicts.get(spec.id)) for spec in scenario.tasks)
        _check_dependencies(scenario.id, tasks)
        return cls(
            trial_id=trial_id or uuid.uuid4(), scenario_id=scenario.id, site_id=site.id,
            time_limit_s=float(scenario.time_limit_s), tasks=tasks, robots=tuple(robots),
        )


def _station_xy(site: Site, station_id: str, where: str) -> tuple[float, float]:
    try:
        pose = site.station(station_id).pose
    except KeyError as exc:
        raise PlanError(f"{where}: site {site.id!r} has no station {station_id!r}") from exc
    return (pose.x_m, pose.y_m)


def _object(site: Site, object_id: str, where: str) -> SiteObject:
    try:
        return site.object(object_id)
    except KeyError as exc:
        raise PlanError(f"{where}: site {site.id!r} has no object {object_id!r}") from exc


def _offset_points(spec: TaskSpec, object_id: str) -> tuple[tuple[float, float, float], ...]:
    """Work points given as offsets from the centre of the object's top surface (object frame, m)."""
    params = spec.params
    if isinstance(params, Fasten) and params.fixture == object_id:
        return params.points_m
    if isinstance(params, Inspect) and params.object == object_id:
        return params.viewpoints_m
    if isinstance(params, Press) and params.panel == object_id:
        return (params.button_m,)
    return ()


def reach_points(spec: TaskSpec, obj: SiteObject, station_xy: tuple[float, float]) -> tuple[ReachPoint, ...]:
    """Points of `obj` the robot must reach from `station_xy` (site frame): the task's offset points, else the
    nearest point of the object's top surface."""
    cos, sin = math.cos(obj.pose.yaw_rad), math.sin(obj.pose.yaw_rad)
    offsets = _offset_points(spec, obj.id)
    points = []
    if offsets:
        for dx, dy, dz in offsets:
            px = obj.pose.x_m + cos * dx - sin * dy
            py = obj.pose.y_m + sin * dx + cos * dy
            horizontal = math.hypot(px - station_xy[0], py - station_xy[1])
            points.append(ReachPoint(obj.id, obj.station, horizontal, obj.top_z_m + dz))
    else:
        # station in the object's frame, clamped onto the top rectangle: the nearest point of the surface
        rx, ry = station_xy[0] - obj.pose.x_m, station_xy[1] - obj.pose.y_m
        lx, ly = cos * rx + sin * ry, -sin * rx + cos * ry
        half_x, half_y = obj.size_m[0] / 2.0, obj.size_m[1] / 2.0
        cx, cy = min(max(lx, -half_x), half_x), min(max(ly, -half_y), half_y)
        points.append(ReachPoint(obj.id, obj.station, math.hypot(lx - cx, ly - cy), obj.top_z_m))
    return tuple(points)


def _allowed(site: Site, spec: TaskSpec, verdict: TaskVerdict | None) -> tuple[frozenset[str] | None, str]:
    """Robots that may take the task: the scenario's list (None: any), narrowed to those that passed validation."""
    allowed = frozenset(spec.robots) if spec.robots else None
    if verdict is None:
        return allowed, ""
    base = allowed if allowed is not None else frozenset(r.id for r in site.robots)
    passed = base & frozenset(verdict.feasible_robots)
    failed = sorted(base - passed)
    if not failed:
        return allowed, ""
    first_reason = {
        r.robot_id: next((x.message for x in r.reasons if x.verdict is Verdict.FAIL), "") for r in verdict.robots
    }
    named = [f"{rid} ({first_reason[rid]})" if first_reason.get(rid) else rid for rid in failed]
    return passed, f"pre-validation failed for {'; '.join(named)}"


def _plan_task(scenario: Scenario, site: Site, spec: TaskSpec, verdict: TaskVerdict | None) -> PlannedTask:
    where = f"scenario {scenario.id!r} task {spec.id!r}"
    params = spec.params
    allowed, why = _allowed(site, spec, verdict)
    points: list[ReachPoint] = []
    if isinstance(params, Carry):
        start, end = params.from_station, params.to_station
    else:
        refs = params.object_refs()
        if not refs:
            raise PlanError(f"{where}: task type {spec.type!r} names no object or station to work at")
        objects = [_object(site, object_id, where) for _, object_id in refs]
        for obj in objects:
            points.extend(reach_points(spec, obj, _station_xy(site, obj.station, f"{where} object {obj.id!r}")))
        start, end = objects[0].station, objects[-1].station
    demand = TaskDemand(
        key=spec.id, task_id=spec.id, task_type=spec.type, station_id=start,
        station_xy_m=_station_xy(site, start, where), payload_kg=params.payload_kg(),
        two_handed=type(params).two_handed, reach_points=tuple(points), allowed_robots=allowed,
        allowed_why=why,
    )
    return PlannedTask(
        demand=demand, end_station=end, end_xy_m=_station_xy(site, end, where), repetitions=spec.repetitions,
        depends_on=tuple(spec.depends_on), timeout_s=float(spec.timeout_s), max_retries=spec.max_retries,
    )


def _check_dependencies(scenario_id: str, tasks: tuple[PlannedTask, ...]) -> None:
    ids = {t.id for t in tasks}
    for task in tasks:
        for dep in task.depends_on:
            if dep not in ids:
                raise PlanError(f"scenario {scenario_id!r} task {task.id!r}: depends_on unknown task {dep!r}")
    graph = {t.id: t.depends_on for t in tasks}
    done: set[str] = set()
    for start in graph:
        path: list[str] = []
        _visit(start, graph, done, path, scenario_id)


def _visit(node: str, graph: Mapping[str, tuple[str, ...]], done: set[str], path: list[str], scenario_id: str) -> None:
    if node in done:
        return
    if node in path:
        cycle = " -> ".join([*path[path.index(node):], node])
        raise PlanError(f"scenario {scenario_id!r}: dependency cycle {cycle}")
    path.append(node)
    for dep in graph[node]:
        _visit(dep, graph, done, path, scenario_id)
    path.pop()
    done.add(node)
