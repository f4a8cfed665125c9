"""Scenarios: the manufacturing tasks to run at a site, their perturbations and pass criteria."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import Field, create_model

from humanoid_trials.tasks import TASK_TYPES, TaskParams
from humanoid_trials.values import (
    Fraction,
    Frozen,
    Identifier,
    NonNegative,
    Point2,
    Positive,
    Text,
    UniqueIds,
)


class TaskSpec(Frozen):
    """One task of a scenario. `params` is typed per task type (see `humanoid_trials.tasks.TASK_TYPES`)."""

    id: Identifier
    type: str
    params: TaskParams
    robots: UniqueIds = ()
    depends_on: UniqueIds = ()
    repetitions: int = Field(default=1, ge=1, le=100_000)
    timeout_s: Positive = 300.0
    max_retries: int = Field(default=1, ge=0, le=10)


def _task_class(name: str, params: type[TaskParams]) -> type[TaskSpec]:
    class_name = "".join(word.title() for word in name.split("_")) + "Task"
    model: type[TaskSpec] = create_model(
        class_name,
        __base__=TaskSpec,
        type=(Literal[name], ...),  # type: ignore[arg-type]
        params=(params, ...),
    )
    return model


TASK_SPEC_CLASSES: dict[str, type[TaskSpec]] = {name: _task_class(name, cls) for name, cls in TASK_TYPES.items()}

if TYPE_CHECKING:
    AnyTask = TaskSpec
else:
    AnyTask = Annotated[Union[tuple(TASK_SPEC_CLASSES.values())], Field(discriminator="type")]  # noqa: UP007


class PartPoseNoise(Frozen):
    """Gaussian noise on part positions (standard deviation, m)."""

    type: Literal["part_pose_noise"]
    sigma_m: NonNegative


class RobotMalfunction(Frozen):
    """A robot stops working at `at_s` (s after trial start)."""

    type: Literal["robot_malfunction"]
    robot: Identifier
    at_s: NonNegative


class HumanEntersZone(Frozen):
    """A simulated worker walks `path_m` (site frame, m) at `speed_m_s`, starting at `at_s`."""

    type: Literal["human_enters_zone"]
    zone: Identifier
    at_s: NonNegative
    speed_m_s: Positive = 1.0
    path_m: tuple[Point2, ...] = ()


class PartSlip(Frozen):
    """The part of `task` slips out of the gripper at the first grasp after `at_s`."""

    type: Literal["part_slip"]
    task: Identifier
    at_s: NonNegative


class RobotTrip(Frozen):
    """`robot` trips (loses balance) at `at_s`."""

    type: Literal["robot_trip"]
    robot: Identifier
    at_s: NonNegative


Perturbation = Annotated[
    PartPoseNoise | RobotMalfunction | HumanEntersZone | PartSlip | RobotTrip, Field(discriminator="type")
]
PERTURBATION_TYPES: dict[str, type[Frozen]] = {
    "part_pose_noise": PartPoseNoise,
    "robot_malfunction": RobotMalfunction,
    "human_enters_zone": HumanEntersZone,
    "part_slip": PartSlip,
    "robot_trip": RobotTrip,
}


class Criteria(Frozen):
    """Pass criteria of a trial: success rate (0..1), p95 cycle time / takt, safety events per trial."""

    min_success_rate: Fraction = 0.9
    max_p95_cycle_over_takt: Positive = 1.0
    max_safety_events: int = Field(default=0, ge=0)


class Scenario(Frozen):
    """A scenario file. `source_path` is set by the loader (the file it came from)."""

    id: Identifier
    site: Identifier
    description: Text
    seed: int = Field(default=0, ge=0)
    time_limit_s: Positive = 3600.0
    tasks: tuple[AnyTask, ...] = Field(min_length=1)
    perturbations: tuple[Perturbation, ...] = ()
    criteria: Criteria = Criteria()
    source_path: str = Field(default="", exclude=True)

    def task(self, task_id: str) -> TaskSpec:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(f"scenario {self.id!r} has no task {task_id!r}")

    def total_attempts(self) -> int:
        """Number of task repetitions in the scenario (first attempts only)."""
        return sum(task.repetitions for task in self.tasks)


def task_from_dict(data: dict[str, Any]) -> TaskSpec:
    """Rebuild a TaskSpec from `model_dump(mode='json')` output (for messages and journals)."""
    cls = TASK_SPEC_CLASSES[data["type"]]
    return cls.model_validate(data, strict=False)
