"""Simulated workers: the `human_enters_zone` perturbation as a kinematic person, and its body regions.

A worker appears at the first point of `path_m` at `start_s` (trial time, s), walks the polyline at `speed_m_s`,
stands at its end for `dwell_s` (None: stays) and then leaves the monitored area (default: passes straight
through). A perturbation without a path stands at the centroid of its zone. Positions are on the floor in the site
frame (m). The safety monitor treats each present worker as a tracked person in sim mode.

For power and force limiting in sim, a contact point on a standing worker's body (height above the floor, m) maps to
ISO/TS 15066 body regions by height bands of a 1.75 m person with arms hanging; where bands overlap (arms beside the
torso) the region with the lowest force limit is taken.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from humanoid_trials.model.scenario import HumanEntersZone
from humanoid_trials.model.site import HumanZone, Site
from humanoid_trials.safety.force import BodyRegionTable
from humanoid_trials.safety.separation import Person
from humanoid_trials.values import Point2, polygon_area

BODY_BANDS_M: tuple[tuple[float, float, str], ...] = (
    (0.00, 0.50, "lower_legs"),
    (0.50, 0.85, "thighs_knees"),
    (0.65, 0.85, "hands_fingers"),
    (0.85, 1.00, "pelvis"),
    (0.85, 1.10, "lower_arms_wrists"),
    (1.00, 1.15, "abdomen"),
    (1.10, 1.45, "upper_arms_elbows"),
    (1.15, 1.40, "chest"),
    (1.40, 1.50, "back_shoulders"),
    (1.50, 1.58, "neck"),
    (1.58, 1.68, "face"),
    (1.68, 1.75, "skull_forehead"),
)
"""Height bands (from m, to m, body region) of the standing simulated worker, 1.75 m tall, arms hanging."""


def regions_at_height(z_m: float) -> tuple[str, ...]:
    """Body regions of the standing worker at height `z_m` above the floor (empty above the head or below 0)."""
    return tuple(region for low, high, region in BODY_BANDS_M if low <= z_m <= high)


def contact_region(table: BodyRegionTable, z_m: float) -> str | None:
    """The region a contact at height `z_m` is judged against: the one with the lowest quasi-static force limit."""
    candidates = regions_at_height(z_m)
    if not candidates:
        return None
    return min(candidates, key=lambda r: table.region(r).force_n.quasi_static)


@dataclass(frozen=True)
class SimulatedWorker:
    """A person walking a path (site frame, m) from `start_s` (s) at `speed_m_s` (m/s)."""

    id: str
    path_m: tuple[Point2, ...]
    speed_m_s: float
    start_s: float
    dwell_s: float | None = 0.0
    zone: str = ""

    def __post_init__(self) -> None:
        if not self.path_m:
            raise ValueError(f"worker {self.id!r}: path_m needs at least one point")
        if self.speed_m_s <= 0.0:
            raise ValueError(f"worker {self.id!r}: speed_m_s must be > 0, got {self.speed_m_s}")
        if self.dwell_s is not None and self.dwell_s < 0.0:
            raise ValueError(f"worker {self.id!r}: dwell_s must be >= 0 or None, got {self.dwell_s}")

    @property
    def length_m(self) -> float:
        return sum(math.dist(a, b) for a, b in zip(self.path_m, self.path_m[1:], strict=False))

    @property
    def arrive_s(self) -> float:
        """Trial time (s) at which the worker reaches the end of the path."""
        return self.start_s + self.length_m / self.speed_m_s

    @property
    def leave_s(self) -> float | None:
        """Trial time (s) at which the worker leaves; None when the worker stays."""
        return None if self.dwell_s is None else self.arrive_s + self.dwell_s

    def at(self, t_s: float) -> Person | None:
        """The worker as a tracked person at trial time `t_s` (s), or None when not present."""
        if t_s < self.start_s:
            return None
        leave = self.leave_s
        if leave is not None and t_s > leave:
            return None
        remaining = (t_s - self.start_s) * self.speed_m_s
        for a, b in zip(self.path_m, self.path_m[1:], strict=False):
            seg = math.dist(a, b)
            if remaining < seg:
                ux, uy = (b[0] - a[0]) / seg, (b[1] - a[1]) / seg
                return Person(
                    self.id,
                    (a[0] + ux * remaining, a[1] + uy * remaining),
                    (ux * self.speed_m_s, uy * self.speed_m_s),
                )
            remaining -= seg
        return Person(self.id, self.path_m[-1], (0.0, 0.0))


def people_at(workers: Sequence[SimulatedWorker], t_s: float) -> list[Person]:
    """Every simulated worker present at trial time `t_s` (s)."""
    return [p for p in (w.at(t_s) for w in workers) if p is not None]


def zone_centroid(zone: HumanZone) -> Point2:
    """Area centroid of a zone's polygon (site frame, m)."""
    pts = zone.polygon_m
    area = polygon_area(pts)
    cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    return (cx / (6.0 * area), cy / (6.0 * area))


def worker_from_perturbation(
    perturbation: HumanEntersZone, site: Site, worker_id: str, *, dwell_s: float | None = 0.0
) -> SimulatedWorker:
    """The simulated worker of one `human_enters_zone` perturbation (zone resolved against the site)."""
    path = perturbation.path_m or (zone_centroid(site.zone(perturbation.zone)),)
    return SimulatedWorker(
        id=worker_id,
        path_m=tuple(path),
        speed_m_s=perturbation.speed_m_s,
        start_s=perturbation.at_s,
        dwell_s=dwell_s,
        zone=perturbation.zone,
    )


def simulated_workers(
    perturbations: Iterable[object], site: Site, *, dwell_s: float | None = 0.0
) -> list[SimulatedWorker]:
    """One simulated worker per `human_enters_zone` perturbation (e.g. of `scenario.perturbations`), ids `worker-1`,
    `worker-2`, … in file order; other perturbation types are not workers and are skipped."""
    found = [p for p in perturbations if isinstance(p, HumanEntersZone)]
    return [worker_from_perturbation(p, site, f"worker-{i}", dwell_s=dwell_s) for i, p in enumerate(found, start=1)]
