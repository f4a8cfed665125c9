"""Allocation of task repetitions to robots: feasibility filter, cost, one optimal round, explanations.

Units: m, s, kg; positions are (x, y) in the site frame. Pure numpy/scipy, vectorised over tasks × robots.

Feasibility (static): the robot may do the task (allowed list), has the capability (task type), carries the payload
(one-handed: part/tool mass ≤ per-arm payload; two-handed: mass ≤ total payload and mass/2 ≤ per-arm payload) and
reaches every work point (a geometric pre-check: distance from the shoulder, at `SHOULDER_HEIGHT_FRACTION` of the
robot's height above the station, to the point, ≤ reach + `REACH_SLACK_M`; the simulator does the real check).
Availability (transient): not lost, not in protective stop, battery ≥ `CostWeights.min_battery_frac`.
Cost (s): travel (distance robot → task station / max base speed) + queue (busy time remaining)
+ battery penalty (`CostWeights.battery_s` × (1 − battery fraction)).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from humanoid_trials.dispatch.errors import AllocationError

SHOULDER_HEIGHT_FRACTION = 0.8
"""Shoulder height as a fraction of robot height (anthropometric ≈ 0.82)."""
REACH_SLACK_M = 0.25
"""Torso lean and base placement tolerance added to the arm reach in the pre-check (m)."""


@dataclass(frozen=True)
class ReachPoint:
    """A point a robot standing at `station_xy_m` must reach: horizontal distance (m) and height (m) above floor."""

    object_id: str
    station_id: str
    horizontal_m: float
    height_m: float


@dataclass(frozen=True)
class TaskDemand:
    """What one task repetition needs. `key` is the caller's id for it (unique within one allocation call)."""

    key: str
    task_id: str
    task_type: str
    station_id: str
    station_xy_m: tuple[float, float]
    payload_kg: float = 0.0
    two_handed: bool = False
    reach_points: tuple[ReachPoint, ...] = ()
    allowed_robots: frozenset[str] | None = None
    """None: any deployed robot with the capability; else only these robot ids (possibly none)."""
    allowed_why: str = ""
    """Why the allowed set is narrower than the scenario's list (e.g. robots that failed pre-validation)."""


@dataclass(frozen=True)
class RobotState:
    """A robot as the allocator sees it now. Battery as a fraction 0..1; busy_s = time until free (s)."""

    robot_id: str
    model_id: str
    capabilities: frozenset[str]
    payload_per_arm_kg: float
    payload_total_kg: float
    reach_m: float
    height_m: float
    max_base_speed_m_s: float
    xy_m: tuple[float, float]
    busy_s: float = 0.0
    battery_frac: float = 1.0
    unavailable: str = ""
    """Non-empty: why the robot cannot take work now ("lost", "protective stop")."""


@dataclass(frozen=True)
class CostWeights:
    """Weights of the cost terms: travel and queue count 1 s per s; battery penalty in s at an empty battery."""

    travel: float = 1.0
    queue: float = 1.0
    battery_s: float = 60.0
    min_battery_frac: float = 0.15


@dataclass(frozen=True)
class Assignment:
    task_key: str
    robot_id: str
    cost_s: float
    travel_s: float


@dataclass(frozen=True)
class Unassignable:
    """A task no robot can take. permanent: no deployed robot ever could; else none is available now."""

    task_key: str
    reason: str
    permanent: bool


@dataclass(frozen=True)
class Allocation:
    assignments: tuple[Assignment, ...]
    deferred: tuple[str, ...]
    unassignable: tuple[Unassignable, ...]


@dataclass(frozen=True)
class _Static:
    """What does not change while robots move: feasibility and reach need, tasks × robots."""

    feasible: NDArray[np.bool_]
    reach_need: NDArray[np.float64]
    """distance shoulder → farthest work point (m)"""


@dataclass
class _Fleet:
    """Robot columns that change between rounds: position (m), busy time (s), battery (0..1), availability."""

    xy: NDArray[np.float64]
    busy: NDArray[np.float64]
    battery: NDArray[np.float64]
    speed: NDArray[np.float64]
    up: NDArray[np.bool_]

    @classmethod
    def of(cls, robots: Sequence[RobotState]) -> _Fleet:
        n = len(robots)
        return cls(
            xy=np.array([r.xy_m for r in robots], dtype=float).reshape(n, 2),
            busy=np.fromiter((r.busy_s for r in robots), float, n),
            battery=np.fromiter((r.battery_frac for r in robots), float, n),
            speed=np.fromiter((r.max_base_speed_m_s for r in robots), float, n),
            up=np.fromiter((not r.unavailable for r in robots), bool, n),
        )

    def available(self, weights: CostWeights) -> NDArray[np.bool_]:
        return self.up & (self.battery >= weights.min_battery_frac)

    def cost(self, txy: NDArray[np.float64], weights: CostWeights) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(cost, travel) in s, tasks × robots, for tasks at stations `txy` (m)."""
        dx = txy[:, 0:1] - self.xy[None, :, 0]
        dy = txy[:, 1:2] - self.xy[None, :, 1]
        travel = np.sqrt(dx * dx + dy * dy, out=dx)
        moving = self.speed > 0
        if moving.all():
            travel *= 1.0 / self.speed
        else:  # a robot that cannot move reaches only its own station
            stuck = ~moving
            travel[:, moving] *= 1.0 / self.speed[moving]
            travel[:, stuck] = np.where(travel[:, stuck] > 0, np.inf, 0.0)
        penalty = weights.queue * self.busy + weights.battery_s * (1.0 - self.battery)
        cost = travel * weights.travel if weights.travel != 1.0 else travel.copy()
        cost += penalty[None, :]
        return cost, travel


def _capability_matrix(tasks: Sequence[TaskDemand], robots: Sequence[RobotState]) -> NDArray[np.bool_]:
    """tasks × robots: the robot has the task's type among its capabilities."""
    names: dict[str, int] = {}
    for task in tasks:
        names.setdefault(task.task_type, len(names))
    robot_caps = np.zeros((len(robots), max(len(names), 1)), dtype=bool)
    for j, robot in enumerate(robots):
        for cap in robot.capabilities:
            index = names.get(cap)
            if index is not None:
                robot_caps[j, index] = True
    task_cap = np.fromiter((names[t.task_type] for t in tasks), dtype=np.intp, count=len(tasks))
    return robot_caps[:, task_cap].T


def _reach_need(tasks: Sequence[TaskDemand], shoulder_m: NDArray[np.float64]) -> NDArray[np.float64]:
    """Largest distance shoulder → work point per task and robot (m); 0 for tasks without points."""
    counts = np.fromiter((len(t.reach_points) for t in tasks), dtype=np.intp, count=len(tasks))
    need = np.zeros((len(tasks), shoulder_m.size))
    total = int(counts.sum())
    if total == 0:
        return need
    points = np.fromiter(
        (v for t in tasks for p in t.reach_points for v in (p.horizontal_m, p.height_m)), float, 2 * total
    ).reshape(total, 2)
    above = np.maximum(points[:, 1:2] - shoulder_m[None, :], 0.0)
    dist = np.hypot(points[:, 0:1], above)
    has = counts > 0
    if total == int(has.sum()):  # at most one point per task: no reduction needed
        need[has] = dist
        return need
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))[has]
    need[has] = np.maximum.reduceat(dist, starts, axis=0)
    return need


def _static(tasks: Sequence[TaskDemand], robots: Sequence[RobotState]) -> _Static:
    n_t, n_r = len(tasks), len(robots)
    per_arm = np.fromiter((r.payload_per_arm_kg for r in robots), float, n_r)
    total = np.fromiter((r.payload_total_kg for r in robots), float, n_r)
    reach = np.fromiter((r.reach_m for r in robots), float, n_r)
    shoulder = np.fromiter((r.height_m for r in robots), float, n_r) * SHOULDER_HEIGHT_FRACTION
    load = np.fromiter((t.payload_kg for t in tasks), float, n_t)
    two = np.fromiter((t.two_handed for t in tasks), bool, n_t)

    arm_load = np.where(two, load / 2.0, load)
    payload_ok = (arm_load[:, None] <= per_arm[None, :] + 1e-9) & (
        ~two[:, None] | (load[:, None] <= total[None, :] + 1e-9)
    )
    need = _reach_need(tasks, shoulder)
    feasible = _capability_matrix(tasks, robots) & payload_ok & (need <= reach[None, :] + REACH_SLACK_M + 1e-9)
    index = {r.robot_id: j for j, r in enumerate(robots)}
    for i, task in enumerate(tasks):
        if task.allowed_robots is not None:
            allowed = np.zeros(n_r, dtype=bool)
            allowed[[index[rid] for rid in task.allowed_robots if rid in index]] = True
            feasible[i] &= allowed
    return _Static(feasible=feasible, reach_need=need)


def feasibility(tasks: Sequence[TaskDemand], robots: Sequence[RobotState]) -> NDArray[np.bool_]:
    """tasks × robots: allowed, capable, strong enough and within reach (ignores availability and battery)."""
    return _static(tasks, robots).feasible


def _station_xy(tasks: Sequence[TaskDemand]) -> NDArray[np.float64]:
    return np.array([t.station_xy_m for t in tasks], dtype=float).reshape(len(tasks), 2)


def _match(usable: NDArray[np.bool_], cost: NDArray[np.float64]) -> list[tuple[int, int]]:
    """Optimal matching (row, col) on usable cells: most pairs first, then least summed cost."""
    rows = np.flatnonzero(usable.any(axis=1))
    cols = np.flatnonzero(usable.any(axis=0))
    if not rows.size or not cols.size:
        return []
    if rows.size == usable.shape[0] and cols.size == usable.shape[1]:
        sub_ok, sub_cost = usable, cost
    else:
        sub_ok = usable[np.ix_(rows, cols)]
        sub_cost = cost[np.ix_(rows, cols)]
    finite = sub_cost[sub_ok]
    span = float(finite.max() - min(finite.min(), 0.0))
    big = (span + 1.0) * (min(rows.size, cols.size) + 1)
    r_ind, c_ind = linear_sum_assignment(np.where(sub_ok, sub_cost, big))
    keep = sub_ok[r_ind, c_ind]
    return list(zip(rows[r_ind[keep]].tolist(), cols[c_ind[keep]].tolist(), strict=True))


def _fmt_list(ids: Sequence[str]) -> str:
    return ", ".join(ids) if ids else "none"


def explain(task: TaskDemand, robots: Sequence[RobotState], reach_need: NDArray[np.float64] | None = None,
            weights: CostWeights | None = None) -> Unassignable:
    """Why no robot of `robots` can take `task`, with numbers. `reach_need` is that task's row (m per robot)."""
    weights = weights or CostWeights()
    if reach_need is None:
        shoulder = np.array([r.height_m for r in robots], dtype=float) * SHOULDER_HEIGHT_FRACTION
        reach_need = _reach_need([task], shoulder)[0]
    key = task.key
    candidates = list(range(len(robots)))
    site_ids = {r.robot_id for r in robots}
    scope = "on site"
    if task.allowed_robots is not None:
        candidates = [j for j in candidates if robots[j].robot_id in task.allowed_robots]
        if not candidates:
            if task.allowed_why:
                return Unassignable(key, f"no robot may take it: {task.allowed_why}", True)
            missing = sorted(task.allowed_robots - site_ids)
            return Unassignable(key, f"allowed robots {_fmt_list(missing)} are not deployed at this site", True)
        scope = "among allowed robots"
    capable = [j for j in candidates if task.task_type in robots[j].capabilities]
    if not capable:
        if scope == "on site":
            return Unassignable(key, f"no deployed robot has capability {task.task_type!r}", True)
        names = _fmt_list(sorted(robots[j].robot_id for j in candidates))
        return Unassignable(key, f"none of the allowed robots ({names}) has capability {task.task_type!r}", True)
    if scope == "on site" and len(capable) < len(robots):
        scope = f"among robots with capability {task.task_type!r}"

    if task.two_handed:
        limits = [min(robots[j].payload_total_kg, 2.0 * robots[j].payload_per_arm_kg) for j in capable]
        how = "two-handed"
    else:
        limits = [robots[j].payload_per_arm_kg for j in capable]
        how = "one arm"
    strong = [j for j, limit in zip(capable, limits, strict=True) if task.payload_kg <= limit + 1e-9]
    if not strong:
        best = int(np.argmax(limits))
        return Unassignable(
            key,
            f"needs payload {task.payload_kg:.1f} kg ({how}); largest {scope} {limits[best]:.1f} kg "
            f"({robots[capable[best]].robot_id})",
            True,
        )
    reaching = [j for j in strong if reach_need[j] <= robots[j].reach_m + REACH_SLACK_M + 1e-9]
    if not reaching:
        shortfall = [reach_need[j] - robots[j].reach_m - REACH_SLACK_M for j in strong]
        best = strong[int(np.argmin(shortfall))]
        robot = robots[best]
        shoulder_m = robot.height_m * SHOULDER_HEIGHT_FRACTION
        worst = max(
            task.reach_points,
            key=lambda p: math.hypot(p.horizontal_m, max(p.height_m - shoulder_m, 0.0)),
        )
        return Unassignable(
            key,
            f"out of reach: object {worst.object_id!r} is {reach_need[best]:.2f} m from the shoulder of a robot at "
            f"station {worst.station_id!r} ({worst.horizontal_m:.2f} m away, {worst.height_m:.2f} m high); "
            f"longest reach {scope} {robot.reach_m:.2f} m + {REACH_SLACK_M:.2f} m slack ({robot.robot_id})",
            True,
        )
    reasons = []
    for j in reaching:
        robot = robots[j]
        if robot.unavailable:
            reasons.append(f"{robot.robot_id} {robot.unavailable}")
        elif robot.battery_frac < weights.min_battery_frac:
            reasons.append(
                f"{robot.robot_id} battery {robot.battery_frac:.0%} < reserve {weights.min_battery_frac:.0%}"
            )
        elif robot.max_base_speed_m_s <= 0 and robot.xy_m != task.station_xy_m:
            reasons.append(f"{robot.robot_id} cannot move (max base speed 0 m/s) to station {task.station_id!r}")
    if reasons:
        return Unassignable(key, "no capable robot available: " + "; ".join(reasons), False)
    return Unassignable(key, "every capable robot is busy", False)


def _check_unique(tasks: Sequence[TaskDemand], robots: Sequence[RobotState]) -> None:
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        duplicate = next(k for k in keys if keys.count(k) > 1)
        raise AllocationError(f"task keys passed to the allocator are not unique: {duplicate!r} repeats")
    ids = [r.robot_id for r in robots]
    if len(set(ids)) != len(ids):
        duplicate = next(r for r in ids if ids.count(r) > 1)
        raise AllocationError(f"robot ids passed to the allocator are not unique: {duplicate!r} repeats")


def allocate(
    tasks: Sequence[TaskDemand], robots: Sequence[RobotState], weights: CostWeights | None = None
) -> Allocation:
    """One allocation round: at most one task per robot, optimal total cost (linear_sum_assignment).

    Maximises the number of assigned tasks first, then minimises the summed cost. Tasks that are feasible and have
    an available robot but lost out this round are `deferred`; the others are `unassignable`, with the reason.
    """
    weights = weights or CostWeights()
    _check_unique(tasks, robots)
    if not tasks:
        return Allocation((), (), ())
    if not robots:
        return Allocation((), (), tuple(Unassignable(t.key, "no robot is deployed", True) for t in tasks))

    static = _static(tasks, robots)
    fleet = _Fleet.of(robots)
    cost, travel = fleet.cost(_station_xy(tasks), weights)
    usable = static.feasible & fleet.available(weights)[None, :] & np.isfinite(cost)
    pairs = _match(usable, cost)
    assignments = tuple(
        Assignment(tasks[i].key, robots[j].robot_id, float(cost[i, j]), float(travel[i, j])) for i, j in pairs
    )
    assigned_rows = {i for i, _ in pairs}
    has_robot = usable.any(axis=1)
    deferred = tuple(tasks[i].key for i in np.flatnonzero(has_robot).tolist() if i not in assigned_rows)
    unassignable = tuple(
        explain(tasks[i], robots, static.reach_need[i], weights) for i in np.flatnonzero(~has_robot).tolist()
    )
    return Allocation(assignments, deferred, unassignable)


@dataclass(frozen=True)
class Schedule:
    """Result of `plan_all`: assignments per round, start and finish time (s from now) per task key, what was left."""

    rounds: tuple[tuple[Assignment, ...], ...]
    start_s: dict[str, float]
    finish_s: dict[str, float]
    unassignable: tuple[Unassignable, ...]

    @property
    def makespan_s(self) -> float:
        """When the last placed task finishes (s from now)."""
        return max(self.finish_s.values(), default=0.0)


def plan_all(
    tasks: Sequence[TaskDemand],
    robots: Sequence[RobotState],
    durations_s: Sequence[float],
    weights: CostWeights | None = None,
) -> Schedule:
    """Rounds of `allocate` until every feasible task is placed; robots queue work (busy time and position advance).

    `durations_s[i]` is the expected execution time of `tasks[i]` (s). Dependencies are not modelled here (the
    trial state machine releases tasks as their dependencies finish).
    """
    if len(durations_s) != len(tasks):
        raise AllocationError(f"{len(durations_s)} durations for {len(tasks)} tasks")
    weights = weights or CostWeights()
    _check_unique(tasks, robots)
    rounds: list[tuple[Assignment, ...]] = []
    start_s: dict[str, float] = {}
    finish_s: dict[str, float] = {}
    if not tasks:
        return Schedule((), start_s, finish_s, ())
    if not robots:
        return Schedule((), start_s, finish_s, tuple(Unassignable(t.key, "no robot is deployed", True) for t in tasks))
    static = _static(tasks, robots)
    fleet = _Fleet.of(robots)
    available = fleet.available(weights)
    txy = _station_xy(tasks)
    duration = np.asarray(durations_s, dtype=float)
    usable_static = static.feasible & available[None, :]
    has_robot = (usable_static & np.isfinite(fleet.cost(txy, weights)[0])).any(axis=1)
    remaining = np.flatnonzero(has_robot)
    while remaining.size:
        cost, travel = fleet.cost(txy[remaining], weights)
        pairs = _match(usable_static[remaining] & np.isfinite(cost), cost)
        if not pairs:
            break
        rows = np.array([r for r, _ in pairs], dtype=np.intp)
        cols = np.array([c for _, c in pairs], dtype=np.intp)
        tasks_i = remaining[rows]
        starts = fleet.busy[cols] + travel[rows, cols]
        rounds.append(
            tuple(
                Assignment(tasks[i].key, robots[j].robot_id, float(cost[r, j]), float(travel[r, j]))
                for r, i, j in zip(rows.tolist(), tasks_i.tolist(), cols.tolist(), strict=True)
            )
        )
        finishes = starts + duration[tasks_i]
        for i, start, finish in zip(tasks_i.tolist(), starts.tolist(), finishes.tolist(), strict=True):
            start_s[tasks[i].key] = start
            finish_s[tasks[i].key] = finish
        fleet.busy[cols] = finishes
        fleet.xy[cols] = txy[tasks_i]
        keep = np.ones(remaining.size, dtype=bool)
        keep[rows] = False
        remaining = remaining[keep]
    unassignable = tuple(
        explain(tasks[i], robots, static.reach_need[i], weights) for i in np.flatnonzero(~has_robot).tolist()
    )
    return Schedule(tuple(rounds), start_s, finish_s, unassignable)


_TYPES = ("pick_place", "kitting", "carry", "machine_tend", "fasten", "inspect", "press")


def synthetic_problem(
    n_tasks: int, n_robots: int, seed: int = 0, floor_m: tuple[float, float] = (60.0, 40.0)
) -> tuple[list[TaskDemand], list[RobotState], list[float]]:
    """A random but reproducible problem for benchmarks: tasks, robots and task durations (s)."""
    rng = np.random.default_rng(seed)
    robots = []
    for j in range(n_robots):
        caps = frozenset(t for t in _TYPES if rng.random() < 0.7) or frozenset({"pick_place"})
        wheeled = bool(rng.random() < 0.5)
        robots.append(
            RobotState(
                robot_id=f"robot-{j:03d}", model_id="wheeled" if wheeled else "biped", capabilities=caps,
                payload_per_arm_kg=3.0 if wheeled else 5.0, payload_total_kg=6.0 if wheeled else 10.0,
                reach_m=0.8 if wheeled else 0.7, height_m=1.42 if wheeled else 1.65,
                max_base_speed_m_s=1.5 if wheeled else 1.0,
                xy_m=(float(rng.uniform(0, floor_m[0])), float(rng.uniform(0, floor_m[1]))),
                battery_frac=float(rng.uniform(0.3, 1.0)),
            )
        )
    tasks = []
    for i in range(n_tasks):
        kind = _TYPES[int(rng.integers(len(_TYPES)))]
        xy = (float(rng.uniform(0, floor_m[0])), float(rng.uniform(0, floor_m[1])))
        tasks.append(
            TaskDemand(
                key=f"task-{i:04d}#0", task_id=f"task-{i:04d}", task_type=kind, station_id=f"station-{i % 50}",
                station_xy_m=xy, payload_kg=float(rng.uniform(0.0, 4.0)), two_handed=kind == "carry",
                reach_points=(ReachPoint("obj", f"station-{i % 50}", float(rng.uniform(0.2, 0.7)),
                                         float(rng.uniform(0.5, 1.4))),),
            )
        )
    durations = rng.uniform(10.0, 120.0, n_tasks).tolist()
    return tasks, robots, durations
