"""Check one task for one deployed robot in a World: reach, joint limits, collisions, balance, torques, payload,
human-zone clearance, travel and cycle time. Returns a RobotVerdict whose reasons carry the numbers.

Quasi-static: the base stands at a station (placed, fixed), arms move along straight joint-space segments between the
plan's poses (IK solutions), sampled every `SAMPLE_STEP_RAD`. Units: m, s, kg, N, N m, rad.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pybullet as p
from numpy.typing import NDArray

from humanoid_trials.model.robot import RobotProfile
from humanoid_trials.model.scenario import TaskSpec
from humanoid_trials.model.site import DeployedRobot, Site
from humanoid_trials.model.validation import Check, Reason, RobotVerdict, Verdict
from humanoid_trials.sim import ik
from humanoid_trials.sim.errors import PlanError
from humanoid_trials.sim.geometry import (
    matrix_to_quat,
    rot_z,
    segment_length_in_polygon,
    signed_distance_in_polygon,
    to_world,
    trapezoid_time,
)
from humanoid_trials.sim.plan import (
    Dwell,
    Grasp,
    Home,
    MotionPlan,
    MoveBase,
    Reach,
    Release,
    Step,
    arm_options,
    plan_task,
)
from humanoid_trials.sim.robot import Arm, SimRobot
from humanoid_trials.sim.world import World
from humanoid_trials.tasks.params import Part

Array = NDArray[np.float64]
GRAVITY = 9.81
SAMPLE_STEP_RAD = 0.15
"""Largest joint change (rad) between two collision samples on a motion."""
CLEARANCE_MARGIN_M = 0.05
"""Obstacle distances are measured up to this (m); farther counts as `CLEARANCE_MARGIN_M`."""
COLLISION_TOLERANCE_M = 0.002
"""Penetration (m) below which two shapes count as touching, not colliding."""
_GAP_SLACK_M = 1e-6
"""Slack (m) on box-gap pruning, so rounding never skips a pair that could be nearer than the bound."""
BALANCE_WARN_MARGIN_M = 0.02
TORQUE_WARN_RATIO = 0.8
PAYLOAD_WARN_RATIO = 0.9
TAKT_WARN_RATIO = 0.9
JOINT_LIMIT_WARN_RAD = 0.005
JOINT_ACCEL_TIME_S = 0.3
"""Time (s) a joint takes to reach its top speed (sets the trapezoid's acceleration)."""
BASE_ACCEL = {"wheeled": 0.5, "biped": 0.3}
"""Base acceleration (m/s²) by robot kind."""
BASE_TURN_RATE = {"wheeled": 1.0, "biped": 0.5}
"""Turning rate on the spot (rad/s) by robot kind."""


@dataclass(frozen=True)
class Carried:
    part: Part
    arms: tuple[str, ...]
    depth_m: float
    body: int
    allowed_links: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Load:
    """An external push on the TCP of `arm` (site frame): force (N) and moment (N m)."""

    arm: str
    force_n: tuple[float, float, float]
    moment_nm: tuple[float, float, float]


@dataclass
class Frame:
    """A pose of the plan: joint angles at a base pose, with what is carried and pushed at that moment."""

    label: str
    kind: str
    station: str
    base: tuple[float, float, float]
    q: Array
    carried: Carried | None
    load: Load | None = None


@dataclass(frozen=True)
class Phase:
    """A piece of the cycle with its estimated duration (s). Kinds: travel, motion, grasp, release, dwell."""

    label: str
    kind: str
    seconds: float
    base_to: tuple[float, float, float] | None = None
    """Where the base ends up (travel phases; site frame x, y in m, yaw in rad)."""


@dataclass(frozen=True)
class Miss:
    arm: str
    label: str
    position_error_m: float
    angle_error_rad: float
    target_distance_m: float


@dataclass
class Kinematics:
    """The plan turned into joint space: poses, IK misses, phases with durations, travel notes."""

    plan: MotionPlan
    frames: list[Frame] = field(default_factory=list)
    misses: list[Miss] = field(default_factory=list)
    phases: list[Phase] = field(default_factory=list)
    setup_travel_s: float = 0.0
    setup_base: tuple[float, float, float] | None = None
    """The first station's pose, reached by the set-up travel (not part of the cycle)."""
    worst_residual_mm: float = 0.0
    route_notes: list[Reason] = field(default_factory=list)

    @property
    def cycle_s(self) -> float:
        return sum(phase.seconds for phase in self.phases)

    @property
    def miss_score(self) -> float:
        return sum(m.position_error_m + 0.3 * m.angle_error_rad for m in self.misses)


Mask = NDArray[np.bool_]


def _all(values: Mask, axis: int) -> Mask:
    """`values.all(axis)` (the ndarray method: less call overhead than np.all on small arrays)."""
    return np.asarray(values.all(axis=axis))


def _wrap(angle: float) -> float:
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


def travel_time(profile: RobotProfile, start: tuple[float, float, float], end: tuple[float, float, float]) -> float:
    """Time (s) to drive/walk from `start` to `end` (x, y, yaw; m, rad): turn, straight trapezoid, turn."""
    distance = math.hypot(end[0] - start[0], end[1] - start[1])
    speed = profile.max_base_speed_m_s
    turn_rate = BASE_TURN_RATE[profile.kind]
    if distance > 0.05:
        heading = math.atan2(end[1] - start[1], end[0] - start[0])
        headings = (heading, heading + math.pi) if profile.kind == "wheeled" else (heading,)  # wheels also reverse
        turning = min(abs(_wrap(h - start[2])) + abs(_wrap(end[2] - h)) for h in headings)
    else:
        turning = abs(_wrap(end[2] - start[2]))
    return trapezoid_time(distance, speed, BASE_ACCEL[profile.kind]) + turning / turn_rate


def motion_time(robot: SimRobot, q_from: Array, q_to: Array) -> float:
    """Synchronised joint motion time (s): the slowest joint's trapezoid at its speed limit."""
    delta = np.abs(q_to - q_from)
    moving = delta > 1e-9
    if not np.any(moving):
        return 0.0
    times = [
        trapezoid_time(float(d), float(v), float(v) / JOINT_ACCEL_TIME_S)
        for d, v in zip(delta[moving], robot.velocity[moving], strict=True)
    ]
    return max(times)


def solve_plan(
    world: World,
    robot: SimRobot,
    site: Site,
    start: tuple[float, float, float],
    plan: MotionPlan,
    start_station: str = "",
) -> Kinematics:
    """Turn a plan into joint-space frames (IK with warm starts), phases with durations and travel notes.

    `start` is where the base stands before the task (site frame: x, y in m, yaw in rad), e.g. its home station.
    """
    result = Kinematics(plan)
    base = start
    station = start_station
    robot.set_q(robot.ready_q)
    robot.place(*base)
    carried: Carried | None = None
    first_move = True
    profile = robot.profile
    previous_q = robot.q.copy()

    def add_frame(label: str, kind: str, load: Load | None = None) -> None:
        nonlocal previous_q
        seconds = motion_time(robot, previous_q, robot.q)
        if seconds > 0.0:
            result.phases.append(Phase(label, "motion", seconds))
        result.frames.append(Frame(label, kind, station, base, robot.q.copy(), carried, load))
        previous_q = robot.q.copy()

    step: Step
    for step in plan.steps:
        if isinstance(step, MoveBase):
            target = (step.x_m, step.y_m, step.yaw_rad)
            seconds = travel_time(profile, base, target)
            if first_move:
                result.setup_travel_s = seconds
                result.setup_base = target
                first_move = False
            elif seconds > 0.0:
                result.phases.append(Phase(step.label, "travel", seconds, target))
                result.route_notes += _route_notes(site, station, step.station, base, target)
            base, station = target, step.station
            robot.place(*base)
            add_frame(f"arrive at {station}", "arrive")
        elif isinstance(step, Reach):
            both = len(step.targets) > 1
            for hand in step.targets:
                arm = robot.arms[hand.arm]
                position, axis = np.array(hand.position), np.array(hand.axis)
                shoulder = to_world(
                    (base[0], base[1]), base[2], arm.shoulder_base.tolist()
                )  # upright posture at this station
                own = arm.arm_chain
                solved: ik.IkResult | None = None
                torso_slots = arm.body_chain.slots[: len(arm.body_chain.slots) - len(arm.slots)]
                if not both and len(torso_slots):  # first try with the torso upright, the arm alone
                    robot.set_slots(torso_slots, robot.ready_q[torso_slots])
                if both or robot.arm_may_reach(arm, position, axis):
                    seeds = [robot.q[own.slots], arm.ready] if not both else [robot.q[own.slots], arm.ready, *arm.seeds]
                    solved = ik.solve_with_restarts(robot, arm, own, position, axis, seeds)
                if (solved is None or not solved.reached) and not both:  # lean/turn the torso only when needed
                    before = robot.q.copy()
                    chain = arm.body_chain
                    upright = robot.ready_q[chain.slots]
                    seeds = [robot.q[chain.slots], upright]
                    leaned = ik.solve_with_restarts(robot, arm, chain, position, axis, seeds, rest=upright)
                    if solved is not None and solved.cost <= leaned.cost:  # the arm alone came closer
                        robot.set_q(before)
                        robot.set_chain(own, solved.q)
                    else:
                        solved = leaned
                if solved is None:  # unreachable: a two-handed reach always runs the arm-only IK
                    raise PlanError(f"no IK attempt for '{step.label}'")
                residual_mm = solved.position_error_m * 1000.0
                result.worst_residual_mm = max(result.worst_residual_mm, residual_mm)
                if not solved.reached:
                    distance = float(np.linalg.norm(position - shoulder))
                    result.misses.append(
                        Miss(hand.arm, step.label, solved.position_error_m, solved.angle_error_rad, distance)
                    )
            add_frame(step.label, "reach")
        elif isinstance(step, Home):
            for name in step.arms:
                chain = robot.arms[name].body_chain
                robot.set_chain(chain, robot.ready_q[chain.slots])
            add_frame(step.label, "home")
        elif isinstance(step, Grasp):
            body = world.part_body(step.part.size_m)
            carried = Carried(step.part, step.arms, step.grip_depth_m, body)
            carried = Carried(step.part, step.arms, step.grip_depth_m, body, _touching_links(robot, carried))
            result.phases.append(Phase(step.label, "grasp", profile.grasp_time_s))
        elif isinstance(step, Release):
            carried = None
            result.phases.append(Phase(step.label, "release", profile.grasp_time_s))
        elif isinstance(step, Dwell):
            load = Load(step.arm, step.force_n, step.moment_nm) if step.arm else None
            result.phases.append(Phase(step.label, "dwell", step.seconds))
            result.frames.append(Frame(step.label, "dwell", station, base, robot.q.copy(), carried, load))
    return result


def _route_notes(
    site: Site, start_station: str, end_station: str, start: tuple[float, float, float], end: tuple[float, float, float]
) -> list[Reason]:
    notes = []
    for zone in site.human_zones:
        inside = segment_length_in_polygon(start, end, zone.polygon_m)
        if inside > 0.0:
            notes.append(
                Reason(
                    Check.TRAVEL,
                    Verdict.WARN,
                    f"the route {start_station} -> {end_station} crosses human zone {zone.id} for {inside:.1f} m",
                    (("crossing_m", round(inside, 3)),),
                )
            )
    return notes


def place_part(robot: SimRobot, carried: Carried) -> Array:
    """Put the carried part's body where the hands hold it; returns its centre (m)."""
    arms = [robot.arms[name] for name in carried.arms]
    poses = [robot.tcp_pose(arm) for arm in arms]
    hang = carried.part.size_m[2] / 2.0 - carried.depth_m
    if len(poses) == 1:
        tcp, rotation = poses[0]
        centre = tcp + rotation @ np.array([0.0, 0.0, -hang])
    else:
        pointing = sum((-pose[1][:, 2] for pose in poses), np.zeros(3))
        pointing /= float(np.linalg.norm(pointing))
        centre = sum((pose[0] for pose in poses), np.zeros(3)) / len(poses) + pointing * hang
        across = poses[0][0] - poses[1][0]
        forward = np.array([-across[1], across[0], 0.0]) / max(1e-9, float(np.hypot(across[0], across[1])))
        centre = centre + forward * (carried.part.size_m[0] / 4.0)  # the hands hold the tote's near half
        rotation = rot_z(math.atan2(across[1], across[0]) - math.pi / 2.0)
    p.resetBasePositionAndOrientation(
        carried.body, centre.tolist(), matrix_to_quat(rotation), physicsClientId=robot.client
    )
    return centre


def _touching_links(robot: SimRobot, carried: Carried) -> frozenset[int]:
    """Robot links whose boxes touch the part where it is grasped: allowed to touch it while it is carried."""
    place_part(robot, carried)
    lo, hi = p.getAABB(carried.body, -1, physicsClientId=robot.client)
    part_box = np.array([*lo, *hi])
    boxes = robot.aabbs(robot.collision_links)
    overlap = _all(boxes[:, :3] <= part_box[3:] + 0.01, axis=1) & _all(boxes[:, 3:] >= part_box[:3] - 0.01, axis=1)
    return frozenset(link for link, hit in zip(robot.collision_links, overlap, strict=True) if hit)


class TaskCheck:
    """Checks one task for one deployed robot. `run()` returns its RobotVerdict; `kinematics` keeps the solved plan."""

    def __init__(self, world: World, site: Site, task: TaskSpec, deployed: DeployedRobot) -> None:
        self.world = world
        self.site = site
        self.task = task
        self.deployed = deployed
        self.robot = world.robots[deployed.profile]
        self.profile = self.robot.profile
        self.reasons: list[Reason] = []
        self.kinematics: Kinematics | None = None
        self.min_clearance = CLEARANCE_MARGIN_M
        self.min_human = math.inf
        self.balance_margin = math.inf
        self.torque_ratio = 0.0
        self._zone_best: dict[str, float] = {}
        self._arm_link_set = frozenset(link for arm in self.robot.arms.values() for link in arm.moving_links)
        obstacles = world.obstacle_aabbs
        self._obstacle_low = obstacles[:, :3] - CLEARANCE_MARGIN_M
        """Obstacle boxes grown by the clearance margin (m): lower and upper corners."""
        self._obstacle_high = obstacles[:, 3:] + CLEARANCE_MARGIN_M
        self._load_slots = sorted({slot for arm in self.robot.arms.values() for slot in arm.load_joints})
        self._polygons: dict[tuple[float, float, float], list[tuple[float, float]]] = {}
        """Support polygon (site frame, m) by base pose."""

    def add(self, check: Check, verdict: Verdict, message: str, **values: float) -> None:
        self.reasons.append(Reason(check, verdict, message, tuple((k, float(v)) for k, v in values.items())))

    # --- entry ----------------------------------------------------------------------------------------------------
    def run(self) -> RobotVerdict:
        profile, task = self.profile, self.task
        if task.type not in profile.capabilities:
            self.add(Check.CAPABILITY, Verdict.FAIL, f"robot model {profile.id} cannot do {task.type} tasks")
            return self._verdict("")
        self._check_payload()
        options = arm_options(task, profile, self.site)
        if not options:
            names = ", ".join(arm.name for arm in profile.arms)
            self.add(
                Check.CAPABILITY,
                Verdict.FAIL,
                f"robot model {profile.id} lacks the arm(s) the task needs (it has: {names})",
            )
            return self._verdict("")
        best: Kinematics | None = None
        for arms in options:
            plan = plan_task(self.site, task, arms)
            self._prepare_parts(plan)
            self.world.reset()
            home = self.site.station(self.deployed.home_station).pose
            start = (home.x_m, home.y_m, home.yaw_rad)
            solved = solve_plan(self.world, self.robot, self.site, start, plan, self.deployed.home_station)
            if best is None or solved.miss_score < best.miss_score:
                best = solved
            if not solved.misses:
                break
        assert_solved = best
        if assert_solved is None:  # options was not empty, so this cannot happen
            return self._verdict("")
        self.kinematics = assert_solved
        self._check_reach(assert_solved)
        if not assert_solved.misses:
            self._check_frames(assert_solved)
        else:
            self.add(
                Check.COLLISION,
                Verdict.WARN,
                "collisions, balance, torques and human zones not checked: the hand cannot reach every pose",
            )
        self._check_cycle(assert_solved)
        return self._verdict("+".join(assert_solved.plan.arms))

    def _prepare_parts(self, plan: MotionPlan) -> None:
        for step in plan.steps:
            if isinstance(step, Grasp):
                self.world.part_body(step.part.size_m)

    def _verdict(self, arm: str) -> RobotVerdict:
        verdict = Verdict.worst(reason.verdict for reason in self.reasons)
        kin = self.kinematics
        return RobotVerdict(
            robot_id=self.deployed.id,
            profile_id=self.profile.id,
            verdict=verdict,
            arm=arm,
            estimated_cycle_s=round(kin.cycle_s, 6) if kin else 0.0,
            travel_s=round(kin.setup_travel_s, 6) if kin else 0.0,
            min_obstacle_clearance_m=round(self.min_clearance, 6),
            min_human_separation_m=round(self.min_human, 6) if math.isfinite(self.min_human) else None,
            balance_margin_m=round(self.balance_margin, 6) if math.isfinite(self.balance_margin) else 0.0,
            max_torque_ratio=round(self.torque_ratio, 6),
            ik_residual_mm=round(kin.worst_residual_mm, 6) if kin else 0.0,
            reasons=tuple(self.reasons),
        )

    # --- pure checks ------------------------------------------------------------------------------------------------
    def _check_payload(self) -> None:
        params = self.task.params
        mass = params.payload_kg()
        limits = self.profile.payload_kg
        if params.two_handed:
            checks = [("both arms", mass, limits.total), ("each arm", mass / 2.0, limits.per_arm)]
        else:
            checks = [("one arm", mass, limits.per_arm)]
        for who, load, limit in checks:
            ratio = load / limit if limit > 0 else math.inf
            values = {"payload_kg": round(load, 6), "limit_kg": limit}
            if ratio > 1.0:
                self.add(
                    Check.PAYLOAD,
                    Verdict.FAIL,
                    f"payload {load:.1f} kg for {who} exceeds the robot's {limit:.1f} kg",
                    **values,
                )
                return
            if ratio > PAYLOAD_WARN_RATIO:
                self.add(
                    Check.PAYLOAD,
                    Verdict.WARN,
                    f"payload {load:.1f} kg for {who} is {ratio:.0%} of the robot's {limit:.1f} kg",
                    **values,
                )

    def _check_reach(self, kin: Kinematics) -> None:
        reach = self.profile.reach_m
        for miss in kin.misses[:3]:
            if miss.position_error_m > ik.POSITION_TOLERANCE_M:
                self.add(
                    Check.REACH,
                    Verdict.FAIL,
                    f"{miss.arm} hand misses '{miss.label}' by {miss.position_error_m * 1000:.0f} mm: target "
                    f"{miss.target_distance_m:.2f} m from the shoulder, reach {reach:.2f} m",
                    miss_mm=round(miss.position_error_m * 1000.0, 3),
                    target_distance_m=round(miss.target_distance_m, 4),
                    reach_m=reach,
                )
            else:
                self.add(
                    Check.REACH,
                    Verdict.FAIL,
                    f"{miss.arm} hand reaches '{miss.label}' but points {math.degrees(miss.angle_error_rad):.0f}° "
                    f"off (allowed {math.degrees(ik.ANGLE_TOLERANCE_RAD):.1f}°)",
                    angle_error_deg=round(math.degrees(miss.angle_error_rad), 3),
                    target_distance_m=round(miss.target_distance_m, 4),
                )
        if len(kin.misses) > 3:
            self.add(
                Check.REACH,
                Verdict.FAIL,
                f"... and {len(kin.misses) - 3} more poses out of reach",
                more=len(kin.misses) - 3,
            )

    def _check_cycle(self, kin: Kinematics) -> None:
        takt = self.site.takt_time_s
        cycle = kin.cycle_s
        self.reasons.extend(kin.route_notes)
        values = {"cycle_s": round(cycle, 3), "takt_s": takt}
        if cycle > takt:
            self.add(
                Check.CYCLE_TIME,
                Verdict.FAIL,
                f"estimated cycle {cycle:.1f} s exceeds the takt time {takt:.1f} s",
                **values,
            )
        elif cycle > TAKT_WARN_RATIO * takt:
            self.add(
                Check.CYCLE_TIME,
                Verdict.WARN,
                f"estimated cycle {cycle:.1f} s is {cycle / takt:.0%} of the takt time {takt:.1f} s",
                **values,
            )

    # --- frame checks (PyBullet) ------------------------------------------------------------------------------------
    def _check_frames(self, kin: Kinematics) -> None:
        robot = self.robot
        self.world.reset()
        self._limit_margins(kin)
        collisions: dict[tuple[str, str], tuple[float, str]] = {}
        zone_hits: dict[str, tuple[float, str, str]] = {}
        previous: Frame | None = None
        for frame in kin.frames:
            robot.place(*frame.base)
            if previous is None or frame.kind == "arrive" or previous.station != frame.station:
                robot.set_q(frame.q)
                self._check_config(frame, collisions, zone_hits)
            elif frame.kind != "dwell":
                self._check_segment(previous, frame, collisions, zone_hits)
            robot.set_q(frame.q)
            self._check_statics(frame)
            previous = frame
        for (moving, other), (depth, label) in sorted(collisions.items()):
            self.add(
                Check.COLLISION,
                Verdict.FAIL,
                f"{moving} hits {other} by {depth * 1000:.0f} mm during '{label}'",
                penetration_mm=round(depth * 1000.0, 3),
            )
        limit = self.site.safety.min_clearance_m
        for zone_id, (distance, link, label) in sorted(zone_hits.items()):
            if distance <= 0.0:
                message = f"{link} enters human zone {zone_id} by {-distance:.2f} m during '{label}'"
            else:
                message = (
                    f"{link} comes within {distance:.2f} m of human zone {zone_id} during '{label}' "
                    f"(minimum {limit:.2f} m)"
                )
            self.add(Check.HUMAN_ZONE, Verdict.FAIL, message, separation_m=round(distance, 4), min_clearance_m=limit)

    def _limit_margins(self, kin: Kinematics) -> None:
        robot = self.robot
        worst: tuple[float, str, str] | None = None
        for frame in kin.frames:
            margin = np.minimum(frame.q - robot.lower, robot.upper - frame.q)
            index = int(np.argmin(margin))
            if worst is None or margin[index] < worst[0]:
                worst = (float(margin[index]), robot.dof_names[index], frame.label)
        if worst is None:
            return
        margin, joint, label = worst
        if margin < -1e-6:
            self.add(
                Check.JOINT_LIMITS,
                Verdict.FAIL,
                f"{joint} is {-margin:.3f} rad beyond its limit at '{label}'",
                beyond_rad=round(-margin, 6),
            )
        elif margin < JOINT_LIMIT_WARN_RAD:
            self.add(
                Check.JOINT_LIMITS, Verdict.WARN, f"{joint} is at its limit at '{label}'", margin_rad=round(margin, 6)
            )

    def _check_config(
        self,
        frame: Frame,
        collisions: dict[tuple[str, str], tuple[float, str]],
        zone_hits: dict[str, tuple[float, str, str]],
    ) -> None:
        """A whole configuration: every robot link and the carried part against obstacles and human zones."""
        robot = self.robot
        cid = robot.client
        links = robot.collision_links
        self._obstacle_pairs(links, frame, collisions)
        if frame.carried is not None:
            place_part(robot, frame.carried)
            self._part_pairs(frame, collisions)
        for zone_id, zone in self.world.zones.items():
            for point in p.getClosestPoints(robot.body, zone, 100.0, physicsClientId=cid):
                self._zone_distance(zone_id, float(point[8]), robot.link_name(point[3]), frame.label, zone_hits)
            if frame.carried is not None:
                for point in p.getClosestPoints(frame.carried.body, zone, 100.0, physicsClientId=cid):
                    self._zone_distance(zone_id, float(point[8]), frame.carried.part.name, frame.label, zone_hits)

    def _check_segment(
        self,
        start: Frame,
        end: Frame,
        collisions: dict[tuple[str, str], tuple[float, str]],
        zone_hits: dict[str, tuple[float, str, str]],
    ) -> None:
        """Straight joint-space motion start -> end, sampled; only the arms that move are re-checked."""
        robot = self.robot
        delta = end.q - start.q
        changed = np.nonzero(np.abs(delta) > 1e-9)[0]
        if len(changed) == 0:
            return
        moving = robot.moving_links(changed)
        steps = max(1, math.ceil(float(np.max(np.abs(delta))) / SAMPLE_STEP_RAD))
        robot.set_q(start.q)
        static = tuple(link for link in robot.collision_links if link not in moving)
        # rows: static links (their boxes do not change on this motion), then the moving links (re-read per sample)
        all_boxes = np.empty((len(static) + len(moving), 6))
        all_boxes[: len(static)] = robot.aabbs(static)
        # what a moving link's box is compared with: the obstacles' grown boxes, then `all_boxes` (one comparison)
        obstacles = len(self.world.obstacles)
        fixed = obstacles + len(static)
        lows = np.empty((fixed + len(moving), 3))
        highs = np.empty((fixed + len(moving), 3))
        lows[:obstacles], highs[:obstacles] = self._obstacle_low, self._obstacle_high
        lows[obstacles:fixed], highs[obstacles:fixed] = all_boxes[: len(static), :3], all_boxes[: len(static), 3:]
        mask = self._self_pair_mask(moving, static)
        carried = end.carried
        part_rows: NDArray[np.intp] | None = None
        if carried is not None:
            row_of = {link: row for row, link in enumerate((*static, *moving))}
            part_rows = np.array(
                [row_of[link] for link in robot.collision_links if link not in carried.allowed_links], dtype=np.intp
            )
        joints = [robot.dof_joints[int(slot)] for slot in changed]
        start_changed, delta_changed = start.q[changed], delta[changed]
        body, cid = robot.body, robot.client
        for index in range(1, steps + 1):
            values = start_changed + delta_changed * (index / steps)
            robot.q[changed] = values
            p.resetJointStatesMultiDof(body, joints, [[v] for v in values.tolist()], physicsClientId=cid)
            boxes = robot.aabbs(moving)
            all_boxes[len(static) :] = boxes
            lows[fixed:], highs[fixed:] = boxes[:, :3], boxes[:, 3:]
            overlap = _all((boxes[:, None, :3] <= highs) & (boxes[:, None, 3:] >= lows), axis=2)
            self._obstacle_pairs(moving, end, collisions, boxes, overlap[:, :obstacles])
            self._self_pairs(moving, static, mask & overlap[:, obstacles:], end.label, collisions)
            if carried is not None:
                place_part(robot, carried)
                self._part_pairs(end, collisions, None if part_rows is None else all_boxes[part_rows])
            self._zone_pairs(moving, boxes, end, zone_hits)

    def _obstacle_pairs(
        self,
        links: tuple[int, ...],
        frame: Frame,
        collisions: dict[tuple[str, str], tuple[float, str]],
        boxes: Array | None = None,
        overlap: Mask | None = None,
    ) -> None:
        """`links` against the obstacles near them; `overlap` (links x obstacles): which grown boxes overlap, when
        the caller has it."""
        robot = self.robot
        boxes = robot.aabbs(links) if boxes is None else boxes
        margin = CLEARANCE_MARGIN_M
        if overlap is None:
            overlap = _all(
                (boxes[:, None, :3] <= self._obstacle_high[None, :, :])
                & (boxes[:, None, 3:] >= self._obstacle_low[None, :, :]),
                axis=2,
            )
        for i, j in zip(*np.nonzero(overlap), strict=True):
            link, obstacle = links[int(i)], self.world.obstacles[int(j)]
            if obstacle.body == self.world.floor and link not in self._arm_link_set:
                continue  # wheels, feet and base stand on the floor
            points = p.getClosestPoints(robot.body, obstacle.body, margin, link, -1, physicsClientId=robot.client)
            self._record(points, robot.link_name(link), obstacle.name, frame.label, collisions)

    def _self_pair_mask(self, moving: tuple[int, ...], static: tuple[int, ...]) -> Mask:
        """(moving x [static, moving]) pairs to check for self-collision: not allowed, each pair once (cached)."""
        cached = self.robot.pair_masks.get((moving, static))
        if cached is not None:
            return cached
        allowed = self.robot.allowed_pairs
        candidates = [*static, *moving]
        mask = np.zeros((len(moving), len(candidates)), dtype=bool)
        for i, a in enumerate(moving):
            for j, b in enumerate(candidates):
                if a != b and (min(a, b), max(a, b)) not in allowed and not (j >= len(static) and b < a):
                    mask[i, j] = True
        self.robot.pair_masks[(moving, static)] = mask
        return mask

    def _self_pairs(
        self,
        moving: tuple[int, ...],
        static: tuple[int, ...],
        overlap: Mask,
        label: str,
        collisions: dict[tuple[str, str], tuple[float, str]],
    ) -> None:
        """Self-collision of the moving links; `overlap` (moving x [static, moving]): pairs to check whose boxes
        overlap."""
        robot = self.robot
        if not np.count_nonzero(overlap):
            return
        candidates = [*static, *moving]
        for i, j in zip(*np.nonzero(overlap), strict=True):
            a, b = moving[int(i)], candidates[int(j)]
            points = p.getClosestPoints(robot.body, robot.body, 0.0, a, b, physicsClientId=robot.client)
            self._record(points, robot.link_name(a), robot.link_name(b), label, collisions, clearance=False)

    def _part_pairs(
        self, frame: Frame, collisions: dict[tuple[str, str], tuple[float, str]], boxes: Array | None = None
    ) -> None:
        """The carried part against obstacles and robot links; `boxes`: the boxes of the robot's collision links
        not allowed to touch it, in `collision_links` order, when the caller has them (read otherwise)."""
        carried = frame.carried
        if carried is None:
            return
        robot, cid = self.robot, self.robot.client
        lo, hi = p.getAABB(carried.body, -1, physicsClientId=cid)
        box = np.array([*lo, *hi])
        margin = CLEARANCE_MARGIN_M
        hits = ((box[:3] <= self._obstacle_high) & (box[3:] >= self._obstacle_low)).all(axis=1)
        name = f"the carried {carried.part.name}"
        for j in np.nonzero(hits)[0]:
            obstacle = self.world.obstacles[int(j)]
            points = p.getClosestPoints(carried.body, obstacle.body, margin, physicsClientId=cid)
            self._record(points, name, obstacle.name, frame.label, collisions)
        links = tuple(link for link in robot.collision_links if link not in carried.allowed_links)
        boxes = robot.aabbs(links) if boxes is None else boxes
        near = ((boxes[:, :3] <= box[3:]) & (boxes[:, 3:] >= box[:3])).all(axis=1)
        for i in np.nonzero(near)[0]:
            link = links[int(i)]
            points = p.getClosestPoints(carried.body, robot.body, 0.0, -1, link, physicsClientId=cid)
            self._record(points, name, robot.link_name(link), frame.label, collisions, clearance=False)

    def _zone_pairs(
        self, moving: tuple[int, ...], boxes: Array, frame: Frame, zone_hits: dict[str, tuple[float, str, str]]
    ) -> None:
        robot, cid = self.robot, self.robot.client
        if not self.world.zones:
            return
        low, high = boxes[:, :3].min(axis=0), boxes[:, 3:].max(axis=0)
        for zone_id, zone in self.world.zones.items():
            best = self._zone_best.get(zone_id, math.inf)
            box = self.world.zone_aabbs[zone_id]
            gap = np.maximum(0.0, np.maximum(box[:3] - high, low - box[3:]))
            if float(np.linalg.norm(gap)) >= best:
                continue
            # a link whose box is at least `best` from the zone's box has no point nearer than `best`: skip it
            link_gaps = np.maximum(0.0, np.maximum(box[:3] - boxes[:, 3:], boxes[:, :3] - box[3:]))
            near = np.einsum("ij,ij->i", link_gaps, link_gaps) < (best + _GAP_SLACK_M) ** 2
            for row in np.nonzero(near)[0]:
                link = moving[int(row)]
                for point in p.getClosestPoints(robot.body, zone, best, link, -1, physicsClientId=cid):
                    self._zone_distance(zone_id, float(point[8]), robot.link_name(link), frame.label, zone_hits)
            if frame.carried is not None:
                for point in p.getClosestPoints(frame.carried.body, zone, best, physicsClientId=cid):
                    self._zone_distance(zone_id, float(point[8]), frame.carried.part.name, frame.label, zone_hits)

    def _zone_distance(
        self, zone_id: str, distance: float, what: str, label: str, zone_hits: dict[str, tuple[float, str, str]]
    ) -> None:
        if distance < self._zone_best.get(zone_id, math.inf):
            self._zone_best[zone_id] = distance
        self.min_human = min(self.min_human, distance)
        if distance < self.site.safety.min_clearance_m:
            current = zone_hits.get(zone_id)
            if current is None or distance < current[0]:
                zone_hits[zone_id] = (distance, what, label)

    def _record(
        self,
        points: list[tuple[object, ...]],
        moving: str,
        other: str,
        label: str,
        collisions: dict[tuple[str, str], tuple[float, str]],
        clearance: bool = True,
    ) -> None:
        for point in points:
            distance = float(point[8])  # type: ignore[arg-type]
            if clearance:
                self.min_clearance = min(self.min_clearance, distance)
            if distance < -COLLISION_TOLERANCE_M:
                current = collisions.get((moving, other))
                if current is None or -distance > current[0]:
                    collisions[(moving, other)] = (-distance, label)

    def _check_statics(self, frame: Frame) -> None:
        """Balance (centre of pressure in the support polygon) and static joint torques at one frame."""
        robot = self.robot
        mass = robot.mass_kg
        com = robot.centre_of_mass()
        forces: list[tuple[Array, Array, Array, Arm]] = []  # (point, force, moment, arm)
        payload = 0.0
        if frame.carried is not None:
            centre = place_part(robot, frame.carried)
            payload = frame.carried.part.mass_kg
            arms = [robot.arms[name] for name in frame.carried.arms]
            weight = np.array([0.0, 0.0, -payload * GRAVITY])
            for arm in arms:
                tcp, _ = robot.tcp_pose(arm)
                share = weight / len(arms)
                moment = ik.cross(centre - tcp, share) if len(arms) == 1 else np.zeros(3)
                forces.append((tcp, share, moment, arm))
        if frame.load is not None:
            arm = robot.arms[frame.load.arm]
            tcp, _ = robot.tcp_pose(arm)
            forces.append((tcp, np.array(frame.load.force_n), np.array(frame.load.moment_nm), arm))
        self._balance(frame, mass, com, forces, payload)
        self._torques(frame, forces)

    def _balance(
        self, frame: Frame, mass: float, com: Array, forces: list[tuple[Array, Array, Array, Arm]], payload: float
    ) -> None:
        weight = mass * GRAVITY
        normal = weight - sum(float(f[2]) for _, f, _, _ in forces)
        moment_x = weight * com[0]
        moment_y = weight * com[1]
        for point, force, moment, _ in forces:
            moment_x += point[2] * force[0] - point[0] * force[2] + moment[1]
            moment_y += -point[1] * force[2] + point[2] * force[1] - moment[0]
            # y-row: r_y N = M g c_y - p_y F_z + p_z F_y - M_x  (quasi-static moment balance about the floor)
        cop_x, cop_y = moment_x / normal, moment_y / normal
        polygon = self._polygons.get(frame.base)
        if polygon is None:
            x, y, yaw = frame.base
            turn = rot_z(yaw)
            polygon = []
            for px, py in self.robot.support_base:
                corner = turn @ np.array([px, py, 0.0])
                polygon.append((float(corner[0]) + x, float(corner[1]) + y))
            self._polygons[frame.base] = polygon
        margin = signed_distance_in_polygon(cop_x, cop_y, polygon)
        previous = self.balance_margin
        self.balance_margin = min(self.balance_margin, margin)
        if margin >= BALANCE_WARN_MARGIN_M or margin >= previous:
            return
        self.reasons = [r for r in self.reasons if r.check != Check.BALANCE]
        values = {"margin_m": round(margin, 4), "payload_kg": payload}
        if margin < 0.0:
            self.add(
                Check.BALANCE,
                Verdict.FAIL,
                f"centre of pressure {-margin:.2f} m outside the support polygon at '{frame.label}' "
                f"(payload {payload:.1f} kg)",
                **values,
            )
        else:
            self.add(
                Check.BALANCE,
                Verdict.WARN,
                f"centre of pressure only {margin * 1000:.0f} mm inside the support polygon at "
                f"'{frame.label}' (wanted {BALANCE_WARN_MARGIN_M * 1000:.0f} mm)",
                **values,
            )

    def _torques(self, frame: Frame, forces: list[tuple[Array, Array, Array, Arm]]) -> None:
        robot = self.robot
        tau = robot.gravity_torques()
        for _, force, moment, arm in forces:
            linear, angular = robot.jacobian(arm)
            tau = tau + linear.T @ force + angular.T @ moment
        slots = self._load_slots
        ratios = np.abs(tau[slots]) / robot.effort[slots]
        index = int(np.argmax(ratios))
        ratio = float(ratios[index])
        if ratio <= self.torque_ratio:
            return
        self.torque_ratio = ratio
        if ratio <= TORQUE_WARN_RATIO:
            return
        self.reasons = [r for r in self.reasons if r.check != Check.TORQUE]
        slot = slots[index]
        needed, limit = abs(float(tau[slot])), float(robot.effort[slot])
        verdict = Verdict.FAIL if ratio > 1.0 else Verdict.WARN
        self.add(
            Check.TORQUE,
            verdict,
            f"{robot.dof_names[slot]} needs {needed:.1f} N m at '{frame.label}', effort limit {limit:.1f} N m "
            f"({ratio:.0%})",
            torque_nm=round(needed, 3),
            limit_nm=limit,
            ratio=round(ratio, 4),
        )


def check_task(world: World, site: Site, task: TaskSpec, deployed: DeployedRobot) -> RobotVerdict:
    """Check `task` for `deployed` in `world` (the world of `site`)."""
    return TaskCheck(world, site, task, deployed).run()
