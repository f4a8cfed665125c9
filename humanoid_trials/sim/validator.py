"""Pre-validation of scenarios: the pure `validate(batch) -> verdicts` that every executor runs, and the report.

A work item is one task of a scenario checked for one deployed robot that may be assigned to it. Items carry the
(frozen, picklable) site and robot profiles, so a worker needs nothing but the URDF files. Each worker process keeps
one warm world per site (`_world`); every item starts from the world's pristine snapshot, so a verdict does not
depend on which worker ran it or what it ran before (bit-identical across runs, worker counts and executors).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from humanoid_trials import __version__
from humanoid_trials.model.catalog import Catalog
from humanoid_trials.model.robot import RobotProfile
from humanoid_trials.model.scenario import Scenario, TaskSpec, task_from_dict
from humanoid_trials.model.site import DeployedRobot, Site
from humanoid_trials.model.validation import RobotVerdict, TaskVerdict, ValidationReport, Verdict
from humanoid_trials.sim.checks import check_task
from humanoid_trials.sim.world import World

log = logging.getLogger(__name__)

WORLD_CACHE_SIZE = 4
"""Warm worlds kept per process (one per site)."""

Progress = Callable[[int], None]
"""Called with the number of work items just finished."""


@dataclass(frozen=True)
class WorkItem:
    """Check a task of scenario `scenario_id` for the deployed robot `robot_id` at `site`.

    The task travels as JSON (`task_json`): its per-type classes are made at import time and do not pickle.
    """

    scenario_id: str
    site: Site
    profiles: tuple[RobotProfile, ...]
    task_json: str
    robot_id: str

    @classmethod
    def of(
        cls, scenario_id: str, site: Site, profiles: tuple[RobotProfile, ...], task: TaskSpec, robot_id: str
    ) -> WorkItem:
        return cls(scenario_id, site, profiles, json.dumps(task.model_dump(mode="json")), robot_id)

    @property
    def task(self) -> TaskSpec:
        return task_from_dict(json.loads(self.task_json))

    @property
    def world_key(self) -> str:
        """Identity of the world this item needs: the site and the robot profiles, by content."""
        document = {
            "site": self.site.model_dump(mode="json"),
            "profiles": [profile.model_dump(mode="json") for profile in self.profiles],
        }
        return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


_WORLDS: OrderedDict[str, World] = OrderedDict()


def _world(item: WorkItem) -> World:
    key = item.world_key
    world = _WORLDS.get(key)
    if world is None:
        world = World(item.site, {profile.id: profile for profile in item.profiles})
        _WORLDS[key] = world
        while len(_WORLDS) > WORLD_CACHE_SIZE:
            _, old = _WORLDS.popitem(last=False)
            old.close()
    _WORLDS.move_to_end(key)
    return world


def validate(batch: Sequence[WorkItem]) -> list[RobotVerdict]:
    """Check every item of `batch` (in order) in this process's warm world of its site.

    IK answers are shared between the checks of one batch (the same robot asked the same question, e.g. two deployed
    robots of one model at one station) and forgotten at the end, so a batch costs the same however often it runs.
    """
    verdicts = []
    try:
        for item in batch:
            world = _world(item)
            deployed = item.site.robot(item.robot_id)
            verdicts.append(check_task(world, item.site, item.task, deployed))
    finally:
        for world in _WORLDS.values():
            world.forget_ik()
    return verdicts


def candidates(site: Site, task: TaskSpec) -> list[DeployedRobot]:
    """Robots that may be given `task`: its `robots` list, else every deployed robot (capability is a check)."""
    if task.robots:
        return [site.robot(robot_id) for robot_id in task.robots]
    return list(site.robots)


def work_items(catalog: Catalog, scenario: Scenario) -> list[WorkItem]:
    site = catalog.site(scenario.site)
    profiles = tuple(catalog.profile(pid) for pid in sorted({robot.profile for robot in site.robots}))
    return [
        WorkItem.of(scenario.id, site, profiles, task, deployed.id)
        for task in scenario.tasks
        for deployed in candidates(site, task)
    ]


def pybullet_version() -> str:
    try:
        return importlib.metadata.version("pybullet")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def build_report(
    catalog: Catalog,
    scenario: Scenario,
    items: Sequence[WorkItem],
    verdicts: Sequence[RobotVerdict],
    *,
    executor: str,
    workers: int,
    wall_time_s: float,
) -> ValidationReport:
    """Combine per-robot verdicts (same order as `items`) into the scenario's report."""
    site = catalog.site(scenario.site)
    by_task: dict[str, list[RobotVerdict]] = {task.id: [] for task in scenario.tasks}
    for item, verdict in zip(items, verdicts, strict=True):
        by_task[json.loads(item.task_json)["id"]].append(verdict)
    tasks = tuple(
        TaskVerdict.combine(task.id, task.type, site.takt_time_s, by_task[task.id]) for task in scenario.tasks
    )
    return ValidationReport(
        scenario_id=scenario.id,
        site_id=site.id,
        content_hash=catalog.content_hash(scenario.id),
        verdict=Verdict.worst(task.verdict for task in tasks),
        tasks=tasks,
        software_version=__version__,
        pybullet_version=pybullet_version(),
        created_at=datetime.now(UTC).isoformat(),
        wall_time_s=round(wall_time_s, 3),
        executor=executor,
        workers=workers,
    )


def validate_scenarios(
    catalog: Catalog,
    scenario_ids: Iterable[str],
    *,
    executor: str = "local",
    workers: int = 1,
    address: str | None = None,
    progress: Progress | None = None,
) -> list[ValidationReport]:
    """Validate scenarios with one executor (started once); reports in the order of `scenario_ids`."""
    from humanoid_trials.sim.executors import make_executor

    scenarios = [catalog.scenario(sid) for sid in scenario_ids]
    per_scenario = [work_items(catalog, scenario) for scenario in scenarios]
    flat = [item for items in per_scenario for item in items]
    started = time.perf_counter()
    with make_executor(executor, workers, address) as runner:
        verdicts = runner.run(flat, progress)
    wall = time.perf_counter() - started
    reports = []
    offset = 0
    total = max(1, len(flat))
    for scenario, items in zip(scenarios, per_scenario, strict=True):
        chunk = verdicts[offset : offset + len(items)]
        offset += len(items)
        share = wall * len(items) / total
        reports.append(
            build_report(catalog, scenario, items, chunk, executor=executor, workers=runner.workers, wall_time_s=share)
        )
    return reports


def validate_scenario(
    catalog: Catalog,
    scenario_id: str,
    *,
    executor: str = "local",
    workers: int = 1,
    address: str | None = None,
    progress: Progress | None = None,
) -> ValidationReport:
    """Validate one scenario (see `validate_scenarios`)."""
    return validate_scenarios(
        catalog, [scenario_id], executor=executor, workers=workers, address=address, progress=progress
    )[0]
