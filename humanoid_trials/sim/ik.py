"""Damped-least-squares arm IK on PyBullet's `calculateJacobian`, with warm starts (5-DOF targets).

A target is a TCP position (site frame, m) plus the direction the gripper points; rotation about that direction is
free, so a 7-DOF arm keeps two redundant degrees of freedom. Each iteration: set the arm joints, read the TCP pose
(`getLinkState`), read the Jacobian, take a damped least-squares step, clamp to joint limits. Deterministic: the same
start and target give the same answer bit for bit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pybullet as p
from numpy.typing import NDArray

from humanoid_trials.sim.robot import Arm, Chain, SimRobot

Array = NDArray[np.float64]

POSITION_TOLERANCE_M = 0.005
ANGLE_TOLERANCE_RAD = 0.1
_CONVERGED_M = 3e-4
_CONVERGED_RAD = 3e-3
_MAX_ITERATIONS = 40
_DAMPING = 0.02
_DAMPING_RAMP_M = 0.05
"""Below this error (m, pointing weighted in) the damping shrinks in proportion, for fast final convergence."""
_MAX_STEP_RAD = 0.35
_ANGLE_WEIGHT_M = 0.3
"""Metres of position error that weigh as much as one radian of pointing error."""
_STALL_ITERATIONS = 4
_POSTURE_GAIN = 0.05
"""Pull (per iteration, fraction of the difference) towards the rest posture in the null space."""


@dataclass(frozen=True)
class IkResult:
    q: Array
    """Arm joint angles (rad), in the arm's joint order."""
    position_error_m: float
    angle_error_rad: float
    iterations: int

    @property
    def cost(self) -> float:
        return self.position_error_m + _ANGLE_WEIGHT_M * self.angle_error_rad

    @property
    def reached(self) -> bool:
        return self.position_error_m <= POSITION_TOLERANCE_M and self.angle_error_rad <= ANGLE_TOLERANCE_RAD


def cross(a: Array, b: Array) -> Array:
    """3-vector cross product (np.cross is slow for single small vectors)."""
    a0, a1, a2 = float(a[0]), float(a[1]), float(a[2])
    b0, b1, b2 = float(b[0]), float(b[1]), float(b[2])
    return np.array([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0])


def _pointing_error(current: Array, target: Array) -> tuple[Array, float]:
    """Rotation vector (rad) turning `current` onto `target` (both unit vectors) and its angle."""
    normal = cross(current, target)
    sine = float(np.linalg.norm(normal))
    cosine = float(np.dot(current, target))
    angle = math.atan2(sine, cosine)
    if sine < 1e-9:
        if cosine > 0.0:
            return np.zeros(3), 0.0
        helper = np.array([1.0, 0.0, 0.0]) if abs(current[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
        perpendicular = cross(current, helper)
        return perpendicular / float(np.linalg.norm(perpendicular)) * angle, angle
    return normal / sine * angle, angle


_UNIT5 = np.eye(5)
_FLOOR5 = 1e-8 * _UNIT5
"""Damping floor (keeps the 5x5 system solvable)."""
_CACHE_SIZE = 4096
"""Most IK answers a robot remembers (the memo is cleared when full)."""


def solve(
    robot: SimRobot, arm: Arm, chain: Chain, position: Array, axis: Array, start: Array, rest: Array | None = None
) -> IkResult:
    """IK of `arm`'s TCP moving the joints of `chain`, from `start` (chain joint angles, rad) to the TCP `position`
    (m) with the gripper pointing along `axis` (unit vector, site frame).

    Joints that would leave their limits are frozen for the step (active set); the redundancy is used to stay near
    `rest` (default: `start`). Leaves the robot's arm at the returned angles. Stops when converged, when the error
    stops shrinking, or after a fixed number of iterations; the result carries the remaining errors (m, rad).

    The answer is a pure function of its inputs, the angles of the joints outside `chain` and the base pose, so it is
    memoised on the robot under exactly those (bit for bit): a repeated question gets the same answer at once.
    """
    base = p.getBasePositionAndOrientation(robot.body, physicsClientId=robot.client)
    others = robot.q.copy()
    others[chain.slots] = 0.0  # the chain's own angles are overwritten from `start` before anything reads them
    key = (
        arm.name,
        chain.slots.tobytes(),
        np.asarray(position, dtype=float).tobytes(),
        np.asarray(axis, dtype=float).tobytes(),
        np.asarray(start, dtype=float).tobytes(),
        None if rest is None else np.asarray(rest, dtype=float).tobytes(),
        others.tobytes(),
        base,
    )
    cached = robot.ik_memo.get(key)
    if cached is None:
        cached = _solve(robot, arm, chain, position, axis, start, rest)
        if len(robot.ik_memo) >= _CACHE_SIZE:
            robot.ik_memo.clear()
        robot.ik_memo[key] = cached
    else:
        robot.set_chain(chain, cached.q)
    return IkResult(cached.q.copy(), cached.position_error_m, cached.angle_error_rad, cached.iterations)


def _solve(
    robot: SimRobot, arm: Arm, chain: Chain, position: Array, axis: Array, start: Array, rest: Array | None
) -> IkResult:
    """`solve` without the memo."""
    q = np.clip(start.astype(float), chain.lower, chain.upper)
    posture = q.copy() if rest is None else rest
    best_q = q.copy()
    best_cost = math.inf
    best_errors = (math.inf, math.inf)
    stalled = 0
    iterations = 0
    size = len(q)
    body, link, client, joints, slots = robot.body, arm.tcp_link, robot.client, chain.joints, chain.slots
    local = arm.tcp_local[:3, 3].tolist()
    zeros = robot.zeros
    tx, ty, tz = (float(v) for v in position)
    ax, ay, az = (float(v) for v in axis)
    for iteration in range(1, _MAX_ITERATIONS + 1):
        iterations = iteration
        robot.q[slots] = q
        p.resetJointStatesMultiDof(body, joints, [[v] for v in q.tolist()], physicsClientId=client)
        if arm.tcp_identity:  # TCP frame = link COM frame: read position and pointing straight from the state
            state = p.getLinkState(body, link, computeForwardKinematics=1, physicsClientId=client)
            px, py, pz = state[0]
            x, y, z, w = state[1]
            cx, cy, cz = -2.0 * (x * z + y * w), -2.0 * (y * z - x * w), -(1.0 - 2.0 * (x * x + y * y))
        else:
            tcp, rotation = robot.tcp_pose(arm)
            px, py, pz = (float(v) for v in tcp)
            cx, cy, cz = (float(-v) for v in rotation[:, 2])
        ex, ey, ez = tx - px, ty - py, tz - pz
        distance = math.sqrt(ex * ex + ey * ey + ez * ez)
        nx, ny, nz = cy * az - cz * ay, cz * ax - cx * az, cx * ay - cy * ax  # pointing x target
        sine = math.sqrt(nx * nx + ny * ny + nz * nz)
        angle = math.atan2(sine, cx * ax + cy * ay + cz * az)
        cost = distance + _ANGLE_WEIGHT_M * angle
        if cost < best_cost * (1.0 - 1e-4):
            stalled = 0
        else:
            stalled += 1
        if cost < best_cost:
            best_cost, best_q, best_errors = cost, q.copy(), (distance, angle)
        if (distance < _CONVERGED_M and angle < _CONVERGED_RAD) or stalled >= _STALL_ITERATIONS:
            break
        if sine > 1e-9:
            scale = angle / sine
            rx, ry, rz = nx * scale, ny * scale, nz * scale
        else:
            rotation_error, _ = _pointing_error(np.array([cx, cy, cz]), np.asarray(axis, dtype=float))
            rx, ry, rz = (float(v) for v in rotation_error)
        linear, angular = p.calculateJacobian(body, link, local, robot.q.tolist(), zeros, zeros, physicsClientId=client)
        # pointing constraint: only rotations perpendicular to the gripper axis matter (2 rows: u, v)
        if abs(cz) < 0.9:
            ux, uy, uz = cy, -cx, 0.0  # pointing x (0, 0, 1)
        else:
            ux, uy, uz = 0.0, cz, -cy  # pointing x (1, 0, 0)
        norm = math.sqrt(ux * ux + uy * uy + uz * uz)
        ux, uy, uz = ux / norm, uy / norm, uz / norm
        vx, vy, vz = cy * uz - cz * uy, cz * ux - cx * uz, cx * uy - cy * ux
        weights = np.array([[ux, uy, uz], [vx, vy, vz]]) * _ANGLE_WEIGHT_M
        jac = np.empty((5, size))
        jac[:3] = np.asarray(linear)[:, slots]
        jac[3:] = weights @ np.asarray(angular)[:, slots]
        rotation_vector = np.array((rx, ry, rz))
        error = np.array([ex, ey, ez, weights[0] @ rotation_vector, weights[1] @ rotation_vector])
        pull = _POSTURE_GAIN * (posture - q)
        free = np.ones(size)
        step = np.zeros(size)
        damping = _DAMPING * _DAMPING * min(1.0, cost / _DAMPING_RAMP_M) * _UNIT5 + _FLOOR5
        for attempt in range(3):
            masked = jac if attempt == 0 else jac * free
            posture_pull = pull * free
            # damped least squares with a null-space pull: step = J+ (e - J z) + z, J+ = J^T (J J^T + L)^-1
            step = masked.T @ np.linalg.solve(masked @ masked.T + damping, error - masked @ posture_pull)
            step += posture_pull
            largest = float(np.abs(step).max())
            if largest > _MAX_STEP_RAD:
                step *= _MAX_STEP_RAD / largest
            target = q + step
            # q is within its limits, so leaving one below (above) means the step goes down (up)
            blocked = (target < chain.lower) | (target > chain.upper)
            blocked &= free > 0.0
            if not np.count_nonzero(blocked):
                break
            free[blocked] = 0.0
        q = np.minimum(np.maximum(q + step, chain.lower), chain.upper)
    robot.set_chain(chain, best_q)
    return IkResult(best_q, best_errors[0], best_errors[1], iterations)


def solve_with_restarts(
    robot: SimRobot, arm: Arm, chain: Chain, position: Array, axis: Array, seeds: list[Array], rest: Array | None = None
) -> IkResult:
    """`solve` from each seed in turn until one reaches the target; the best result when none does."""
    best: IkResult | None = None
    for seed in seeds:
        result = solve(robot, arm, chain, position, axis, seed, rest)
        if result.reached:
            return result
        if best is None or (result.position_error_m + _ANGLE_WEIGHT_M * result.angle_error_rad) < (
            best.position_error_m + _ANGLE_WEIGHT_M * best.angle_error_rad
        ):
            best = result
    if best is None:
        raise ValueError("solve_with_restarts needs at least one seed")
    robot.set_chain(chain, best.q)
    return best
