"""The PyBullet world of a site: floor, objects as static boxes, human zones as non-colliding volumes, robot models.

Built once per process (`World(site, profiles)`), reset before each task with `reset()` (restoreState to the pristine
snapshot). Site frame = PyBullet world frame (m, z up). One body per robot *model*: deployed robots of the same model
share it, placed at whichever station a check needs, and parked out of the way otherwise. Carried parts are boxes made
on first use per size (the snapshot is re-taken then).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pybullet as p
from numpy.typing import NDArray

from humanoid_trials.model.robot import RobotProfile
from humanoid_trials.model.site import Site
from humanoid_trials.sim.errors import RobotModelError
from humanoid_trials.sim.geometry import convex_hull, quat_to_matrix
from humanoid_trials.sim.ik import solve_with_restarts
from humanoid_trials.sim.robot import SimRobot
from humanoid_trials.sim.urdf import prepare_urdf

Array = NDArray[np.float64]
FLOOR_THICKNESS_M = 0.1
READY_OFFSET_M = (0.18, 0.0, -0.20)
"""Ready pose of a hand: TCP this far from its shoulder (base frame: forward, left, up), gripper down."""
PARKED_Z_M = -50.0


@dataclass(frozen=True)
class Obstacle:
    """A static body the robot must not hit: id for messages, PyBullet body, AABB row (m)."""

    name: str
    body: int
    aabb: Array


class World:
    """A site's world in its own PyBullet client (DIRECT unless `gui`)."""

    def __init__(self, site: Site, profiles: Mapping[str, RobotProfile], gui: bool = False) -> None:
        self.site = site
        self.client = p.connect(p.GUI if gui else p.DIRECT)
        cid = self.client
        p.setGravity(0.0, 0.0, -9.81, physicsClientId=cid)
        self.obstacles: list[Obstacle] = []
        length, width = site.layout.floor_m
        floor = self._box(
            (length + 4.0, width + 4.0, FLOOR_THICKNESS_M),
            (length / 2, width / 2, -FLOOR_THICKNESS_M / 2),
            0.0,
            (0.6, 0.6, 0.6, 1.0),
        )
        self.floor = floor
        self.obstacles.append(Obstacle("floor", floor, self._aabb(floor)))
        for obj in site.layout.objects:
            pose = obj.pose
            centre = (pose.x_m, pose.y_m, pose.z_m + obj.size_m[2] / 2)
            body = self._box(obj.size_m, centre, pose.yaw_rad, (0.55, 0.45, 0.3, 1.0))
            self.obstacles.append(Obstacle(obj.id, body, self._aabb(body)))
        self.obstacle_aabbs = np.array([o.aabb for o in self.obstacles])
        self.zones: dict[str, int] = {}
        for zone in site.human_zones:
            self.zones[zone.id] = self._zone(zone.polygon_m, zone.height_m)
        self.zone_aabbs = {zone_id: self._aabb(body) for zone_id, body in self.zones.items()}
        self.robots: dict[str, SimRobot] = {}
        for profile_id in sorted({robot.profile for robot in site.robots}):
            if profile_id not in profiles:
                raise RobotModelError(f"site {site.id!r} deploys robot model {profile_id!r} but no profile was given")
            profile = profiles[profile_id]
            robot = SimRobot(cid, profile, prepare_urdf(profile.urdf_path))
            self._ready_pose(robot)
            robot.park()
            self.robots[profile_id] = robot
        self.parts: dict[tuple[float, float, float], int] = {}
        self.state = p.saveState(physicsClientId=cid)

    # --- building -------------------------------------------------------------------------------------------------
    def _box(
        self,
        size: tuple[float, float, float],
        centre: tuple[float, float, float],
        yaw: float,
        colour: tuple[float, float, float, float],
    ) -> int:
        half = [s / 2 for s in size]
        shape = p.createCollisionShape(p.GEOM_BOX, halfExtents=half, physicsClientId=self.client)
        visual = p.createVisualShape(p.GEOM_BOX, halfExtents=half, rgbaColor=colour, physicsClientId=self.client)
        orientation = (0.0, 0.0, math.sin(yaw / 2), math.cos(yaw / 2))
        return int(p.createMultiBody(0.0, shape, visual, list(centre), orientation, physicsClientId=self.client))

    def _zone(self, polygon: tuple[tuple[float, float], ...], height: float) -> int:
        """A human zone: the prism over the polygon's convex hull; it never collides in simulation."""
        hull = convex_hull(polygon)
        vertices = [[x, y, 0.0] for x, y in hull] + [[x, y, height] for x, y in hull]
        shape = p.createCollisionShape(p.GEOM_MESH, vertices=vertices, physicsClientId=self.client)
        visual = p.createVisualShape(
            p.GEOM_BOX, halfExtents=[0.01, 0.01, 0.01], rgbaColor=[1, 0.8, 0, 0.3], physicsClientId=self.client
        )
        body = int(p.createMultiBody(0.0, shape, visual, [0, 0, 0], physicsClientId=self.client))
        p.setCollisionFilterGroupMask(body, -1, 0, 0, physicsClientId=self.client)
        return body

    def _aabb(self, body: int) -> Array:
        lo, hi = p.getAABB(body, -1, physicsClientId=self.client)
        return np.array([*lo, *hi])

    def _ready_pose(self, robot: SimRobot) -> None:
        """Each arm's ready angles: TCP in front of and below its shoulder, gripper pointing down."""
        robot.place(0.0, 0.0, 0.0)
        for arm in robot.arms.values():
            shoulder = robot.shoulder_position(arm)
            target = shoulder + np.array(READY_OFFSET_M)
            result = solve_with_restarts(
                robot, arm, arm.arm_chain, target, np.array([0.0, 0.0, -1.0]), [arm.ready, *arm.seeds]
            )
            if result.reached:
                arm.ready = result.q
            robot.set_arm(arm, arm.ready)
        robot.ready_q = robot.q.copy()
        for arm in robot.arms.values():
            arm.shoulder_base = robot.shoulder_position(arm)
        robot.compute_allowed_pairs()
        robot.support_base = self._support_polygon(robot)

    def _support_polygon(self, robot: SimRobot) -> list[tuple[float, float]]:
        """Support polygon in the base frame (m): the footprint (wheeled) or the hull of the sole boxes (biped)."""
        if not robot.feet:
            return convex_hull(robot.profile.support.footprint_m)
        corners: list[tuple[float, float]] = []
        base_x, base_y = 0.0, 0.0
        for link in robot.feet:
            state = p.getLinkState(robot.body, link, computeForwardKinematics=1, physicsClientId=self.client)
            rotation, position = quat_to_matrix(state[1]), np.array(state[0])
            for shape in p.getCollisionShapeData(robot.body, link, physicsClientId=self.client):
                if shape[2] != p.GEOM_BOX:
                    continue
                dx, dy, _ = (d / 2 for d in shape[3])
                local_pos, local_rot = np.array(shape[5]), quat_to_matrix(shape[6])
                for sx in (-1.0, 1.0):
                    for sy in (-1.0, 1.0):
                        point = position + rotation @ (local_pos + local_rot @ np.array([sx * dx, sy * dy, 0.0]))
                        corners.append((float(point[0]) - base_x, float(point[1]) - base_y))
        if len(corners) < 3:
            raise RobotModelError(
                f"{robot.prepared.source}: the sole links {robot.profile.support.feet} have no collision boxes"
            )
        return convex_hull(corners)

    # --- use --------------------------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the pristine snapshot: every robot parked at its ready pose, no part carried."""
        p.restoreState(self.state, physicsClientId=self.client)
        for robot in self.robots.values():
            robot.q = robot.ready_q.copy()

    def forget_ik(self) -> None:
        """Drop the robots' remembered IK answers (see `ik.solve`)."""
        for robot in self.robots.values():
            robot.ik_memo.clear()

    def part_body(self, size: tuple[float, float, float]) -> int:
        """A box body for a carried part of `size` (m), parked; made on first use (then the snapshot is re-taken)."""
        key = (float(size[0]), float(size[1]), float(size[2]))
        if key not in self.parts:
            p.restoreState(self.state, physicsClientId=self.client)
            body = self._box(key, (0.0, 0.0, PARKED_Z_M - 10.0), 0.0, (0.2, 0.5, 0.9, 1.0))
            self.parts[key] = body
            self.state = p.saveState(physicsClientId=self.client)
        return self.parts[key]

    def close(self) -> None:
        if p.isConnected(self.client):
            p.disconnect(self.client)
