"""Small statistics used by reports: Wilson score interval and percentile interpolation (pure functions)."""

from __future__ import annotations

import math

Z_95 = 1.959963984540054
"""Two-sided 95 % standard normal quantile."""


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion; (0, 1) when there are no trials."""
    if trials <= 0:
        return 0.0, 1.0
    if not 0 <= successes <= trials:
        raise ValueError(f"successes={successes} must be within 0..trials={trials}")
    p = successes / trials
    z2 = z * z
    denom = 1.0 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def percentile_rank(count: int, percent: int) -> tuple[int, float]:
    """Where the `percent`-th percentile of `count` sorted values lies (linear interpolation, numpy's default):
    the 0-based index of the lower neighbour and the fraction towards the next one. Integer arithmetic, as in SQL."""
    position = (count - 1) * percent
    return position // 100, (position % 100) / 100.0


def interpolate(lower: float | None, upper: float | None, fraction: float) -> float | None:
    """Value between two neighbouring sorted values; `upper` may be None at the end of the data."""
    if lower is None:
        return None
    if upper is None or fraction == 0.0:
        return lower
    return lower + fraction * (upper - lower)


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, None when the denominator is zero (a rate that is not defined)."""
    return numerator / denominator if denominator else None
