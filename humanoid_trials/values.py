"""Shared value types of every layer: the frozen base class and annotated unit types (m, kg, s, N, degrees)."""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

Identifier = Annotated[
    str,
    Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"),
]
"""An id: letters, digits, `_`, `-`, `.`; starts with a letter or digit."""

Text = Annotated[str, Field(min_length=1)]
Mass = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
"""kg"""
PositiveMass = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
"""kg"""
Length = Annotated[float, Field(allow_inf_nan=False)]
"""m (signed: coordinates, offsets)"""
PositiveLength = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
"""m"""
NonNegative = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Angle = Annotated[float, Field(ge=-360.0, le=360.0, allow_inf_nan=False)]
"""degrees"""
Vec3 = tuple[Length, Length, Length]
"""(x, y, z) in m"""
Size3 = tuple[PositiveLength, PositiveLength, PositiveLength]
"""(x, y, z) extent in m"""
Point2 = tuple[Length, Length]
"""(x, y) in m"""

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{value!r} is listed twice")
        seen.add(value)
    return values


UniqueIds = Annotated[tuple[Identifier, ...], AfterValidator(_unique)]


class Frozen(BaseModel):
    """Base of every domain value: immutable, strict types, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


def polygon_area(points: tuple[Point2, ...]) -> float:
    """Signed area of a polygon (m²), shoelace formula; positive when counter-clockwise."""
    total = 0.0
    for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1], strict=True):
        total += x0 * y1 - x1 * y0
    return total / 2.0


def point_in_polygon(x: float, y: float, points: tuple[Point2, ...]) -> bool:
    """Even-odd rule test of a point (m) against a polygon (m), both in the same frame."""
    inside = False
    n = len(points)
    for i in range(n):
        x0, y0 = points[i]
        x1, y1 = points[(i + 1) % n]
        if (y0 > y) != (y1 > y):
            cross = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
            if x < cross:
                inside = not inside
    return inside


def deg2rad(value: float) -> float:
    return math.radians(value)
