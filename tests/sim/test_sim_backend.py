"""The simulated robot backend: the validator's motion plan played with simulated durations; deterministic."""

from __future__ import annotations

import pytest

from humanoid_trials.model import Catalog
from humanoid_trials.model.events import Outcome
from humanoid_trials.model.scenario import PartPoseNoise, PartSlip
from humanoid_trials.sim.backend import JITTER, SimulatedRobot


@pytest.fixture(scope="module")
def robot(catalog: Catalog) -> SimulatedRobot:
    site = catalog.site("ulsan-door-assembly")
    made = SimulatedRobot(site, catalog.profiles, "rby1-01", seed=7)
    yield made
    made.close()


def test_pick_place_succeeds_with_its_phases(robot: SimulatedRobot, catalog: Catalog) -> None:
    task = catalog.scenario("ulsan-door-bolts").task("pick_bolt_kit")
    run = robot.execute(task)
    assert run.outcome == Outcome.SUCCESS and run.reason == ""
    kinds = [phase.kind for phase in run.phases]
    assert kinds.count("grasp") == 1 and kinds.count("release") == 1
    travels = [phase for phase in run.phases if phase.kind == "travel"]
    assert [t.base_to[:2] for t in travels if t.base_to] == [(9.0, 3.0), (3.0, 3.0)]  # to the tray and back
    grasp = next(p for p in run.phases if p.kind == "grasp")
    assert grasp.duration_s == pytest.approx(catalog.profile("rby1-class").grasp_time_s, rel=JITTER)
    assert robot.pose[:2] == (3.0, 3.0)


def test_same_seed_same_run(robot: SimulatedRobot, catalog: Catalog) -> None:
    site = catalog.site("ulsan-door-assembly")
    task = catalog.scenario("ulsan-door-bolts").task("fasten_hinge_bolts")
    other = SimulatedRobot(site, catalog.profiles, "rby1-01", seed=7)
    try:
        robot.pose = other.pose
        assert robot.execute(task, attempt=2) == other.execute(task, attempt=2)
        assert robot.execute(task, attempt=1) != robot.execute(task, attempt=2)  # jitter depends on the attempt
    finally:
        other.close()


def test_part_slip_fails_the_grasp(robot: SimulatedRobot, catalog: Catalog) -> None:
    task = catalog.scenario("ulsan-door-bolts").task("pick_bolt_kit")
    slip = PartSlip(type="part_slip", task="pick_bolt_kit", at_s=5.0)
    late = robot.execute(task, perturbations=[slip], clock_s=10.0)
    assert late.outcome == Outcome.FAILED
    assert late.reason.startswith("part slipped out of the gripper at 'close on m8_hinge_bolt_kit'")
    assert late.phases[-1].kind == "grasp"
    early = robot.execute(task, perturbations=[slip], clock_s=0.0)  # grasp at ~2 s, before the slip time
    assert early.outcome == Outcome.SUCCESS


def test_large_part_pose_noise_misses_the_grasp(robot: SimulatedRobot, catalog: Catalog) -> None:
    task = catalog.scenario("ulsan-door-bolts").task("pick_bolt_kit")
    run = robot.execute(task, perturbations=[PartPoseNoise(type="part_pose_noise", sigma_m=0.5)])
    assert run.outcome == Outcome.FAILED
    assert "off its nominal pose, the gripper captures 15 mm" in run.reason
