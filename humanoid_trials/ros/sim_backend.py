"""The `sim` robot backend: each attempt is executed by the pre-validation layer's simulated robot
(`humanoid_trials.sim.backend.SimulatedRobot`, PyBullet DIRECT, one world per robot process) and its phases are
played in scaled real time by `PhasePlayer` (progress, cancel, protective stop, base pose, robot faults).

Imported only when a robot node selects `backend: sim`, so other nodes never load PyBullet.
"""

from __future__ import annotations

from humanoid_trials.model.events import Outcome
from humanoid_trials.ros.backends import BackendContext, BasePose, Phase, PhasePlayer, TaskOutcome, TaskRequest
from humanoid_trials.ros.errors import BackendError
from humanoid_trials.sim.backend import SimulatedRobot
from humanoid_trials.sim.errors import SimError


class SimBackend(PhasePlayer):
    """Plays the phases and outcome that PyBullet computes for each attempt (simulated seconds)."""

    def __init__(self, context: BackendContext) -> None:
        super().__init__(context)
        profiles = dict(context.site_profiles) or {context.profile.id: context.profile}
        seed = context.scenario.seed if context.scenario is not None else 0
        try:
            self.robot = SimulatedRobot(context.site, profiles, context.robot_id, seed=seed)
        except (SimError, KeyError) as exc:
            raise BackendError(f"robot {context.robot_id}: cannot build its simulated world: {exc}") from exc
        self.perturbations = tuple(context.scenario.perturbations) if context.scenario is not None else ()

    def plan(self, request: TaskRequest, start: BasePose) -> tuple[list[Phase], TaskOutcome | None]:
        self.robot.pose = (start.x_m, start.y_m, start.yaw_rad)
        try:
            run = self.robot.execute(
                request.task, attempt=request.attempt, perturbations=self.perturbations, clock_s=self.trial_time_s()
            )
        except SimError as exc:
            return [], TaskOutcome(Outcome.FAILED, f"simulation: {exc}", 0.0)
        phases = [
            Phase(phase.name, phase.duration_s, BasePose(*phase.base_to) if phase.base_to is not None else None)
            for phase in run.phases
        ]
        if run.outcome is Outcome.SUCCESS:
            return phases, None
        return phases, TaskOutcome(Outcome.FAILED, run.reason, 0.0)

    def close(self) -> None:
        super().close()
        self.robot.close()
