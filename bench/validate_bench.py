"""Pre-validation benchmark (not a test): validation throughput on the bundled scenarios.

Prints, from one run on this machine:
- task checks per second on one core (warm worlds), for all bundled task checks and for pick_place alone;
- the scaling from 1 to 2 worker processes (local process pool, warm workers);
- the ratio of validator wall time to the time spent inside the raw PyBullet calls it makes (IK Jacobians, forward
  kinematics and state resets, collision queries, inverse dynamics), measured in the same run by timing each call;
- the load average before and after, so a reader can judge the wall-clock figures (the machine may be shared: the
  per-CPU-second figures, from `time.process_time`, are the ones to compare between runs).

A "task check" is one task of a scenario checked for one robot that may be assigned to it (a `WorkItem`).
Usage: .venv/bin/python bench/validate_bench.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import pybullet

from humanoid_trials.model import load_catalog
from humanoid_trials.sim.executors import LocalExecutor
from humanoid_trials.sim.validator import WorkItem, validate, work_items

CATEGORIES = {
    "calculateJacobian": "IK Jacobian",
    "getLinkState": "FK",
    "getLinkStates": "FK",
    "resetJointStatesMultiDof": "FK",
    "resetBasePositionAndOrientation": "FK",
    "getBasePositionAndOrientation": "FK",
    "getAABB": "collision",
    "getClosestPoints": "collision",
    "calculateInverseDynamics": "dynamics",
}


def _rate(items: Sequence[WorkItem], run: Callable[[Sequence[WorkItem]], object], repeat: int) -> float:
    """Best-of-`repeat` throughput (task checks per wall-clock second)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run(items)
        times.append(time.perf_counter() - started)
    return len(items) / min(times)


def _cpu_rate(items: Sequence[WorkItem], repeat: int) -> float:
    """Best-of-`repeat` task checks per CPU second of this process (per core, less sensitive to other load)."""
    times = []
    for _ in range(repeat):
        started = time.process_time()
        validate(items)
        times.append(time.process_time() - started)
    return len(items) / min(times)


def _jacobian_us(items: Sequence[WorkItem]) -> float:
    """Time (µs) of one calculateJacobian on the first item's robot: a raw speed reference for this machine now."""
    from humanoid_trials.sim.validator import _world

    world = _world(items[0])
    robot = next(iter(world.robots.values()))
    arm = next(iter(robot.arms.values()))
    q = robot.q.tolist()
    zeros = [0.0] * len(q)
    started = time.perf_counter()
    for _ in range(2000):
        pybullet.calculateJacobian(
            robot.body, arm.tcp_link, [0.0, 0.0, 0.0], q, zeros, zeros, physicsClientId=robot.client
        )
    return (time.perf_counter() - started) / 2000 * 1e6


def _instrumented(items: Sequence[WorkItem]) -> tuple[float, dict[str, float], dict[str, int]]:
    """Validator wall time (s) with every PyBullet call it makes timed: seconds and counts per category."""
    spent: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    originals: dict[str, Any] = {}

    def wrap(name: str, function: Any) -> Any:
        category = CATEGORIES[name]

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[category] += time.perf_counter() - started
                calls[category] += 1

        return timed

    for name in CATEGORIES:
        originals[name] = getattr(pybullet, name)
        setattr(pybullet, name, wrap(name, originals[name]))
    try:
        started = time.perf_counter()
        validate(items)
        wall = time.perf_counter() - started
    finally:
        for name, function in originals.items():
            setattr(pybullet, name, function)
    return wall, dict(spent), dict(calls)


def _load() -> str:
    if not hasattr(os, "getloadavg"):
        return "n/a"
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the best is reported")
    args = parser.parse_args()

    load_before = _load()
    catalog = load_catalog()
    items = [item for sid in sorted(catalog.scenarios) for item in work_items(catalog, catalog.scenario(sid))]
    picks = [item for item in items if item.task.type == "pick_place"]
    validate(items)  # build the worlds once (one per site), as a long-lived worker would have them
    one_all = _rate(items, validate, args.repeat)
    one_pick = _rate(picks, validate, args.repeat)
    cpu_all = _cpu_rate(items, args.repeat)
    cpu_pick = _cpu_rate(picks, args.repeat)
    jacobian_us = _jacobian_us(items)
    wall, spent, calls = _instrumented(items)
    raw = sum(spent.values())

    with LocalExecutor(2) as pool:
        pool.run(items)  # start the workers and build their worlds
        two_all = _rate(items, pool.run, args.repeat)
    with LocalExecutor(1) as serial:
        one_exec = _rate(items, serial.run, args.repeat)

    print(f"bundled task checks: {len(items)} ({len(picks)} pick_place), {os.cpu_count()} cores")
    print(f"load average (1/5/15 min): {load_before} before, {_load()} after (wall figures suffer when high)")
    print(f"raw speed reference: calculateJacobian {jacobian_us:.1f} µs (24-DOF robot)")
    print(f"1 core, all task types : {one_all:7.1f} task checks/s wall, {cpu_all:7.1f} per CPU-second")
    print(
        f"1 core, pick_place     : {one_pick:7.1f} task checks/s wall, {cpu_pick:7.1f} per CPU-second "
        f"({1000 / cpu_pick:.1f} ms CPU each)"
    )
    print(
        f"2 workers, all types   : {two_all:7.1f} task checks/s = {two_all / one_exec:.2f}x of 1 worker "
        f"({one_exec:.1f}/s; wall clock: needs an idle second core)"
    )
    print(f"validator wall / raw PyBullet call time: {wall / raw:.2f} ({wall:.2f} s / {raw:.2f} s)")
    for category in sorted(spent, key=lambda c: -spent[c]):
        share = spent[category] / wall
        print(f"  {category:12s} {spent[category]:6.3f} s in {calls[category]:7d} calls ({share:5.1%} of wall)")
    print(f"  python/numpy {wall - raw:6.3f} s ({(wall - raw) / wall:5.1%} of wall)")


if __name__ == "__main__":
    main()
