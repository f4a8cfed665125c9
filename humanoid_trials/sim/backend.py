"""Simulated robot backend core: one robot executing tasks in PyBullet with the validator's motion plans.

Used by the ROS robot node's `sim` backend (humanoid_trials/ros). API:

    robot = SimulatedRobot(site, profiles, "rby1-01", seed=7)       # builds the site's world once (profiles: at
                                                                    # least this robot's model, by profile id)
    run = robot.execute(task, attempt=1, perturbations=scenario.perturbations, clock_s=12.0)
    run.outcome            # Outcome.SUCCESS or Outcome.FAILED (humanoid_trials.model.events)
    run.reason             # "" or why it failed, with numbers
    run.phases             # tuple[SimPhase(name, kind, duration_s, base_to)], simulated seconds, in order;
                           # on failure they end with the phase where it failed
    run.duration_s         # sum of the phase durations (s)
    robot.pose             # (x, y, yaw) of the base in the site frame after the last execute (m, rad)

Deterministic: the same seed, task, attempt, start pose and perturbations give the same phases and outcome. Phase
durations are the validator's estimates (trapezoidal joint motion, travel, grasp and dwell times) with a small
seeded jitter (±`JITTER`). Motion perturbations honoured here: `part_slip` (the grasp fails when the task's first
grasp starts at or after `at_s`, counted on `clock_s`), `part_pose_noise` (a grasp fails when the seeded part offset
exceeds the gripper's capture range). A pose the hand cannot reach fails the attempt at that phase. Robot faults
(`robot_malfunction`, `robot_trip`) are the caller's (the ROS player's) to apply.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from humanoid_trials.model.events import Outcome
from humanoid_trials.model.robot import RobotProfile
from humanoid_trials.model.scenario import PartPoseNoise, PartSlip, TaskSpec
from humanoid_trials.model.site import Site
from humanoid_trials.sim.checks import Kinematics, solve_plan
from humanoid_trials.sim.errors import PlanError
from humanoid_trials.sim.plan import arm_options, plan_task
from humanoid_trials.sim.world import World

JITTER = 0.03
"""Relative spread of simulated phase durations around the estimate."""
GRASP_CAPTURE_M = 0.015
"""Largest part offset (m) from its nominal pose that the gripper still captures."""


@dataclass(frozen=True)
class SimPhase:
    """A phase of an executed task: name, kind (travel, motion, grasp, release, dwell), simulated duration (s) and,
    for travel, where the base ends up (site frame x, y in m, yaw in rad)."""

    name: str
    kind: str
    duration_s: float
    base_to: tuple[float, float, float] | None = None


@dataclass(frozen=True)
class Execution:
    outcome: Outcome
    reason: str
    phases: tuple[SimPhase, ...]

    @property
    def duration_s(self) -> float:
        return sum(phase.duration_s for phase in self.phases)


class SimulatedRobot:
    """One deployed robot of `site` in its own PyBullet world (DIRECT)."""

    def __init__(self, site: Site, profiles: Mapping[str, RobotProfile], robot_id: str, seed: int = 0) -> None:
        self.site = site
        self.deployed = site.robot(robot_id)
        self.profile = profiles[self.deployed.profile]
        self.seed = seed
        alone = site.model_copy(update={"robots": (self.deployed,)})  # only this robot's model in its world
        self.world = World(alone, {self.profile.id: self.profile})
        self.robot = self.world.robots[self.profile.id]
        home = site.station(self.deployed.home_station).pose
        self.pose: tuple[float, float, float] = (home.x_m, home.y_m, home.yaw_rad)

    def close(self) -> None:
        self.world.close()

    def _solve(self, task: TaskSpec) -> Kinematics:
        best: Kinematics | None = None
        for arms in arm_options(task, self.profile, self.site):
            plan = plan_task(self.site, task, arms)
            for step in plan.steps:
                part = getattr(step, "part", None)
                if part is not None:
                    self.world.part_body(part.size_m)
            self.world.reset()
            solved = solve_plan(self.world, self.robot, self.site, self.pose, plan)
            if best is None or solved.miss_score < best.miss_score:
                best = solved
            if not solved.misses:
                break
        if best is None:
            raise PlanError(f"robot {self.deployed.id} ({self.profile.id}) has no arm for task {task.id!r}")
        return best

    def execute(
        self,
        task: TaskSpec,
        *,
        attempt: int = 1,
        perturbations: Sequence[object] = (),
        clock_s: float = 0.0,
    ) -> Execution:
        """Run one attempt of `task` from the current pose; `clock_s` is the trial time (s) at its start."""
        rng = np.random.default_rng([self.seed, zlib.crc32(task.id.encode()), attempt])
        if task.type not in self.profile.capabilities:
            return Execution(Outcome.FAILED, f"robot model {self.profile.id} cannot do {task.type} tasks", ())
        solved = self._solve(task)
        phases: list[SimPhase] = []
        if solved.setup_base is not None:
            self.pose = solved.setup_base
        if solved.setup_base is not None and solved.setup_travel_s > 0.0:
            phases.append(
                SimPhase(
                    "travel to the work station", "travel", self._jitter(rng, solved.setup_travel_s), solved.setup_base
                )
            )
        misses = {miss.label: miss for miss in solved.misses}
        slip_at = min((p.at_s for p in perturbations if isinstance(p, PartSlip) and p.task == task.id), default=None)
        noise = max((p.sigma_m for p in perturbations if isinstance(p, PartPoseNoise)), default=0.0)
        elapsed = clock_s
        grasped = False
        for phase in solved.phases:
            duration = self._jitter(rng, phase.seconds)
            phases.append(SimPhase(phase.label, phase.kind, duration, phase.base_to))
            if phase.base_to is not None:
                self.pose = phase.base_to
            if phase.label in misses:
                miss = misses[phase.label]
                return Execution(
                    Outcome.FAILED,
                    f"{miss.arm} hand cannot reach '{miss.label}': misses it by {miss.position_error_m * 1000:.0f} mm",
                    tuple(phases),
                )
            if phase.kind == "grasp" and not grasped:
                grasped = True
                if slip_at is not None and elapsed >= slip_at:
                    return Execution(
                        Outcome.FAILED,
                        f"part slipped out of the gripper at '{phase.label}' (t = {elapsed:.1f} s)",
                        tuple(phases),
                    )
                if noise > 0.0:
                    offset = float(math.hypot(*rng.normal(0.0, noise, 2)))
                    if offset > GRASP_CAPTURE_M:
                        return Execution(
                            Outcome.FAILED,
                            f"grasp missed at '{phase.label}': part {offset * 1000:.0f} mm "
                            f"off its nominal pose, the gripper captures {GRASP_CAPTURE_M * 1000:.0f} mm",
                            tuple(phases),
                        )
            elapsed += duration
        return Execution(Outcome.SUCCESS, "", tuple(phases))

    @staticmethod
    def _jitter(rng: np.random.Generator, seconds: float) -> float:
        return round(seconds * (1.0 + JITTER * float(rng.uniform(-1.0, 1.0))), 6)
