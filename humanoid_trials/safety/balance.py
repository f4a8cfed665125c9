"""Falls and loss of balance: base tilt, centre of mass outside the support polygon, sudden drop of the base.

Each is a critical safety event; a robot with such an event has lost its balance (or fallen), its running task is
failed with the event's reason (`fall_reason`) and re-assigned by the dispatcher.

- tilt: angle between the base z axis and the site's z axis above the site's `max_tilt_deg`.
- com_outside_support: ground projection of the whole-body CoM (site frame) outside the support polygon (feet of a
  biped, footprint of a wheeled base) by more than `com_margin_m`, for at least `com_outside_min_s` (a walking biped
  crosses its polygon edge briefly at every step).
- height_drop: base height falling faster than `max_drop_speed_m_s` between two samples, or more than `max_drop_m`
  below the highest base height of the last `drop_window_s`.
Every cause is reported once per robot until `reset(robot_id)` (the robot is back up).
"""

from __future__ import annotations

import math
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from humanoid_trials.model.events import SafetyEvent, Severity
from humanoid_trials.model.site import SafetyParams
from humanoid_trials.values import Point2, point_in_polygon

TILT_EVENT = "tilt"
COM_EVENT = "com_outside_support"
DROP_EVENT = "height_drop"
BALANCE_EVENTS = frozenset({TILT_EVENT, COM_EVENT, DROP_EVENT})
"""Event types that mean the robot lost its balance: its task fails and is re-assigned."""


@dataclass(frozen=True)
class BalanceLimits:
    """Thresholds (deg, m, m/s, s). `max_tilt_deg` comes from the site; the rest have defaults."""

    max_tilt_deg: float
    max_drop_m: float = 0.25
    max_drop_speed_m_s: float = 1.0
    drop_window_s: float = 0.5
    com_margin_m: float = 0.0
    com_outside_min_s: float = 0.2

    @classmethod
    def from_site(cls, params: SafetyParams) -> BalanceLimits:
        return cls(max_tilt_deg=params.max_tilt_deg)


@dataclass(frozen=True)
class BalanceSample:
    """One balance reading of one robot at time `t_s` (monotonic, s).

    `tilt_rad`: base tilt from upright; `base_z_m`: base height (site frame); `com_xy_m`: CoM ground projection and
    `support_m`: support polygon, both in the site frame (m). Unknown values are None / empty and not checked.
    """

    robot_id: str
    t_s: float
    tilt_rad: float
    base_z_m: float | None = None
    com_xy_m: tuple[float, float] | None = None
    support_m: tuple[Point2, ...] = ()
    location_m: tuple[float, float, float] = (0.0, 0.0, 0.0)


def tilt_from_quaternion(x: float, y: float, z: float, w: float) -> float:
    """Tilt (rad) of a body whose orientation is the unit quaternion (x, y, z, w): angle of its z axis from vertical."""
    norm = x * x + y * y + z * z + w * w
    if norm <= 0.0:
        raise ValueError("zero quaternion has no orientation")
    cos_tilt = 1.0 - 2.0 * (x * x + y * y) / norm
    return math.acos(max(-1.0, min(1.0, cos_tilt)))


def footprint_in_site(footprint_m: Sequence[Point2], x_m: float, y_m: float, yaw_rad: float) -> tuple[Point2, ...]:
    """A base-frame footprint polygon (m) placed at base pose (x, y, yaw) in the site frame."""
    c, s = math.cos(yaw_rad), math.sin(yaw_rad)
    return tuple((x_m + c * px - s * py, y_m + s * px + c * py) for px, py in footprint_m)


def _segment_distance(px: float, py: float, a: Point2, b: Point2) -> float:
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0.0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def support_margin(point: tuple[float, float], polygon: Sequence[Point2]) -> float:
    """Signed distance (m) of a point to a polygon's boundary: > 0 inside, < 0 outside."""
    poly = tuple(polygon)
    edge = min(_segment_distance(point[0], point[1], poly[i], poly[(i + 1) % len(poly)]) for i in range(len(poly)))
    return edge if point_in_polygon(point[0], point[1], poly) else -edge


def fall_reason(event: SafetyEvent) -> str:
    """The failure reason the dispatcher records for a robot that lost its balance."""
    texts = {
        TILT_EVENT: f"robot fell: base tilt {event.measured:.1f} deg over the {event.limit:.1f} deg limit",
        COM_EVENT: (
            f"robot lost balance: centre of mass {-event.measured:.3f} m outside its support polygon "
            f"(allowed {-event.limit:.3f} m)"
        ),
        DROP_EVENT: (
            f"robot fell: base dropped {event.measured:.2f} {event.unit} (limit {event.limit:.2f} {event.unit})"
        ),
    }
    return texts.get(event.type, f"{event.type}: {event.measured:g} {event.unit} (limit {event.limit:g})")


@dataclass
class _Track:
    heights: deque[tuple[float, float]] = field(default_factory=deque)
    com_outside_since: float | None = None
    reported: set[str] = field(default_factory=set)


class BalanceMonitor:
    """Loss-of-balance detection for the robots of one site, fed one sample at a time per robot."""

    def __init__(self, site_id: str, limits: BalanceLimits) -> None:
        self.site_id = site_id
        self.limits = limits
        self._tracks: dict[str, _Track] = {}

    def reset(self, robot_id: str) -> None:
        """Forget a robot's history and reported causes (it is upright again)."""
        self._tracks.pop(robot_id, None)

    def update(self, sample: BalanceSample, now: datetime, trial_id: uuid.UUID | None = None) -> list[SafetyEvent]:
        """Critical events for causes newly found in this sample."""
        track = self._tracks.setdefault(sample.robot_id, _Track())
        found = [*self._tilt(sample), *self._com(sample, track), *self._drop(sample, track)]
        events: list[SafetyEvent] = []
        for event_type, measured, limit, unit, evidence in found:
            if event_type in track.reported:
                continue
            track.reported.add(event_type)
            events.append(
                SafetyEvent(
                    site_id=self.site_id,
                    type=event_type,
                    severity=Severity.CRITICAL,
                    robot_id=sample.robot_id,
                    measured=measured,
                    limit=limit,
                    unit=unit,
                    location_m=sample.location_m,
                    evidence={"t_s": sample.t_s, "action": "fail_and_reassign", **evidence},
                    trial_id=trial_id,
                    stamp=now,
                )
            )
        return events

    def _tilt(self, sample: BalanceSample) -> list[tuple[str, float, float, str, dict[str, object]]]:
        tilt_deg = math.degrees(sample.tilt_rad)
        if tilt_deg <= self.limits.max_tilt_deg:
            return []
        return [(TILT_EVENT, tilt_deg, self.limits.max_tilt_deg, "deg", {"tilt_rad": sample.tilt_rad})]

    def _com(self, sample: BalanceSample, track: _Track) -> list[tuple[str, float, float, str, dict[str, object]]]:
        if sample.com_xy_m is None or len(sample.support_m) < 3:
            return []
        margin = support_margin(sample.com_xy_m, sample.support_m)
        if margin >= -self.limits.com_margin_m:
            track.com_outside_since = None
            return []
        if track.com_outside_since is None:
            track.com_outside_since = sample.t_s
        outside_s = sample.t_s - track.com_outside_since
        if outside_s < self.limits.com_outside_min_s:
            return []
        evidence: dict[str, object] = {
            "com_xy_m": list(sample.com_xy_m),
            "support_polygon_m": [list(p) for p in sample.support_m],
            "outside_for_s": outside_s,
        }
        return [(COM_EVENT, margin, -self.limits.com_margin_m, "m", evidence)]

    def _drop(self, sample: BalanceSample, track: _Track) -> list[tuple[str, float, float, str, dict[str, object]]]:
        if sample.base_z_m is None:
            return []
        found: list[tuple[str, float, float, str, dict[str, object]]] = []
        heights = track.heights
        if heights and sample.t_s > heights[-1][0]:
            t_prev, z_prev = heights[-1]
            speed = (z_prev - sample.base_z_m) / (sample.t_s - t_prev)
            if speed > self.limits.max_drop_speed_m_s:
                dt = sample.t_s - t_prev
                evidence: dict[str, object] = {"from_z_m": z_prev, "to_z_m": sample.base_z_m, "dt_s": dt}
                found.append((DROP_EVENT, speed, self.limits.max_drop_speed_m_s, "m/s", evidence))
        while heights and sample.t_s - heights[0][0] > self.limits.drop_window_s:
            heights.popleft()
        heights.append((sample.t_s, sample.base_z_m))
        top_t, top_z = max(heights, key=lambda h: h[1])
        drop = top_z - sample.base_z_m
        if drop > self.limits.max_drop_m and not found:
            evidence = {"from_z_m": top_z, "to_z_m": sample.base_z_m, "dt_s": sample.t_s - top_t}
            found.append((DROP_EVENT, drop, self.limits.max_drop_m, "m", evidence))
        return found
