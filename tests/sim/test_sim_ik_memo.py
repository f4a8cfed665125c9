"""The IK memo and the pruned collision sampling give the same verdicts, bit for bit, as checking each item alone."""

from __future__ import annotations

import numpy as np

from humanoid_trials.model import Catalog
from humanoid_trials.sim import ik
from humanoid_trials.sim.validator import _world, validate, work_items


def test_memo_hit_returns_the_same_answer_and_pose(catalog: Catalog) -> None:
    item = work_items(catalog, catalog.scenario("ulsan-door-bolts"))[0]
    world = _world(item)
    robot = world.robots[item.site.robot(item.robot_id).profile]
    world.reset()
    robot.place(1.0, 2.0, 0.3)
    arm = next(iter(robot.arms.values()))
    shoulder = robot.shoulder_position(arm)
    target, axis = shoulder + np.array([0.35, 0.0, -0.3]), np.array([0.0, 0.0, -1.0])
    robot.ik_memo.clear()
    first = ik.solve(robot, arm, arm.arm_chain, target, axis, arm.ready)
    q_after_first = robot.q.copy()
    robot.set_chain(arm.arm_chain, arm.seeds[0])  # the chain's own angles at entry do not matter
    second = ik.solve(robot, arm, arm.arm_chain, target, axis, arm.ready)
    assert len(robot.ik_memo) == 1
    assert second.q.tobytes() == first.q.tobytes()
    assert (second.position_error_m, second.angle_error_rad) == (first.position_error_m, first.angle_error_rad)
    assert robot.q.tobytes() == q_after_first.tobytes()
    robot.place(1.0, 2.1, 0.3)  # another base pose is another question
    ik.solve(robot, arm, arm.arm_chain, target, axis, arm.ready)
    assert len(robot.ik_memo) == 2
    world.forget_ik()
    assert not robot.ik_memo


def test_batch_gives_what_each_item_alone_gives(catalog: Catalog) -> None:
    items = [
        item
        for sid in ("ulsan-door-bolts", "icheon-tote-shuttle")
        for item in work_items(catalog, catalog.scenario(sid))
    ]
    together = validate(items + items)  # the second half runs with a warm memo
    alone = [validate([item])[0] for item in items]
    assert together[: len(items)] == alone
    assert together[len(items) :] == alone
    assert all(not robot.ik_memo for item in items for robot in _world(item).robots.values())
