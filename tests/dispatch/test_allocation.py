"""Allocation: feasibility, cost, optimal matching and the explanations of unassignable tasks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from humanoid_trials.dispatch.allocation import (
    REACH_SLACK_M,
    CostWeights,
    ReachPoint,
    RobotState,
    TaskDemand,
    allocate,
    feasibility,
    plan_all,
    synthetic_problem,
)
from humanoid_trials.dispatch.errors import AllocationError

NO_BATTERY = CostWeights(battery_s=0.0)


def robot(robot_id: str, x: float, y: float = 0.0, **kw: object) -> RobotState:
    values: dict[str, object] = {
        "robot_id": robot_id, "model_id": "std", "capabilities": frozenset({"pick_place", "carry", "inspect"}),
        "payload_per_arm_kg": 3.0, "payload_total_kg": 6.0, "reach_m": 0.8, "height_m": 1.4,
        "max_base_speed_m_s": 1.0, "xy_m": (x, y),
    }
    values.update(kw)
    return RobotState(**values)  # type: ignore[arg-type]


def task(key: str, x: float, y: float = 0.0, **kw: object) -> TaskDemand:
    values: dict[str, object] = {
        "key": key, "task_id": key, "task_type": "pick_place", "station_id": f"s-{key}", "station_xy_m": (x, y),
    }
    values.update(kw)
    return TaskDemand(**values)  # type: ignore[arg-type]


def by_task(result: object) -> dict[str, str]:
    return {a.task_key: a.robot_id for a in result.assignments}  # type: ignore[attr-defined]


def test_optimal_beats_greedy() -> None:
    # travel (1 m/s): t0-r0 4, t0-r1 6, t1-r0 5, t1-r1 15.
    # Greedy takes the cheapest pair t0-r0 (4) and is left with t1-r1 (15): 19 s. Optimal: t0-r1 + t1-r0 = 11 s.
    result = allocate([task("t0", 4.0), task("t1", -5.0)], [robot("r0", 0.0), robot("r1", 10.0)], NO_BATTERY)
    assert by_task(result) == {"t0": "r1", "t1": "r0"}
    assert sum(a.cost_s for a in result.assignments) == pytest.approx(11.0)
    assert {a.task_key: a.travel_s for a in result.assignments} == pytest.approx({"t0": 6.0, "t1": 5.0})


def test_most_tasks_first_then_cost() -> None:
    # t1 only r0 can do (capability); t0 is cheaper on r0 but must go to r1 so that both are assigned
    r1 = robot("r1", 50.0, capabilities=frozenset({"inspect"}))
    result = allocate([task("t0", 1.0, task_type="inspect"), task("t1", 30.0)], [robot("r0", 0.0), r1], NO_BATTERY)
    assert by_task(result) == {"t0": "r1", "t1": "r0"}


def test_queue_and_battery_enter_the_cost() -> None:
    near_busy = robot("near", 1.0, busy_s=100.0)
    far_idle = robot("far", 20.0)
    assert by_task(allocate([task("t", 0.0)], [near_busy, far_idle], NO_BATTERY)) == {"t": "far"}
    # same distance: the fuller battery wins; penalty 60 s × (1 - fraction)
    low = robot("low", 5.0, battery_frac=0.5)
    full = robot("full", -5.0, battery_frac=1.0)
    result = allocate([task("t", 0.0)], [low, full])
    assert by_task(result) == {"t": "full"}
    assert result.assignments[0].cost_s == pytest.approx(5.0)
    only_low = allocate([task("t", 0.0)], [low])
    assert only_low.assignments[0].cost_s == pytest.approx(5.0 + 30.0)


def hand_cost(t: TaskDemand, r: RobotState) -> float | None:
    """Cost (s) as the module docstring defines it with default weights; None when the robot lacks the capability."""
    if t.task_type not in r.capabilities:
        return None
    dist = float(np.hypot(t.station_xy_m[0] - r.xy_m[0], t.station_xy_m[1] - r.xy_m[1]))
    return dist / r.max_base_speed_m_s + r.busy_s + CostWeights().battery_s * (1 - r.battery_frac)


def test_matches_brute_force_on_small_problems() -> None:
    rng = np.random.default_rng(3)
    for _ in range(30):
        n_t, n_r = int(rng.integers(1, 6)), int(rng.integers(1, 5))
        robots = [
            robot(f"r{j}", float(rng.uniform(0, 20)), float(rng.uniform(0, 20)),
                  capabilities=frozenset(c for c in ("pick_place", "inspect") if rng.random() < 0.7),
                  busy_s=float(rng.uniform(0, 10)), battery_frac=float(rng.uniform(0.2, 1.0)))
            for j in range(n_r)
        ]
        tasks = [
            task(f"t{i}", float(rng.uniform(0, 20)), float(rng.uniform(0, 20)),
                 task_type=str(rng.choice(["pick_place", "inspect"])))
            for i in range(n_t)
        ]
        result = allocate(tasks, robots)
        best = (0, 0.0)
        for k in range(min(n_t, n_r), 0, -1):
            for ts in itertools.permutations(range(n_t), k):
                for rs in itertools.combinations(range(n_r), k):
                    costs = [hand_cost(tasks[i], robots[j]) for i, j in zip(ts, rs, strict=True)]
                    if None in costs:
                        continue
                    total = sum(c for c in costs if c is not None)
                    if k > best[0] or (k == best[0] and total < best[1]):
                        best = (k, total)
        assert len(result.assignments) == best[0]
        assert sum(a.cost_s for a in result.assignments) == pytest.approx(best[1])


def test_deferred_when_robots_are_taken() -> None:
    result = allocate([task("a", 0.0), task("b", 1.0), task("c", 2.0)], [robot("r", 0.0)])
    assert by_task(result) == {"a": "r"}
    assert set(result.deferred) == {"b", "c"}
    assert result.unassignable == ()


def test_capability_explained() -> None:
    result = allocate([task("t", 0.0, task_type="fasten")], [robot("r1", 0.0), robot("r2", 1.0)])
    assert result.assignments == ()
    (item,) = result.unassignable
    assert item.permanent
    assert item.reason == "no deployed robot has capability 'fasten'"


def test_payload_explained_with_numbers() -> None:
    robots = [robot("small", 0.0, payload_per_arm_kg=3.0), robot("rby1-01", 1.0, payload_per_arm_kg=20.0,
                                                                   payload_total_kg=40.0)]
    (item,) = allocate([task("t", 0.0, payload_kg=25.0)], robots).unassignable
    assert item.permanent
    assert item.reason == "needs payload 25.0 kg (one arm); largest on site 20.0 kg (rby1-01)"
    # two-handed: limited by the total and by twice the per-arm payload
    (two,) = allocate([task("t", 0.0, task_type="carry", payload_kg=50.0, two_handed=True)], robots).unassignable
    assert two.reason == "needs payload 50.0 kg (two-handed); largest on site 40.0 kg (rby1-01)"
    ok = allocate([task("t", 0.0, task_type="carry", payload_kg=6.0, two_handed=True)], [robot("r", 0.0)])
    assert by_task(ok) == {"t": "r"}


def test_payload_scope_names_capable_robots_only() -> None:
    strong_but_unable = robot("strong", 0.0, payload_per_arm_kg=50.0, capabilities=frozenset({"inspect"}))
    (item,) = allocate([task("t", 0.0, payload_kg=10.0)], [robot("weak", 1.0), strong_but_unable]).unassignable
    assert item.reason == "needs payload 10.0 kg (one arm); largest among robots with capability 'pick_place' " \
        "3.0 kg (weak)"


def test_reach_explained_and_feasible_near() -> None:
    # shoulder of a 1.4 m robot at 1.12 m; point 1.5 m away at 0.9 m high -> 1.5 m > 0.8 + slack
    far = task("far", 0.0, reach_points=(ReachPoint("shelf", "s", 1.5, 0.9),))
    near = task("near", 0.0, reach_points=(ReachPoint("shelf", "s", 0.5, 1.6),))
    result = allocate([far, near], [robot("r1", 0.0), robot("r2", 0.0)])
    assert [a.task_key for a in result.assignments] == ["near"]
    (item,) = result.unassignable
    assert item.permanent
    assert item.reason.startswith("out of reach: object 'shelf' is 1.50 m from the shoulder")
    assert f"longest reach on site 0.80 m + {REACH_SLACK_M:.2f} m slack" in item.reason
    # high point: sqrt(0.5² + (1.6 - 1.12)²) = 0.693 m, within 0.8 m
    assert feasibility([near], [robot("r", 0.0)]).tolist() == [[True]]


def test_allowed_robots() -> None:
    robots = [robot("r1", 0.0), robot("r2", 100.0)]
    assert by_task(allocate([task("t", 0.0, allowed_robots=frozenset({"r2"}))], robots)) == {"t": "r2"}
    (item,) = allocate([task("t", 0.0, allowed_robots=frozenset({"r9"}))], robots).unassignable
    assert item.reason == "allowed robots r9 are not deployed at this site"
    (cap,) = allocate([task("t", 0.0, task_type="fasten", allowed_robots=frozenset({"r1"}))], robots).unassignable
    assert cap.reason == "none of the allowed robots (r1) has capability 'fasten'"


def test_unavailable_robots_are_transient() -> None:
    robots = [robot("r1", 0.0, unavailable="lost"), robot("r2", 0.0, battery_frac=0.1)]
    (item,) = allocate([task("t", 0.0)], robots).unassignable
    assert not item.permanent
    assert item.reason == "no capable robot available: r1 lost; r2 battery 10% < reserve 15%"


def test_bad_input() -> None:
    with pytest.raises(AllocationError, match=r"task keys .* not unique: 't' repeats"):
        allocate([task("t", 0.0), task("t", 1.0)], [robot("r", 0.0)])
    with pytest.raises(AllocationError, match=r"robot ids .* not unique: 'r' repeats"):
        allocate([task("t", 0.0)], [robot("r", 0.0), robot("r", 1.0)])
    with pytest.raises(AllocationError, match="durations"):
        plan_all([task("t", 0.0)], [robot("r", 0.0)], [])
    assert allocate([], [robot("r", 0.0)]).assignments == ()
    (item,) = allocate([task("t", 0.0)], []).unassignable
    assert item.reason == "no robot is deployed"


def test_plan_all_places_every_feasible_task_without_overlap() -> None:
    tasks, robots, durations = synthetic_problem(60, 7, seed=11)
    schedule = plan_all(tasks, robots, durations)
    feasible = [bool(row.any()) for row in feasibility(tasks, robots)]
    placed = [a.task_key for rnd in schedule.rounds for a in rnd]
    assert sorted(placed) == sorted(t.key for t, ok in zip(tasks, feasible, strict=True) if ok)
    assert {u.task_key for u in schedule.unassignable} == {t.key for t, ok in zip(tasks, feasible, strict=True)
                                                           if not ok}
    duration = {t.key: d for t, d in zip(tasks, durations, strict=True)}
    station = {t.key: t.station_xy_m for t in tasks}
    speed = {r.robot_id: r.max_base_speed_m_s for r in robots}
    last: dict[str, tuple[float, tuple[float, float]]] = {r.robot_id: (r.busy_s, r.xy_m) for r in robots}
    for rnd in schedule.rounds:
        assert len({a.robot_id for a in rnd}) == len(rnd)
        for a in rnd:
            free_at, xy = last[a.robot_id]
            travel = float(np.hypot(station[a.task_key][0] - xy[0], station[a.task_key][1] - xy[1])) / speed[a.robot_id]
            assert schedule.start_s[a.task_key] == pytest.approx(free_at + travel)
            assert schedule.finish_s[a.task_key] == pytest.approx(schedule.start_s[a.task_key] + duration[a.task_key])
            last[a.robot_id] = (schedule.finish_s[a.task_key], station[a.task_key])
    assert schedule.makespan_s == pytest.approx(max(free_at for free_at, _ in last.values()))


def test_one_round_of_a_large_problem_is_consistent() -> None:
    tasks, robots, _ = synthetic_problem(1000, 100, seed=0)
    result = allocate(tasks, robots)
    assert len(result.assignments) == 100
    assert len(result.assignments) + len(result.deferred) + len(result.unassignable) == 1000
    matrix = feasibility(tasks, robots)
    row = {t.key: i for i, t in enumerate(tasks)}
    col = {r.robot_id: j for j, r in enumerate(robots)}
    assert all(matrix[row[a.task_key], col[a.robot_id]] for a in result.assignments)


def test_a_robot_that_cannot_move_works_only_at_its_station() -> None:
    fixed = robot("fixed", 0.0, max_base_speed_m_s=0.0)
    result = allocate([task("here", 0.0), task("there", 5.0, station_id="far")], [fixed])
    assert by_task(result) == {"here": "fixed"}
    assert result.assignments[0].travel_s == 0.0
    (item,) = result.unassignable
    assert item.reason == "no capable robot available: fixed cannot move (max base speed 0 m/s) to station 'far'"
