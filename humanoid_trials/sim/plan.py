"""Motion plans: the sequence of base moves and hand poses each task type needs (pure; no pybullet).

Frames: every position is in the site frame (m, z up). A hand target is the tool centre point (TCP) position plus the
direction the gripper points (`axis`, a unit vector); the rotation about that axis is left free (5-DOF target).
Parts sit centred on the top surface of their object; task offsets are in the object's frame from the centre of its
top surface (see `humanoid_trials.tasks.params`).

A plan starts with a `MoveBase` to its first station (the travel from the robot's home station is set-up, not cycle)
and, when it leaves that station, ends with a `MoveBase` back to it, so that the steps after the first one are one
repeatable cycle.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from humanoid_trials.model.robot import RobotProfile
from humanoid_trials.model.scenario import TaskSpec
from humanoid_trials.model.site import Site, SiteObject, Station
from humanoid_trials.sim.errors import PlanError
from humanoid_trials.sim.geometry import to_world, unit
from humanoid_trials.tasks.params import (
    Carry,
    Fasten,
    Inspect,
    Kitting,
    MachineTend,
    Part,
    PickPlace,
    Press,
    TaskParams,
)

APPROACH_M = 0.10
"""Distance (m) back along the gripper axis for approach and retreat poses."""
LIFT_M = 0.18
"""Height (m) a grasped part is lifted before it is moved on."""
GRIP_DEPTH_M = 0.03
"""How far (m) below the top of a part the fingers close (at most half its height)."""
HOVER_M = 0.003
"""Gap (m) left between a placed part and the surface (no touching contact in the collision check)."""
HAND_OVER_M = (0.45, 0.0, 0.95)
"""Where a tote is handed over when a carry station has no object to put it on (base frame, m)."""
PULL_BACK_M = 0.32
"""Before going back to the ready pose, the hand is pulled back to this far in front of the base (m), at height."""

REACTION_ARM_SHARE = 0.2
"""Share of a fastening torque the wrist holds: hand-held nut runners are used with a torque reaction arm."""
EDGE_GAP_M = 0.03
"""A tote is put down this far (m) inside the edge of its surface nearest to the robot."""

DOWN = (0.0, 0.0, -1.0)
Point = tuple[float, float, float]


@dataclass(frozen=True)
class HandTarget:
    """TCP position (site frame, m) and the direction the gripper points (unit vector, site frame)."""

    arm: str
    position: Point
    axis: Point


@dataclass(frozen=True)
class MoveBase:
    """Drive or walk the base to a station (site frame: x, y in m, yaw in rad)."""

    label: str
    station: str
    x_m: float
    y_m: float
    yaw_rad: float


@dataclass(frozen=True)
class Reach:
    """Move the named hands to their targets (one joint-space motion)."""

    label: str
    targets: tuple[HandTarget, ...]


@dataclass(frozen=True)
class Home:
    """Move the arms back to their ready pose (in front of the chest, gripper down)."""

    label: str
    arms: tuple[str, ...]


@dataclass(frozen=True)
class Grasp:
    """Close the grippers of `arms` on `part`. One hand: the part hangs along the gripper axis with its top
    `grip_depth_m` (m) beyond the TCP. Two hands: the part is centred between the TCPs."""

    label: str
    part: Part
    arms: tuple[str, ...]
    grip_depth_m: float


@dataclass(frozen=True)
class Release:
    label: str
    arms: tuple[str, ...]


@dataclass(frozen=True)
class Dwell:
    """Hold still for `seconds`; optionally the environment pushes on the TCP of `arm` with `force_n` (site frame, N)
    and `moment_nm` (site frame, N m), e.g. the reaction of a button or a nut runner."""

    label: str
    seconds: float
    arm: str = ""
    force_n: Point = (0.0, 0.0, 0.0)
    moment_nm: Point = (0.0, 0.0, 0.0)


Step = MoveBase | Reach | Home | Grasp | Release | Dwell


@dataclass(frozen=True)
class MotionPlan:
    task_id: str
    task_type: str
    arms: tuple[str, ...]
    steps: tuple[Step, ...]

    @property
    def stations(self) -> tuple[str, ...]:
        return tuple(step.station for step in self.steps if isinstance(step, MoveBase))


def arm_options(task: TaskSpec, profile: RobotProfile, site: Site) -> list[tuple[str, ...]]:
    """Arm choices to try for a task, best guess first (both arms for two-handed tasks)."""
    names = [arm.name for arm in profile.arms]
    params = task.params
    if params.two_handed:
        return [tuple(names[:2])] if len(names) >= 2 else []
    if isinstance(params, PickPlace) and params.arm != "any":
        return [(params.arm,)] if params.arm in names else []
    lateral = _first_lateral_offset(params, site)
    ordered = sorted(names, key=lambda name: _side_rank(name, lateral))
    return [(name,) for name in ordered]


def _side_rank(name: str, lateral_m: float) -> int:
    if "left" in name:
        return 0 if lateral_m >= 0.0 else 1
    if "right" in name:
        return 0 if lateral_m < 0.0 else 1
    return 2


def _first_lateral_offset(params: TaskParams, site: Site) -> float:
    """Lateral offset (m, + = left of the robot) of the first thing the task works on, from its station."""
    refs = params.object_refs()
    if not refs:
        return 0.0
    obj = _object(site, refs[0][1])
    station = site.station(obj.station)
    dx, dy = obj.pose.x_m - station.pose.x_m, obj.pose.y_m - station.pose.y_m
    yaw = station.pose.yaw_rad
    return -math.sin(yaw) * dx + math.cos(yaw) * dy


def plan_task(site: Site, task: TaskSpec, arms: tuple[str, ...]) -> MotionPlan:
    """The motion plan of `task` at `site` with the given arm(s). Raises PlanError for references the site lacks."""
    builder = _Builder(site, arms)
    params = task.params
    if isinstance(params, PickPlace):
        builder.pick_place(params.part, params.source, params.target)
    elif isinstance(params, Kitting):
        count = len(params.items)
        for index, item in enumerate(params.items):
            builder.pick_place(item.part, item.source, params.target, slot=(index, count))
    elif isinstance(params, Carry):
        builder.carry(params)
    elif isinstance(params, MachineTend):
        builder.machine_tend(params)
    elif isinstance(params, Fasten):
        builder.fasten(params)
    elif isinstance(params, Inspect):
        builder.inspect(params)
    elif isinstance(params, Press):
        builder.press(params)
    else:
        raise PlanError(f"task {task.id!r}: no motion plan for task type {task.type!r}")
    return MotionPlan(task.id, task.type, arms, builder.finish())


def _object(site: Site, object_id: str) -> SiteObject:
    try:
        return site.object(object_id)
    except KeyError as exc:
        raise PlanError(f"site {site.id!r} has no object {object_id!r}") from exc


def _station(site: Site, station_id: str) -> Station:
    try:
        return site.station(station_id)
    except KeyError as exc:
        raise PlanError(f"site {site.id!r} has no station {station_id!r}") from exc


def object_point(obj: SiteObject, offset: Sequence[float]) -> Point:
    """A point given as an offset (object frame, m) from the centre of the object's top surface -> site frame."""
    world = to_world((obj.pose.x_m, obj.pose.y_m), obj.pose.yaw_rad, offset, z0=obj.top_z_m)
    return (float(world[0]), float(world[1]), float(world[2]))


def _push_axis(obj: SiteObject, offset: Sequence[float]) -> Point:
    """Direction (site frame) to push a button at `offset` on `obj`: into the face it sits on (down on the top)."""
    if offset[2] >= -0.02:
        return DOWN
    ratios = [abs(offset[i]) / (obj.size_m[i] / 2.0) for i in (0, 1)]
    axis_index = 0 if ratios[0] >= ratios[1] else 1
    local = [0.0, 0.0]
    local[axis_index] = -1.0 if offset[axis_index] > 0 else 1.0
    yaw = obj.pose.yaw_rad
    return (
        math.cos(yaw) * local[0] - math.sin(yaw) * local[1],
        math.sin(yaw) * local[0] + math.cos(yaw) * local[1],
        0.0,
    )


def _shift(point: Point, axis: Point, distance: float) -> Point:
    return (point[0] + axis[0] * distance, point[1] + axis[1] * distance, point[2] + axis[2] * distance)


def _unit(vector: Sequence[float]) -> Point:
    arr = unit(vector)
    return (float(arr[0]), float(arr[1]), float(arr[2]))


class _Builder:
    def __init__(self, site: Site, arms: tuple[str, ...]) -> None:
        self.site = site
        self.arms = arms
        self.arm = arms[0]
        self.steps: list[Step] = []
        self.first_station: Station | None = None
        self.at: str = ""
        self.last: tuple[Point, Point] | None = None

    def goto(self, station_id: str) -> Station:
        station = _station(self.site, station_id)
        if station_id != self.at:
            if self.first_station is None:
                self.first_station = station
            pose = station.pose
            self.steps.append(MoveBase(f"go to {station_id}", station_id, pose.x_m, pose.y_m, pose.yaw_rad))
            self.at = station_id
        return station

    def finish(self) -> tuple[Step, ...]:
        if self.first_station is not None and self.at != self.first_station.id:
            home = self.first_station
            pose = home.pose
            self.steps.append(MoveBase(f"return to {home.id}", home.id, pose.x_m, pose.y_m, pose.yaw_rad))
        return tuple(self.steps)

    def reach(self, label: str, point: Point, axis: Point = DOWN) -> None:
        self.steps.append(Reach(label, (HandTarget(self.arm, point, axis),)))
        self.last = (point, axis)

    def home(self, label: str) -> None:
        """Pull the hand back towards the base at its height, then go to the ready pose."""
        if self.last is not None:
            point, axis = self.last
            pose = _station(self.site, self.at).pose
            yaw = pose.yaw_rad
            dx, dy = point[0] - pose.x_m, point[1] - pose.y_m
            forward = math.cos(yaw) * dx + math.sin(yaw) * dy
            if forward > PULL_BACK_M:
                back = _shift(point, (math.cos(yaw), math.sin(yaw), 0.0), PULL_BACK_M - forward)
                self.reach(f"pull back ({label})", back, DOWN if axis == DOWN else axis)
        self.steps.append(Home(label, (self.arm,)))
        self.last = None

    def pick(self, part: Part, source: str, offset: Sequence[float] = (0.0, 0.0, 0.0)) -> None:
        obj = _object(self.site, source)
        self.goto(obj.station)
        depth = min(GRIP_DEPTH_M, part.size_m[2] / 2.0)
        top = object_point(obj, (offset[0], offset[1], offset[2] + part.size_m[2] + HOVER_M))
        grasp = (top[0], top[1], top[2] - depth)
        self.reach(f"approach {part.name} on {source}", _shift(grasp, DOWN, -APPROACH_M))
        self.reach(f"grasp {part.name}", grasp)
        self.steps.append(Grasp(f"close on {part.name}", part, (self.arm,), depth))
        self.reach(f"lift {part.name}", _shift(grasp, DOWN, -LIFT_M))

    def place(self, part: Part, target: str, offset: Sequence[float] = (0.0, 0.0, 0.0)) -> None:
        obj = _object(self.site, target)
        if obj.station != self.at:
            self.home(f"stow {part.name} for the move")
            self.goto(obj.station)
        depth = min(GRIP_DEPTH_M, part.size_m[2] / 2.0)
        top = object_point(obj, (offset[0], offset[1], offset[2] + part.size_m[2] + HOVER_M))
        put = (top[0], top[1], top[2] - depth)
        self.reach(f"above {target}", _shift(put, DOWN, -APPROACH_M))
        self.reach(f"place {part.name} on {target}", put)
        self.steps.append(Release(f"open on {part.name}", (self.arm,)))
        self.reach(f"retreat from {target}", _shift(put, DOWN, -APPROACH_M))

    def pick_place(self, part: Part, source: str, target: str, slot: tuple[int, int] = (0, 1)) -> None:
        index, count = slot
        tray = _object(self.site, target)
        pitch = tray.size_m[1] / count
        offset = (0.0, (index - (count - 1) / 2.0) * pitch, 0.0)
        self.pick(part, source)
        self.place(part, target, offset)
        self.home("back to ready")

    def machine_tend(self, params: MachineTend) -> None:
        self.pick(params.part, params.source)
        self.place(params.part, params.machine)
        self.home("clear the machine")
        self.steps.append(Dwell(f"{params.machine} cycle", params.machine_cycle_s))
        self.pick(params.part, params.machine)
        self.place(params.part, params.target)
        self.home("back to ready")

    def fasten(self, params: Fasten) -> None:
        obj = _object(self.site, params.fixture)
        self.goto(obj.station)
        tool = Part(name="fastening tool", mass_kg=params.tool_mass_kg, size_m=(0.06, 0.06, 0.06))
        self.steps.append(Grasp("hold the fastening tool", tool, (self.arm,), 0.06))
        for number, offset in enumerate(params.points_m, start=1):
            point = object_point(obj, offset)
            self.reach(f"above fastener {number}", _shift(point, DOWN, -APPROACH_M))
            self.reach(f"on fastener {number}", point)
            moment = (0.0, 0.0, params.torque_nm * REACTION_ARM_SHARE)  # nut runner reaction about the tool axis
            self.steps.append(Dwell(f"drive fastener {number}", params.dwell_s, self.arm, moment_nm=moment))
            self.reach(f"off fastener {number}", _shift(point, DOWN, -APPROACH_M))
        self.steps.append(Release("put the tool down", (self.arm,)))
        self.home("back to ready")

    def inspect(self, params: Inspect) -> None:
        obj = _object(self.site, params.object)
        self.goto(obj.station)
        centre = object_point(obj, (0.0, 0.0, 0.0))
        for number, offset in enumerate(params.viewpoints_m, start=1):
            view = object_point(obj, offset)
            toward = (centre[0] - view[0], centre[1] - view[1], centre[2] - view[2])
            axis = _unit(toward) if math.dist(centre, view) > 1e-6 else DOWN
            self.reach(f"viewpoint {number}", view, axis)
            self.steps.append(Dwell(f"look from viewpoint {number}", params.dwell_s))
        self.home("back to ready")

    def press(self, params: Press) -> None:
        obj = _object(self.site, params.panel)
        self.goto(obj.station)
        button = object_point(obj, params.button_m)
        axis = _push_axis(obj, params.button_m)
        self.reach(f"in front of the button on {params.panel}", _shift(button, axis, -APPROACH_M), axis)
        self.reach(f"press the button on {params.panel}", button, axis)
        force = (-axis[0] * params.force_n, -axis[1] * params.force_n, -axis[2] * params.force_n)
        self.steps.append(Dwell(f"hold the button on {params.panel}", params.hold_s, self.arm, force_n=force))
        self.reach(f"off the button on {params.panel}", _shift(button, axis, -APPROACH_M), axis)
        self.home("back to ready")

    def carry(self, params: Carry) -> None:
        tote = params.tote
        right, left = self._two_arms()
        start = self.goto(params.from_station)
        centre = self._tote_centre(start, tote)
        depth = min(GRIP_DEPTH_M, tote.size_m[2] / 2.0)
        self._two_hand_reach("approach the tote", start, centre, tote, APPROACH_M, right, left)
        self._two_hand_reach("grasp the tote", start, centre, tote, 0.0, right, left)
        self.steps.append(Grasp(f"close on {tote.name}", tote, (right, left), depth))
        self._two_hand_reach("lift the tote", start, centre, tote, LIFT_M, right, left)
        end = self.goto(params.to_station)
        drop = self._tote_centre(end, tote)
        self._two_hand_reach("above the drop place", end, drop, tote, APPROACH_M, right, left)
        self._two_hand_reach("put the tote down", end, drop, tote, 0.0, right, left)
        self.steps.append(Release(f"open on {tote.name}", (right, left)))
        self._two_hand_reach("let go of the tote", end, drop, tote, APPROACH_M, right, left)
        self.steps.append(Home("back to ready", (right, left)))

    def _two_arms(self) -> tuple[str, str]:
        first, second = self.arms[0], self.arms[1]
        if "left" in first and "right" in second:
            return second, first
        return first, second

    def _tote_centre(self, station: Station, tote: Part) -> Point:
        """Centre of a tote on the object nearest to `station`, at the object's edge nearest to the robot (or at the
        hand-over pose when the station has no object)."""
        objects = [obj for obj in self.site.layout.objects if obj.station == station.id]
        pose = station.pose
        if not objects:
            point = to_world((pose.x_m, pose.y_m), pose.yaw_rad, HAND_OVER_M)
            return (float(point[0]), float(point[1]), float(point[2]))
        nearest = min(objects, key=lambda o: (math.hypot(o.pose.x_m - pose.x_m, o.pose.y_m - pose.y_m), o.id))
        # the station in the object's frame, clamped to where the tote still fits on the top surface
        yaw = nearest.pose.yaw_rad
        dx, dy = pose.x_m - nearest.pose.x_m, pose.y_m - nearest.pose.y_m
        local = (math.cos(yaw) * dx + math.sin(yaw) * dy, -math.sin(yaw) * dx + math.cos(yaw) * dy)
        half_tote = max(tote.size_m[0], tote.size_m[1]) / 2.0 + EDGE_GAP_M
        offset = [
            max(
                -max(0.0, nearest.size_m[i] / 2.0 - half_tote),
                min(max(0.0, nearest.size_m[i] / 2.0 - half_tote), local[i]),
            )
            for i in (0, 1)
        ]
        return object_point(nearest, (offset[0], offset[1], tote.size_m[2] / 2.0 + HOVER_M))

    def _two_hand_reach(
        self, label: str, station: Station, centre: Point, tote: Part, above_m: float, right: str, left: str
    ) -> None:
        """Both hands on the tote's side rims (robot's lateral axis), on its near half, grippers pointing down,
        `above_m` (m) above the grasp."""
        yaw = station.pose.yaw_rad
        lateral = (-math.sin(yaw), math.cos(yaw), 0.0)  # robot's +y (left) in the site frame
        near = _shift(centre, (math.cos(yaw), math.sin(yaw), 0.0), -tote.size_m[0] / 4.0)
        depth = min(GRIP_DEPTH_M, tote.size_m[2] / 2.0)
        rim = (near[0], near[1], near[2] + tote.size_m[2] / 2.0 - depth + above_m)
        half = tote.size_m[1] / 2.0 - GRIP_DEPTH_M
        self.steps.append(
            Reach(
                label,
                (
                    HandTarget(right, _shift(rim, lateral, -half), DOWN),
                    HandTarget(left, _shift(rim, lateral, half), DOWN),
                ),
            )
        )
