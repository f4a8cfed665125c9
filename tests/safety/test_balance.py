"""Falls and loss of balance: tilt, CoM outside the support polygon, height drop."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from humanoid_trials.model.events import Severity
from humanoid_trials.model.site import SafetyParams
from humanoid_trials.safety.balance import (
    COM_EVENT,
    DROP_EVENT,
    TILT_EVENT,
    BalanceLimits,
    BalanceMonitor,
    BalanceSample,
    fall_reason,
    footprint_in_site,
    support_margin,
    tilt_from_quaternion,
)

T0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
RBY1_FOOTPRINT = ((0.3, 0.25), (0.3, -0.25), (-0.3, -0.25), (-0.3, 0.25))


def monitor() -> BalanceMonitor:
    return BalanceMonitor("site-a", BalanceLimits.from_site(SafetyParams()))  # max tilt 10 deg


def test_tilt_from_quaternion() -> None:
    half = math.radians(15.0) / 2
    # 15 deg about x, about y, and about an axis in the floor plane: all 15 deg from upright
    assert math.degrees(tilt_from_quaternion(math.sin(half), 0.0, 0.0, math.cos(half))) == pytest.approx(15.0)
    assert math.degrees(tilt_from_quaternion(0.0, math.sin(half), 0.0, math.cos(half))) == pytest.approx(15.0)
    s = math.sin(half) / math.sqrt(2)
    assert math.degrees(tilt_from_quaternion(s, s, 0.0, math.cos(half))) == pytest.approx(15.0)
    # a pure yaw is no tilt
    assert tilt_from_quaternion(0.0, 0.0, math.sin(0.6), math.cos(0.6)) == pytest.approx(0.0)


def test_tilt_over_the_site_limit_is_critical_once() -> None:
    m = monitor()
    assert m.update(BalanceSample("r1", 0.0, math.radians(9.0)), T0) == []
    (event,) = m.update(BalanceSample("r1", 0.1, math.radians(15.0), location_m=(2.0, 3.0, 0.0)), T0)
    assert (event.type, event.severity, event.unit) == (TILT_EVENT, Severity.CRITICAL, "deg")
    assert (event.measured, event.limit) == pytest.approx((15.0, 10.0))
    assert event.location_m == (2.0, 3.0, 0.0)
    assert fall_reason(event) == "robot fell: base tilt 15.0 deg over the 10.0 deg limit"
    assert m.update(BalanceSample("r1", 0.2, math.radians(40.0)), T0) == []
    m.reset("r1")
    assert len(m.update(BalanceSample("r1", 0.3, math.radians(40.0)), T0)) == 1


def test_footprint_placed_in_site_frame_and_margins() -> None:
    polygon = footprint_in_site(RBY1_FOOTPRINT, 2.0, 3.0, math.pi / 2)
    # yaw 90 deg: (px, py) -> (2 - py, 3 + px)
    flat = [c for point in polygon for c in point]
    assert flat == pytest.approx([1.75, 3.3, 2.25, 3.3, 2.25, 2.7, 1.75, 2.7])
    assert support_margin((2.0, 3.0), polygon) == pytest.approx(0.25)
    assert support_margin((2.4, 3.0), polygon) == pytest.approx(-0.15)
    assert support_margin((2.25, 3.5), polygon) == pytest.approx(-0.2)


def test_com_outside_support_must_last_before_it_counts() -> None:
    m = monitor()  # com_outside_min_s 0.2 s
    polygon = footprint_in_site(RBY1_FOOTPRINT, 2.0, 3.0, math.pi / 2)

    def sample(t: float, com: tuple[float, float]) -> BalanceSample:
        return BalanceSample("r1", t, 0.0, com_xy_m=com, support_m=polygon)

    # a brief excursion (0.1 s) and back inside: nothing
    assert m.update(sample(0.0, (2.4, 3.0)), T0) == []
    assert m.update(sample(0.1, (2.4, 3.0)), T0) == []
    assert m.update(sample(0.2, (2.0, 3.0)), T0) == []
    # outside from t = 0.3 s; at 0.45 s only 0.15 s; at 0.55 s 0.25 s >= 0.2 s -> event, 0.15 m outside
    assert m.update(sample(0.3, (2.4, 3.0)), T0) == []
    assert m.update(sample(0.45, (2.4, 3.0)), T0) == []
    (event,) = m.update(sample(0.55, (2.4, 3.0)), T0)
    assert (event.type, event.unit) == (COM_EVENT, "m")
    assert (event.measured, event.limit) == pytest.approx((-0.15, 0.0))
    assert event.evidence["outside_for_s"] == pytest.approx(0.25)
    assert fall_reason(event) == (
        "robot lost balance: centre of mass 0.150 m outside its support polygon (allowed 0.000 m)"
    )


def test_fast_height_drop_is_a_fall() -> None:
    m = monitor()  # max drop speed 1.0 m/s
    assert m.update(BalanceSample("r1", 0.0, 0.0, base_z_m=0.93), T0) == []
    assert m.update(BalanceSample("r1", 0.1, 0.0, base_z_m=0.90), T0) == []  # 0.3 m/s
    (event,) = m.update(BalanceSample("r1", 0.2, 0.0, base_z_m=0.70), T0)  # (0.90 - 0.70) / 0.1 = 2.0 m/s
    assert (event.type, event.unit) == (DROP_EVENT, "m/s")
    assert (event.measured, event.limit) == pytest.approx((2.0, 1.0))
    assert fall_reason(event) == "robot fell: base dropped 2.00 m/s (limit 1.00 m/s)"


def test_large_drop_within_the_window_is_a_fall_but_a_slow_squat_is_not() -> None:
    m = monitor()  # max drop 0.25 m within 0.5 s
    # squat: 0.025 m per 0.1 s (0.25 m/s) for 1.4 s = 0.35 m in total, at most 0.125 m within any 0.5 s
    for step in range(15):
        assert m.update(BalanceSample("r1", step / 10, 0.0, base_z_m=0.93 - 0.025 * step), T0) == []
    # sag: 0.09 m per 0.1 s (0.9 m/s, under the speed limit); 0.93 -> 0.84 -> 0.75 -> 0.66: 0.27 m > 0.25 m
    m2 = monitor()
    heights = [0.93, 0.84, 0.75, 0.66]
    events = [m2.update(BalanceSample("r2", i / 10, 0.0, base_z_m=z), T0) for i, z in enumerate(heights)]
    assert events[:3] == [[], [], []]
    (event,) = events[3]
    assert (event.type, event.unit) == (DROP_EVENT, "m")
    assert (event.measured, event.limit) == pytest.approx((0.27, 0.25))


def test_unknown_values_are_not_checked() -> None:
    assert monitor().update(BalanceSample("r1", 0.0, 0.0), T0) == []
