"""A robot model loaded in PyBullet: joint and link tables, arm chains, TCP frames, limits, and fast state access.

The base is fixed (quasi-static checks): it is placed at a station pose with its lowest point on the floor. The joint
vector `q` holds every movable joint in PyBullet's order (the column order of `calculateJacobian`). Units: m, rad, kg.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pybullet as p
from numpy.typing import NDArray

from humanoid_trials.model.robot import RobotProfile
from humanoid_trials.sim.errors import RobotModelError
from humanoid_trials.sim.geometry import matrix_to_quat, quat_to_matrix, rot_z
from humanoid_trials.sim.urdf import PreparedUrdf

log = logging.getLogger(__name__)

Array = NDArray[np.float64]
MASS_TOLERANCE = 0.05
"""Relative difference allowed between the URDF's mass sum and the profile's mass_kg before a warning is logged."""


@dataclass(frozen=True)
class Chain:
    """Joints moved together by IK: PyBullet indices, slots in `q`, position limits (rad)."""

    joints: list[int]
    slots: NDArray[np.intp]
    lower: Array
    upper: Array


@dataclass
class Arm:
    """One arm: its joints (PyBullet indices and slots in `q`), TCP link and offset, limits and moving links."""

    name: str
    joint_names: tuple[str, ...]
    joints: list[int]
    slots: NDArray[np.intp]
    lower: Array
    upper: Array
    velocity: Array
    effort: Array
    """N m; inf when the URDF has no usable effort limit."""
    tcp_link: int
    tcp_local: Array
    """TCP in the COM frame of `tcp_link` (4x4)."""
    tcp_identity: bool
    shoulder_joint: int
    moving_links: tuple[int, ...]
    load_joints: tuple[int, ...]
    """Slots in `q` whose joints carry this arm's load (the arm and the chain down to the base)."""
    ready: Array
    seeds: tuple[Array, ...]
    """Extra IK starts: mid-range, then fixed pseudo-random poses (same for every run)."""
    arm_chain: Chain
    """The arm's own joints."""
    shoulder_base: Array
    """Shoulder joint position in the base frame at the ready posture (m); set by the world."""
    body_chain: Chain
    """The movable joints from the base to the shoulder (torso, waist), then the arm's joints."""
    upper_reach_m: float = 0.0
    """Shoulder joint to last arm joint at full extension (m)."""
    wrist_length_m: float = 0.0
    """Last arm joint to TCP (m)."""


def _seeds(lower: Array, upper: Array) -> tuple[Array, ...]:
    low, high = np.maximum(lower, -2.0), np.minimum(upper, 2.0)
    generator = np.random.default_rng(20261125)
    return ((low + high) / 2.0, *(low + (high - low) * generator.random(len(low)) for _ in range(4)))


class SimRobot:
    """One robot model in a PyBullet client (one body per model; deployed robots of the same model share it)."""

    def __init__(self, client: int, profile: RobotProfile, prepared: PreparedUrdf) -> None:
        self.client = client
        self.profile = profile
        self.prepared = prepared
        flags = p.URDF_USE_INERTIA_FROM_FILE
        if prepared.merge_fixed:
            flags |= p.URDF_MERGE_FIXED_LINKS
        try:
            self.body = p.loadURDF(
                str(prepared.load_path), [0, 0, -50.0], useFixedBase=True, flags=flags, physicsClientId=client
            )
        except p.error as exc:
            raise RobotModelError(f"{prepared.source}: PyBullet cannot load it: {exc}") from exc
        cid = client
        count = p.getNumJoints(self.body, physicsClientId=cid)
        self.num_links = count
        self.link_index: dict[str, int] = {p.getBodyInfo(self.body, physicsClientId=cid)[0].decode(): -1}
        self.joint_index: dict[str, int] = {}
        self.parent: dict[int, int] = {}
        self.dof_joints: list[int] = []
        for index in range(count):
            info = p.getJointInfo(self.body, index, physicsClientId=cid)
            self.joint_index[info[1].decode()] = index
            self.link_index[info[12].decode()] = index
            self.parent[index] = info[16]
            if info[2] != p.JOINT_FIXED:
                self.dof_joints.append(index)
        self.link_names = {index: name for name, index in self.link_index.items()}
        self.slot_of = {joint: slot for slot, joint in enumerate(self.dof_joints)}
        self.dof_names = tuple(p.getJointInfo(self.body, j, physicsClientId=cid)[1].decode() for j in self.dof_joints)
        limits = [prepared.joints[name].limits for name in self.dof_names]
        self.lower = np.array([lim.lower for lim in limits])
        self.upper = np.array([lim.upper for lim in limits])
        self.effort = np.array([lim.effort if lim.effort is not None else math.inf for lim in limits])
        self.velocity = np.array(
            [min(lim.velocity or profile.max_joint_speed_rad_s, profile.max_joint_speed_rad_s) for lim in limits]
        )
        self.q: Array = np.clip(np.zeros(len(self.dof_joints)), self.lower, self.upper)
        self.zeros = [0.0] * len(self.dof_joints)
        self.masses = np.array([p.getDynamicsInfo(self.body, i, physicsClientId=cid)[0] for i in range(-1, count)])
        # a fixed base reports mass 0 in PyBullet: take the URDF's, with any links merged into the base
        self.masses[0] = prepared.base_mass(set(self.link_index))
        self.mass_kg = float(self.masses.sum())
        base_info = p.getDynamicsInfo(self.body, -1, physicsClientId=cid)
        self.base_inertial_pos = np.array(base_info[3])
        self.base_inertial_rot = quat_to_matrix(base_info[4])
        if abs(self.mass_kg - profile.mass_kg) > MASS_TOLERANCE * profile.mass_kg:
            log.warning(
                "%s: URDF mass sum %.1f kg differs from the profile's mass_kg %.1f kg",
                prepared.source,
                self.mass_kg,
                profile.mass_kg,
            )
        self.collision_links = tuple(
            i for i in range(-1, count) if p.getCollisionShapeData(self.body, i, physicsClientId=cid)
        )
        self.descendants: dict[int, set[int]] = {
            joint: {link for link in range(count) if self._descends(link, joint)} for joint in self.dof_joints
        }
        self.arms: dict[str, Arm] = {
            arm.name: self._arm(arm.name, arm.joints, arm.end_effector_link) for arm in profile.arms
        }
        self.feet = tuple(self._frame_link(foot)[0] for foot in profile.support.feet)
        self.set_q(self.q)
        for arm in self.arms.values():
            shoulder = self.shoulder_position(arm)
            wrist = np.array(
                p.getLinkState(self.body, arm.joints[-1], computeForwardKinematics=1, physicsClientId=cid)[4]
            )
            arm.upper_reach_m = float(np.linalg.norm(wrist - shoulder))
            arm.wrist_length_m = float(np.linalg.norm(self.tcp_pose(arm)[0] - wrist))
        self.base_z = self._standing_height()
        self.ready_q: Array = self.q.copy()
        """Every joint at its ready angle (set by the world once the arms' ready poses are solved)."""
        self.support_base: list[tuple[float, float]] = []
        """Support polygon in the base frame (m), counter-clockwise (set by the world)."""
        self.pair_masks: dict[tuple[tuple[int, ...], tuple[int, ...]], NDArray[np.bool_]] = {}
        """Self-collision pair masks by (moving links, static links), filled by the checks."""
        self.allowed_pairs: frozenset[tuple[int, int]] = frozenset()
        """Link pairs (low, high) never checked for self-collision: adjacent, or touching at the zero/ready pose."""
        self.ik_memo: dict[tuple[object, ...], Any] = {}
        """IK answers (`ik.IkResult`) by their exact inputs (see `ik.solve`); emptied after each validated batch."""

    def compute_allowed_pairs(self) -> None:
        """Adjacent links and links that touch at the zero pose or at the ready pose may touch (like an SRDF)."""
        pairs = {(min(child, parent), max(child, parent)) for child, parent in self.parent.items()}
        shaped = set(self.collision_links)
        for child, parent in self.parent.items():
            if parent != -1 and parent not in shaped:  # across a link without shape (e.g. a wrist between joints)
                grand = self.parent[parent]
                pairs.add((min(child, grand), max(child, grand)))
        links = self.collision_links
        ready = self.q.copy()
        for q in (np.clip(np.zeros(len(self.dof_joints)), self.lower, self.upper), ready):
            self.set_q(q)
            for i, a in enumerate(links):
                for b in links[i + 1 :]:
                    if p.getClosestPoints(self.body, self.body, 0.0, a, b, physicsClientId=self.client):
                        pairs.add((min(a, b), max(a, b)))
        self.set_q(ready)
        self.allowed_pairs = frozenset(pairs)

    # --- model tables -------------------------------------------------------------------------------------------
    def _frame_link(self, name: str) -> tuple[int, Array]:
        if name in self.link_index:
            return self.link_index[name], np.eye(4)
        kept = set(self.link_index)
        try:
            parent, transform = self.prepared.frame(name, kept)
        except RobotModelError as exc:
            raise RobotModelError(
                f"{self.prepared.source}: profile {self.profile.id!r} names link {name!r}: {exc}"
            ) from exc
        return self.link_index[parent], transform

    def _arm(self, name: str, joint_names: tuple[str, ...], tcp: str) -> Arm:
        source = self.prepared.source
        joints: list[int] = []
        for joint in joint_names:
            if joint not in self.joint_index:
                raise RobotModelError(f"{source}: arm {name!r} of profile {self.profile.id!r}: no joint {joint!r}")
            index = self.joint_index[joint]
            if index not in self.slot_of:
                raise RobotModelError(f"{source}: arm {name!r}: joint {joint!r} is fixed, expected a movable joint")
            joints.append(index)
        link, offset = self._frame_link(tcp)
        inertial = p.getDynamicsInfo(self.body, link, physicsClientId=self.client)
        com = np.eye(4)
        com[:3, :3] = quat_to_matrix(inertial[4])
        com[:3, 3] = inertial[3]
        local = np.linalg.inv(com) @ offset
        fallback_speed = self.profile.max_joint_speed_rad_s
        lower, upper, velocity, effort = [], [], [], []
        for joint in joint_names:
            spec = self.prepared.joints[joint].limits
            lower.append(spec.lower)
            upper.append(spec.upper)
            velocity.append(min(spec.velocity or fallback_speed, fallback_speed))
            effort.append(spec.effort if spec.effort is not None else math.inf)
        moving = tuple(i for i in range(self.num_links) if self._descends(i, joints[0]))
        chain: list[int] = []
        current = self.parent[joints[0]]
        while current != -1:
            if current in self.slot_of:
                chain.append(self.slot_of[current])
            current = self.parent[current]
        slots = np.array([self.slot_of[j] for j in joints], dtype=np.intp)
        lower_arr, upper_arr = np.array(lower), np.array(upper)
        torso = sorted(self.dof_joints[slot] for slot in chain)
        torso_slots = np.array([self.slot_of[j] for j in torso], dtype=np.intp)
        body_slots = np.concatenate([torso_slots, slots]).astype(np.intp)
        return Arm(
            name=name,
            joint_names=joint_names,
            joints=joints,
            slots=slots,
            lower=lower_arr,
            upper=upper_arr,
            velocity=np.array(velocity),
            effort=np.array(effort),
            tcp_link=link,
            tcp_local=local,
            tcp_identity=bool(np.allclose(local, np.eye(4))),
            shoulder_joint=joints[0],
            moving_links=moving,
            load_joints=tuple(sorted(set(chain) | {int(s) for s in slots})),
            ready=np.clip(np.zeros(len(joints)), lower_arr, upper_arr),
            seeds=_seeds(lower_arr, upper_arr),
            arm_chain=Chain(list(joints), slots, lower_arr, upper_arr),
            shoulder_base=np.zeros(3),
            body_chain=Chain(torso + list(joints), body_slots, self.lower[body_slots], self.upper[body_slots]),
        )

    def _descends(self, link: int, ancestor: int) -> bool:
        current = link
        while current != -1:
            if current == ancestor:
                return True
            current = self.parent[current]
        return False

    def _standing_height(self) -> float:
        """Base height (m) that puts the lowest collision shape on the floor at the zero pose."""
        self.place(0.0, 0.0, 0.0, 0.0)
        lowest = min(p.getAABB(self.body, i, physicsClientId=self.client)[0][2] for i in self.collision_links)
        return -float(lowest)

    # --- state --------------------------------------------------------------------------------------------------
    def place(self, x: float, y: float, yaw: float, z: float | None = None) -> None:
        """Put the base link frame at (x, y) facing `yaw` (site frame, m, rad), by default standing on the floor.

        PyBullet positions a base by its inertial frame, so the URDF's inertial offset of the base link is applied.
        """
        height = self.base_z if z is None else z
        turn = rot_z(yaw)
        position = np.array([x, y, height]) + turn @ self.base_inertial_pos
        orientation = matrix_to_quat(turn @ self.base_inertial_rot)
        p.resetBasePositionAndOrientation(self.body, position.tolist(), orientation, physicsClientId=self.client)

    def park(self) -> None:
        """Move the robot out of the way (below the floor, far from everything)."""
        p.resetBasePositionAndOrientation(self.body, (0.0, 0.0, -50.0), (0, 0, 0, 1), physicsClientId=self.client)

    def set_q(self, q: Array) -> None:
        self.q = np.array(q, dtype=float)
        p.resetJointStatesMultiDof(
            self.body, self.dof_joints, [[float(v)] for v in self.q], physicsClientId=self.client
        )

    def arm_may_reach(self, arm: Arm, position: Array, axis: Array) -> bool:
        """Whether the arm alone (shoulder where it is now) can get its wrist to the TCP `position` with the gripper
        along `axis`: the wrist centre must lie within the arm's shoulder-to-wrist length (m)."""
        wrist = position - axis * arm.wrist_length_m
        return float(np.linalg.norm(wrist - self.shoulder_position(arm))) <= arm.upper_reach_m

    def set_arm(self, arm: Arm, q_arm: Array) -> None:
        self.set_chain(arm.arm_chain, q_arm)

    def set_chain(self, chain: Chain, values: Array) -> None:
        """Set the joints of `chain` (rad) and update `q`."""
        self.q[chain.slots] = values
        p.resetJointStatesMultiDof(self.body, chain.joints, [[float(v)] for v in values], physicsClientId=self.client)

    def set_slots(self, slots: NDArray[np.intp], values: Array) -> None:
        """Set the joints at `slots` of `q` (rad)."""
        self.q[slots] = values
        joints = [self.dof_joints[int(s)] for s in slots]
        p.resetJointStatesMultiDof(self.body, joints, [[float(v)] for v in values], physicsClientId=self.client)

    def moving_links(self, slots: NDArray[np.intp]) -> tuple[int, ...]:
        """Collision links that move when the joints at `slots` move."""
        links: set[int] = set()
        for slot in slots:
            links |= self.descendants[self.dof_joints[int(slot)]]
        return tuple(sorted(links & set(self.collision_links)))

    def tcp_pose(self, arm: Arm) -> tuple[Array, Array]:
        """TCP position (m) and rotation matrix in the site frame at the current joint state."""
        state = p.getLinkState(self.body, arm.tcp_link, computeForwardKinematics=1, physicsClientId=self.client)
        rotation = quat_to_matrix(state[1])
        position = np.array(state[0])
        if arm.tcp_identity:
            return position, rotation
        return position + rotation @ arm.tcp_local[:3, 3], rotation @ arm.tcp_local[:3, :3]

    def jacobian(self, arm: Arm) -> tuple[Array, Array]:
        """Linear and angular Jacobians (3 x ndof each, site frame) of the TCP at the current `q`."""
        q = self.q.tolist()
        linear, angular = p.calculateJacobian(
            self.body,
            arm.tcp_link,
            arm.tcp_local[:3, 3].tolist(),
            q,
            self.zeros,
            self.zeros,
            physicsClientId=self.client,
        )
        return np.array(linear), np.array(angular)

    def gravity_torques(self) -> Array:
        """Static joint torques (N m) holding the robot's own weight at `q` (fixed base)."""
        tau = p.calculateInverseDynamics(
            self.body, self.q.tolist(), self.zeros, self.zeros, physicsClientId=self.client
        )
        return np.array(tau)

    def centre_of_mass(self) -> Array:
        """Whole-body centre of mass (site frame, m) at the current state."""
        base = p.getBasePositionAndOrientation(self.body, physicsClientId=self.client)
        states = p.getLinkStates(
            self.body, list(range(self.num_links)), computeForwardKinematics=1, physicsClientId=self.client
        )
        positions = np.array([base[0]] + [state[0] for state in states])
        return (self.masses[:, None] * positions).sum(axis=0) / self.mass_kg

    def shoulder_position(self, arm: Arm) -> Array:
        state = p.getLinkState(self.body, arm.shoulder_joint, computeForwardKinematics=1, physicsClientId=self.client)
        return np.array(state[4])

    def aabbs(self, links: tuple[int, ...]) -> Array:
        """Axis-aligned boxes of `links`: rows (min x, y, z, max x, y, z) in m."""
        body, client = self.body, self.client
        return np.array([p.getAABB(body, link, physicsClientId=client) for link in links]).reshape(len(links), 6)

    def link_name(self, link: int) -> str:
        return self.link_names.get(link, str(link))
