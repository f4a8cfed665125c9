"""Speed and separation monitoring (SSM): protective separation distance and protective stops.

ISO 10218-2:2025 (speed and separation monitoring, which took over ISO/TS 15066:2016 clause 5.5.4) and ISO 13855:

    S_p = S_h + S_r + S_s + C + Z_d + Z_r

    S_h = v_h · (T_r + T_s)   distance the person covers while the robot reacts and stops (m)
    S_r = v_r · T_r           distance the robot covers during the reaction time (m)
    S_s = v_r · T_s           robot stopping distance (m): upper bound for a robot that does not speed up while
                              stopping, unless the site gives a measured stopping distance
    C                         intrusion distance (reach of a body part past the detection, m)
    Z_d, Z_r                  person-position (sensor) and robot-position uncertainties (m)

v_h is the person's speed towards the robot: the site's K_h (ISO 13855: 1.6 m/s), or the measured approach speed
when that is higher. v_r is the speed of the robot point towards the person: its velocity projected onto the unit
vector from the point to the person (never below zero); a point whose direction of motion is unknown is taken to
move straight at the person. Distances are measured on the floor plane (x, y, site frame), which is never more
than the distance to the person's body axis, from the surface of each robot point (its radius).

A robot closer to a person than S_p gets a protective stop and a `separation` safety event. The stop holds until
an explicit `resume`, which is refused while the person is inside S_p (at the speed the robot had when it stopped)
plus a resume margin (hysteresis).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from humanoid_trials.model.events import SafetyEvent, Severity
from humanoid_trials.model.robot import RobotProfile
from humanoid_trials.model.site import SafetyParams
from humanoid_trials.safety.errors import ResumeRefusedError

SEPARATION_EVENT = "separation"
STANDARD = "ISO 10218-2:2025 / ISO/TS 15066:2016 5.5.4 (S_p), ISO 13855 (K_h)"
BIPED_BODY_RADIUS_M = 0.25
"""Radius (m) of a biped's torso and legs seen from above, around its base (the profile has no footprint)."""


def envelope_radius_m(profile: RobotProfile) -> float:
    """Radius (m) around the base centre that holds the whole robot with its arms stretched out: the footprint's
    farthest corner (biped: BIPED_BODY_RADIUS_M) plus the arm reach. Used when only the base pose is known."""
    body = max((math.hypot(x, y) for x, y in profile.support.footprint_m), default=BIPED_BODY_RADIUS_M)
    return body + profile.reach_m


@dataclass(frozen=True)
class SeparationBudget:
    """The terms of S_p (m) and the speeds and times they came from."""

    s_h_m: float
    s_r_m: float
    s_s_m: float
    c_m: float
    z_d_m: float
    z_r_m: float
    human_speed_m_s: float
    robot_speed_m_s: float
    reaction_time_s: float
    stopping_time_s: float

    @property
    def total_m(self) -> float:
        """S_p (m)."""
        return self.s_h_m + self.s_r_m + self.s_s_m + self.c_m + self.z_d_m + self.z_r_m

    def as_evidence(self) -> dict[str, float]:
        return {
            "S_h_m": self.s_h_m,
            "S_r_m": self.s_r_m,
            "S_s_m": self.s_s_m,
            "C_m": self.c_m,
            "Z_d_m": self.z_d_m,
            "Z_r_m": self.z_r_m,
            "S_p_m": self.total_m,
            "v_h_m_s": self.human_speed_m_s,
            "v_r_m_s": self.robot_speed_m_s,
            "T_r_s": self.reaction_time_s,
            "T_s_s": self.stopping_time_s,
        }


def protective_separation(
    params: SafetyParams,
    robot_speed_m_s: float,
    *,
    human_speed_m_s: float | None = None,
    stopping_distance_m: float | None = None,
) -> SeparationBudget:
    """S_p for a robot moving at `robot_speed_m_s` towards a person (m/s, clipped at 0).

    `human_speed_m_s`: measured approach speed of the person; the site's K_h is used when it is lower or unknown.
    `stopping_distance_m`: a measured robot stopping distance S_s for this speed; else v_r · T_s.
    """
    v_r = max(0.0, robot_speed_m_s)
    v_h = max(params.human_speed_m_s, human_speed_m_s or 0.0)
    t_r = params.reaction_time_s
    t_s = params.stopping_time_s
    return SeparationBudget(
        s_h_m=v_h * (t_r + t_s),
        s_r_m=v_r * t_r,
        s_s_m=v_r * t_s if stopping_distance_m is None else stopping_distance_m,
        c_m=params.intrusion_distance_m,
        z_d_m=params.sensor_uncertainty_m,
        z_r_m=params.robot_uncertainty_m,
        human_speed_m_s=v_h,
        robot_speed_m_s=v_r,
        reaction_time_s=t_r,
        stopping_time_s=t_s,
    )


@dataclass(frozen=True)
class Person:
    """A tracked person: position on the floor (site frame, m) and velocity (m/s)."""

    id: str
    position_m: tuple[float, float]
    velocity_m_s: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True)
class RobotPoint:
    """A point of a robot (base centre, a hand …) in the site frame (m) with the radius of the body around it (m).

    `velocity_m_s` (site frame, m/s) when known; else only `speed_m_s` is known and is taken as directed at the person.
    """

    name: str
    position_m: tuple[float, float, float]
    velocity_m_s: tuple[float, float, float] | None = None
    speed_m_s: float = 0.0
    radius_m: float = 0.0

    def speed_towards(self, x_m: float, y_m: float) -> float:
        """Speed of this point towards the floor position (x, y) (m/s, ≥ 0)."""
        if self.velocity_m_s is None:
            return max(0.0, self.speed_m_s)
        dx, dy = x_m - self.position_m[0], y_m - self.position_m[1]
        norm = math.hypot(dx, dy)
        vx, vy, _ = self.velocity_m_s
        if norm < 1e-9:
            return math.hypot(vx, vy)
        return max(0.0, (vx * dx + vy * dy) / norm)


@dataclass(frozen=True)
class RobotPose:
    """What the separation monitor knows about one robot: the points to keep away from people."""

    robot_id: str
    points: tuple[RobotPoint, ...]


@dataclass(frozen=True)
class SeparationCheck:
    """The closest call between one robot and the people: the pair with the smallest margin distance − S_p."""

    robot_id: str
    person: Person
    point: RobotPoint
    distance_m: float
    budget: SeparationBudget

    @property
    def required_m(self) -> float:
        return self.budget.total_m

    @property
    def margin_m(self) -> float:
        return self.distance_m - self.budget.total_m

    @property
    def violated(self) -> bool:
        return self.distance_m < self.budget.total_m


def floor_distance(point: RobotPoint, person: Person) -> float:
    """Distance on the floor plane from the surface of a robot point to a person (m, ≥ 0)."""
    dx = person.position_m[0] - point.position_m[0]
    dy = person.position_m[1] - point.position_m[1]
    return max(0.0, math.hypot(dx, dy) - point.radius_m)


def _approach_speed(person: Person, point: RobotPoint) -> float:
    """Speed of the person towards the robot point (m/s, ≥ 0)."""
    dx = point.position_m[0] - person.position_m[0]
    dy = point.position_m[1] - person.position_m[1]
    norm = math.hypot(dx, dy)
    vx, vy = person.velocity_m_s
    if norm < 1e-9:
        return math.hypot(vx, vy)
    return max(0.0, (vx * dx + vy * dy) / norm)


def check_separation(
    params: SafetyParams,
    robot: RobotPose,
    people: Iterable[Person],
    *,
    stopping_distance_m: float | None = None,
) -> SeparationCheck | None:
    """The worst (smallest margin) robot-point / person pair, or None when there is nobody or no point."""
    worst: SeparationCheck | None = None
    for person in people:
        for point in robot.points:
            budget = protective_separation(
                params,
                point.speed_towards(*person.position_m),
                human_speed_m_s=_approach_speed(person, point),
                stopping_distance_m=stopping_distance_m,
            )
            check = SeparationCheck(robot.robot_id, person, point, floor_distance(point, person), budget)
            if worst is None or check.margin_m < worst.margin_m:
                worst = check
    return worst


def separation_event(
    site_id: str, check: SeparationCheck, now: datetime, trial_id: uuid.UUID | None = None
) -> SafetyEvent:
    """The `separation` event of a violated check: measured = distance (m), limit = S_p (m), at the person."""
    evidence: dict[str, object] = {
        "standard": STANDARD,
        "person_id": check.person.id,
        "person_position_m": list(check.person.position_m),
        "person_velocity_m_s": list(check.person.velocity_m_s),
        "robot_point": check.point.name,
        "robot_point_position_m": list(check.point.position_m),
        "robot_point_radius_m": check.point.radius_m,
        "action": "protective_stop",
        **check.budget.as_evidence(),
    }
    return SafetyEvent(
        site_id=site_id,
        type=SEPARATION_EVENT,
        severity=Severity.CRITICAL if check.distance_m <= 0.0 else Severity.WARNING,
        robot_id=check.robot_id,
        measured=check.distance_m,
        limit=check.required_m,
        unit="m",
        location_m=(check.person.position_m[0], check.person.position_m[1], 0.0),
        evidence=evidence,
        trial_id=trial_id,
        stamp=now,
    )


class SeparationMonitor:
    """Protective stops from speed and separation monitoring for the robots of one site.

    `update` returns one `separation` event per robot that newly came closer than S_p; that robot is then held
    stopped (no further events for it) until `resume` succeeds.
    """

    def __init__(
        self,
        site_id: str,
        params: SafetyParams,
        *,
        resume_margin_m: float = 0.1,
        stopping_distance_m: float | None = None,
    ) -> None:
        if resume_margin_m < 0.0:
            raise ValueError(f"resume_margin_m must be >= 0 m, got {resume_margin_m}")
        self.site_id = site_id
        self.params = params
        self.resume_margin_m = resume_margin_m
        self.stopping_distance_m = stopping_distance_m
        self._held: dict[str, SafetyEvent] = {}

    @property
    def held(self) -> frozenset[str]:
        """Robots held in a protective stop by this monitor."""
        return frozenset(self._held)

    def check(self, robot: RobotPose, people: Iterable[Person]) -> SeparationCheck | None:
        return check_separation(self.params, robot, people, stopping_distance_m=self.stopping_distance_m)

    def update(
        self,
        robots: Sequence[RobotPose],
        people: Sequence[Person],
        now: datetime,
        trial_id: uuid.UUID | None = None,
    ) -> list[SafetyEvent]:
        """Check every robot that is not held; hold and report those closer than S_p to someone."""
        events: list[SafetyEvent] = []
        for robot in robots:
            if robot.robot_id in self._held:
                continue
            result = self.check(robot, people)
            if result is not None and result.violated:
                event = separation_event(self.site_id, result, now, trial_id)
                self._held[robot.robot_id] = event
                events.append(event)
        return events

    def resume_blocker(self, robot: RobotPose, people: Sequence[Person]) -> str | None:
        """Why `robot` may not move again now, or None. Everyone must be farther than S_p plus the resume margin:
        S_p at the robot's speed when this monitor stopped it, else S_p for its current motion."""
        held = self._held.get(robot.robot_id)
        if held is not None:
            pairs = [(floor_distance(point, person), person.id) for person in people for point in robot.points]
            if not pairs:
                return None
            distance, person_id = min(pairs)
            s_p, basis = held.limit, "S_p at stop"
        else:
            current = self.check(robot, people)
            if current is None:
                return None
            distance, person_id, s_p, basis = current.distance_m, current.person.id, current.required_m, "S_p"
        needed = s_p + self.resume_margin_m
        if distance >= needed:
            return None
        return (
            f"robot {robot.robot_id!r} stays stopped: person {person_id!r} is {distance:.2f} m away, resume needs "
            f"{needed:.2f} m ({basis} {s_p:.2f} m + margin {self.resume_margin_m:.2f} m)"
        )

    def resume(self, robot: RobotPose, people: Sequence[Person]) -> None:
        """Release a held robot. Raises ResumeRefusedError when it is not held or someone is still too close."""
        if robot.robot_id not in self._held:
            raise ResumeRefusedError(
                f"robot {robot.robot_id!r} is not held by the separation monitor of site {self.site_id!r}"
            )
        blocker = self.resume_blocker(robot, people)
        if blocker is not None:
            raise ResumeRefusedError(blocker)
        self.release(robot.robot_id)

    def release(self, robot_id: str) -> None:
        """Forget the hold on `robot_id` (after the caller checked `resume_blocker`)."""
        self._held.pop(robot_id, None)
