"""Step through a scenario's motions in the PyBullet GUI (`humanoid-trials validate --gui`; needs a display).

For each task, the first robot that passed (else the first checked) runs its plan: the base is placed at each
station and the arms move along the same joint-space segments the validator checked, at `speed` times real time.
"""

from __future__ import annotations

import os
import time

import numpy as np

from humanoid_trials.model.catalog import Catalog
from humanoid_trials.model.validation import ValidationReport
from humanoid_trials.sim.checks import motion_time, place_part, solve_plan
from humanoid_trials.sim.errors import SimError
from humanoid_trials.sim.plan import plan_task
from humanoid_trials.sim.world import World

FRAME_S = 1.0 / 30.0


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def show(catalog: Catalog, report: ValidationReport, speed: float = 1.0) -> None:
    """Open the GUI and play every task of the report's scenario once."""
    if not has_display():
        raise SimError("--gui needs a display (DISPLAY or WAYLAND_DISPLAY is not set)")
    scenario = catalog.scenario(report.scenario_id)
    site = catalog.site(scenario.site)
    profiles = {robot.profile: catalog.profile(robot.profile) for robot in site.robots}
    world = World(site, profiles, gui=True)
    try:
        for verdict in report.tasks:
            chosen = next((r for r in verdict.robots if r.robot_id in verdict.feasible_robots), verdict.robots[0])
            deployed = site.robot(chosen.robot_id)
            task = scenario.task(verdict.task_id)
            arms = tuple(chosen.arm.split("+")) if chosen.arm else (profiles[deployed.profile].arms[0].name,)
            world.reset()
            robot = world.robots[deployed.profile]
            home = site.station(deployed.home_station).pose
            start = (home.x_m, home.y_m, home.yaw_rad)
            solved = solve_plan(world, robot, site, start, plan_task(site, task, arms), deployed.home_station)
            previous = solved.frames[0].q if solved.frames else robot.q
            for frame in solved.frames:
                robot.place(*frame.base)
                seconds = motion_time(robot, previous, frame.q) / speed
                steps = max(1, int(seconds / FRAME_S))
                for index in range(1, steps + 1):
                    robot.set_q(previous + (frame.q - previous) * (index / steps))
                    if frame.carried is not None:
                        place_part(robot, frame.carried)
                    time.sleep(FRAME_S)
                previous = np.array(frame.q)
    finally:
        world.close()
