"""The bundled robot models: URDF and profile agree (mass, reach, DOF, links), and they load in PyBullet."""

from __future__ import annotations

import numpy as np
import pytest

from humanoid_trials.model import Catalog
from humanoid_trials.sim.world import World

MODELS = ["rby1-class", "biped-class"]


@pytest.fixture(scope="module")
def world(catalog: Catalog) -> World:
    site = catalog.site("ulsan-door-assembly")  # deploys both models
    built = World(site, {pid: catalog.profile(pid) for pid in MODELS})
    yield built
    built.close()


@pytest.mark.parametrize("model", MODELS)
def test_urdf_mass_matches_profile(world: World, catalog: Catalog, model: str) -> None:
    robot = world.robots[model]
    assert robot.mass_kg == pytest.approx(catalog.profile(model).mass_kg, rel=1e-3)


@pytest.mark.parametrize("model", MODELS)
def test_dof_matches_profile(world: World, catalog: Catalog, model: str) -> None:
    assert len(world.robots[model].dof_joints) == catalog.profile(model).dof


@pytest.mark.parametrize("model", MODELS)
def test_reach_is_shoulder_to_tcp_at_full_extension(world: World, catalog: Catalog, model: str) -> None:
    robot = world.robots[model]
    robot.place(0.0, 0.0, 0.0)
    robot.set_q(np.zeros(len(robot.dof_joints)))  # arms hang straight down
    for arm in robot.arms.values():
        tcp, _ = robot.tcp_pose(arm)
        reach = float(np.linalg.norm(tcp - robot.shoulder_position(arm)))
        assert reach == pytest.approx(catalog.profile(model).reach_m, abs=1e-3)


@pytest.mark.parametrize("model", MODELS)
def test_robot_stands_on_the_floor(world: World, model: str) -> None:
    robot = world.robots[model]
    robot.place(1.0, 1.0, 0.0)
    robot.set_q(np.zeros(len(robot.dof_joints)))
    lowest = min(robot.aabbs(robot.collision_links)[:, 2])
    assert lowest == pytest.approx(0.0, abs=1e-3)


@pytest.mark.parametrize("model", MODELS)
def test_ready_pose_is_solved_and_within_limits(world: World, model: str) -> None:
    robot = world.robots[model]
    for arm in robot.arms.values():
        assert np.any(np.abs(arm.ready) > 0.1)  # not the straight-down zero pose
        assert np.all(arm.ready >= arm.lower) and np.all(arm.ready <= arm.upper)


def test_biped_support_polygon_comes_from_its_soles(world: World) -> None:
    polygon = np.array(world.robots["biped-class"].support_base)
    # two 0.22 x 0.11 m soles 0.18 m apart: the hull spans both feet
    assert polygon[:, 1].max() - polygon[:, 1].min() == pytest.approx(0.18 + 0.11, abs=1e-3)
    assert polygon[:, 0].max() - polygon[:, 0].min() == pytest.approx(0.22, abs=1e-3)
