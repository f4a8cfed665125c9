"""Small geometry and timing helpers (pure numpy; no pybullet). Units: m, rad, s."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

Vec = NDArray[np.float64]


def rot_z(yaw_rad: float) -> Vec:
    """3x3 rotation about z (rad)."""
    c, s = math.cos(yaw_rad), math.sin(yaw_rad)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def to_world(origin_xy: tuple[float, float], yaw_rad: float, local: Sequence[float], z0: float = 0.0) -> Vec:
    """A point given in a frame at `origin_xy` (site, m) turned by `yaw_rad`, with z offset `z0` (m) -> site frame."""
    c, s = math.cos(yaw_rad), math.sin(yaw_rad)
    x, y, z = float(local[0]), float(local[1]), float(local[2])
    return np.array([origin_xy[0] + c * x - s * y, origin_xy[1] + s * x + c * y, z0 + z])


def unit(vector: Sequence[float]) -> Vec:
    arr = np.asarray(vector, dtype=float)
    norm = float(np.linalg.norm(arr))
    if norm == 0.0:
        raise ValueError("zero-length direction")
    return arr / norm


def quat_to_matrix(q: Sequence[float]) -> Vec:
    """PyBullet quaternion (x, y, z, w) -> 3x3 rotation matrix."""
    x, y, z, w = (float(v) for v in q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def matrix_to_quat(m: Vec) -> tuple[float, float, float, float]:
    """3x3 rotation matrix -> quaternion (x, y, z, w)."""
    trace = float(m[0, 0] + m[1, 1] + m[2, 2])
    if trace > 0.0:
        s = math.sqrt(trace + 1.0) * 2.0
        return ((m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, 0.25 * s)
    if m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = math.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2]) * 2.0
        return (0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s)
    if m[1, 1] > m[2, 2]:
        s = math.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2]) * 2.0
        return ((m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s)
    s = math.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1]) * 2.0
    return ((m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s, (m[1, 0] - m[0, 1]) / s)


def frame_with_axis(axis: Sequence[float], heading_rad: float) -> Vec:
    """Rotation whose -z column is `axis` (where a gripper points) with x as close as possible to `heading_rad`."""
    z = -unit(axis)
    x = np.array([math.cos(heading_rad), math.sin(heading_rad), 0.0])
    x = x - z * float(np.dot(x, z))
    if float(np.linalg.norm(x)) < 1e-6:
        x = np.array([0.0, 0.0, 1.0]) - z * z[2]
    x = x / float(np.linalg.norm(x))
    y = np.cross(z, x)
    return np.column_stack([x, y, z])


def trapezoid_time(distance: float, v_max: float, a_max: float) -> float:
    """Time (s) to cover `distance` (m or rad) from rest to rest with speed <= v_max and acceleration <= a_max."""
    d = abs(distance)
    if d == 0.0:
        return 0.0
    d_ramp = v_max * v_max / a_max
    if d <= d_ramp:
        return 2.0 * math.sqrt(d / a_max)
    return d / v_max + v_max / a_max


def convex_hull(points: Sequence[Sequence[float]]) -> list[tuple[float, float]]:
    """Counter-clockwise convex hull of 2-D points (monotone chain)."""
    pts = sorted({(float(p[0]), float(p[1])) for p in points})
    if len(pts) <= 2:
        return pts

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for pt in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], pt) <= 0:
            lower.pop()
        lower.append(pt)
    upper: list[tuple[float, float]] = []
    for pt in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], pt) <= 0:
            upper.pop()
        upper.append(pt)
    return lower[:-1] + upper[:-1]


def signed_distance_in_polygon(x: float, y: float, polygon: Sequence[tuple[float, float]]) -> float:
    """Distance (m) from a point to the boundary of a convex CCW polygon: positive inside, negative outside."""
    best_inside = math.inf
    outside = 0.0
    n = len(polygon)
    for i in range(n):
        x0, y0 = polygon[i]
        x1, y1 = polygon[(i + 1) % n]
        ex, ey = x1 - x0, y1 - y0
        length = math.hypot(ex, ey)
        if length == 0.0:
            continue
        # inward normal of a CCW polygon is (-ey, ex)
        d = ((x - x0) * -ey + (y - y0) * ex) / length
        best_inside = min(best_inside, d)
        if d < 0.0:
            t = max(0.0, min(1.0, ((x - x0) * ex + (y - y0) * ey) / (length * length)))
            px, py = x0 + t * ex, y0 + t * ey
            outside = max(outside, math.hypot(x - px, y - py))
    if best_inside >= 0.0:
        return best_inside
    return -outside


def segment_length_in_polygon(a: Sequence[float], b: Sequence[float], polygon: Sequence[Sequence[float]]) -> float:
    """Length (m) of the 2-D segment a-b inside a polygon (sampled every 5 cm; 0 when it does not cross)."""
    return _segment_inside(
        (float(a[0]), float(a[1]), float(b[0]), float(b[1])), tuple((float(x), float(y)) for x, y in polygon)
    )


@functools.lru_cache(maxsize=1024)
def _segment_inside(segment: tuple[float, float, float, float], polygon: tuple[tuple[float, float], ...]) -> float:
    ax, ay, bx, by = segment
    length = math.hypot(bx - ax, by - ay)
    steps = max(1, math.ceil(length / 0.05))
    inside = 0
    for i in range(steps):
        t = (i + 0.5) / steps
        if _point_in_polygon(ax + t * (bx - ax), ay + t * (by - ay), polygon):
            inside += 1
    return length * inside / steps


def _point_in_polygon(x: float, y: float, polygon: Sequence[Sequence[float]]) -> bool:
    inside = False
    n = len(polygon)
    for i in range(n):
        x0, y0 = float(polygon[i][0]), float(polygon[i][1])
        x1, y1 = float(polygon[(i + 1) % n][0]), float(polygon[(i + 1) % n][1])
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside
