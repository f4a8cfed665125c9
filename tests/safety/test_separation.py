"""Protective separation distance S_p (ISO 10218-2:2025 / ISO/TS 15066 5.5.4) with hand-computed values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from humanoid_trials.model import load_catalog
from humanoid_trials.model.events import SafetyEvent, Severity
from humanoid_trials.model.site import SafetyParams
from humanoid_trials.safety.errors import ResumeRefusedError
from humanoid_trials.safety.separation import (
    SEPARATION_EVENT,
    Person,
    RobotPoint,
    RobotPose,
    SeparationMonitor,
    check_separation,
    envelope_radius_m,
    protective_separation,
)
from humanoid_trials.safety.worker import SimulatedWorker, people_at

DEFAULT = SafetyParams()  # K_h 1.6 m/s, T_r 0.1 s, T_s 0.3 s, C 0.2 m, Z_d 0.05 m, Z_r 0.02 m
T0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


def test_default_params_robot_at_one_metre_per_second() -> None:
    budget = protective_separation(DEFAULT, 1.0)
    # S_h = 1.6 * (0.1 + 0.3) = 0.64; S_r = 1.0 * 0.1 = 0.10; S_s = 1.0 * 0.3 = 0.30
    # C + Z_d + Z_r = 0.20 + 0.05 + 0.02 = 0.27; S_p = 0.64 + 0.10 + 0.30 + 0.27 = 1.31 m
    assert budget.s_h_m == pytest.approx(0.64)
    assert budget.s_r_m == pytest.approx(0.10)
    assert budget.s_s_m == pytest.approx(0.30)
    assert budget.c_m + budget.z_d_m + budget.z_r_m == pytest.approx(0.27)
    assert budget.total_m == pytest.approx(1.31)


def test_robot_standing_still_needs_only_the_human_term_and_margins() -> None:
    # S_p = 1.6 * 0.4 + 0 + 0 + 0.27 = 0.91 m
    assert protective_separation(DEFAULT, 0.0).total_m == pytest.approx(0.91)
    # a negative speed towards the person (moving away) counts as zero
    assert protective_separation(DEFAULT, -0.7).total_m == pytest.approx(0.91)


def test_site_parameters_change_every_term() -> None:
    params = SafetyParams(
        human_speed_m_s=2.0,
        reaction_time_s=0.2,
        stopping_time_s=0.5,
        intrusion_distance_m=0.1,
        sensor_uncertainty_m=0.1,
        robot_uncertainty_m=0.05,
    )
    budget = protective_separation(params, 0.8)
    # S_h = 2.0 * (0.2 + 0.5) = 1.40; S_r = 0.8 * 0.2 = 0.16; S_s = 0.8 * 0.5 = 0.40
    # S_p = 1.40 + 0.16 + 0.40 + 0.10 + 0.10 + 0.05 = 2.21 m
    assert (budget.s_h_m, budget.s_r_m, budget.s_s_m) == pytest.approx((1.40, 0.16, 0.40))
    assert budget.total_m == pytest.approx(2.21)


def test_measured_stopping_distance_replaces_speed_times_stopping_time() -> None:
    # S_p = 0.64 + 1.0 * 0.1 + 0.12 (measured S_s) + 0.27 = 1.13 m
    assert protective_separation(DEFAULT, 1.0, stopping_distance_m=0.12).total_m == pytest.approx(1.13)


def test_faster_measured_approach_replaces_k_h_but_slower_does_not() -> None:
    # person running at 2.0 m/s: S_h = 2.0 * 0.4 = 0.80; S_p = 0.80 + 0.27 = 1.07 m
    assert protective_separation(DEFAULT, 0.0, human_speed_m_s=2.0).total_m == pytest.approx(1.07)
    # person walking at 1.0 m/s: K_h = 1.6 still applies
    assert protective_separation(DEFAULT, 0.0, human_speed_m_s=1.0).s_h_m == pytest.approx(0.64)


def test_robot_velocity_is_projected_onto_the_direction_of_the_person() -> None:
    base = RobotPoint("base", (0.0, 0.0, 0.0), velocity_m_s=(1.5, 0.5, 0.0), radius_m=0.3)
    robot = RobotPose("r1", (base,))
    far = check_separation(DEFAULT, robot, [Person("w", (0.0, 2.0))])
    assert far is not None
    # person straight along +y: v_r = 0.5 m/s; S_p = 0.64 + 0.05 + 0.15 + 0.27 = 1.11 m
    # distance from the base surface = 2.0 - 0.3 = 1.70 m > 1.11 m
    assert far.budget.robot_speed_m_s == pytest.approx(0.5)
    assert far.required_m == pytest.approx(1.11)
    assert far.distance_m == pytest.approx(1.70)
    assert not far.violated
    near = check_separation(DEFAULT, robot, [Person("w", (0.0, 1.3))])
    assert near is not None
    # distance = 1.3 - 0.3 = 1.00 m < 1.11 m
    assert near.distance_m == pytest.approx(1.00)
    assert near.violated


def test_unknown_direction_counts_the_whole_speed_towards_the_person() -> None:
    point = RobotPoint("base", (0.0, 0.0, 0.0), speed_m_s=1.2)
    result = check_separation(DEFAULT, RobotPose("r1", (point,)), [Person("w", (3.0, 4.0))])
    assert result is not None
    # S_p = 0.64 + 1.2 * 0.1 + 1.2 * 0.3 + 0.27 = 0.64 + 0.12 + 0.36 + 0.27 = 1.39 m; distance 5.0 m
    assert result.required_m == pytest.approx(1.39)
    assert result.distance_m == pytest.approx(5.0)


def test_worst_pair_is_the_smallest_margin_not_the_smallest_distance() -> None:
    # hand 1.2 m from the person moving at it with 1.0 m/s: S_p 1.31, margin -0.11
    # base 1.0 m from the person standing still: S_p 0.91, margin +0.09
    hand = RobotPoint("right_tcp", (0.0, 1.2, 1.0), velocity_m_s=(0.0, -1.0, 0.0))
    base = RobotPoint("base", (1.0, 0.0, 0.0), velocity_m_s=(0.0, 0.0, 0.0))
    result = check_separation(DEFAULT, RobotPose("r1", (base, hand)), [Person("w", (0.0, 0.0))])
    assert result is not None
    assert result.point.name == "right_tcp"
    assert result.margin_m == pytest.approx(1.2 - 1.31)


def test_nobody_around_is_no_check() -> None:
    assert check_separation(DEFAULT, RobotPose("r1", (RobotPoint("base", (0, 0, 0)),)), []) is None


def test_monitor_stops_once_holds_and_resumes_only_when_clear() -> None:
    monitor = SeparationMonitor("site-a", DEFAULT, resume_margin_m=0.1)
    still = RobotPoint("base", (5.0, 5.0, 0.0), velocity_m_s=(0.0, 0.0, 0.0), radius_m=0.3)
    robot = RobotPose("r1", (still,))
    other = RobotPose("r2", (RobotPoint("base", (20.0, 5.0, 0.0), velocity_m_s=(0.0, 0.0, 0.0)),))
    worker = SimulatedWorker("worker-1", ((0.0, 5.0), (10.0, 5.0)), speed_m_s=1.0, start_s=0.0)
    events: list[tuple[float, SafetyEvent]] = []
    refused: list[float] = []
    resumed_at: float | None = None
    for step in range(101):  # 0.0 .. 10.0 s every 0.1 s
        t = step / 10.0
        people = people_at([worker], t)
        events += [(t, e) for e in monitor.update([robot, other], people, T0 + timedelta(seconds=t))]
        if "r1" in monitor.held and t >= 5.0 and resumed_at is None:
            try:
                monitor.resume(robot, people)
            except ResumeRefusedError:
                refused.append(t)
            else:
                resumed_at = t
    # robot still: S_p = 1.6 * 0.4 + 0.27 = 0.91 m; distance = (5.0 - x) - 0.3 < 0.91 first at x = 3.8 (t = 3.8 s):
    # 5.0 - 3.8 - 0.3 = 0.90 m
    assert len(events) == 1
    t_stop, event = events[0]
    assert t_stop == pytest.approx(3.8)
    assert (event.type, event.robot_id, event.severity, event.unit) == ("separation", "r1", Severity.WARNING, "m")
    assert (event.measured, event.limit) == pytest.approx((0.90, 0.91))
    assert event.evidence["person_id"] == "worker-1"
    assert event.evidence["v_r_m_s"] == 0.0
    assert event.evidence["S_h_m"] == pytest.approx(0.64)
    assert event.location_m == pytest.approx((3.8, 5.0, 0.0))
    # resume needs 0.91 + 0.1 = 1.01 m: the worker passes and is x - 5.0 - 0.3 >= 1.01 m away from x = 6.31 (t 6.4)
    assert refused[0] == pytest.approx(5.0)
    assert refused[-1] == pytest.approx(6.3)
    assert resumed_at == pytest.approx(6.4)
    assert monitor.held == frozenset()


def test_monitor_reports_again_after_resume_and_refuses_unheld_resume() -> None:
    monitor = SeparationMonitor("site-a", DEFAULT)
    robot = RobotPose("r1", (RobotPoint("base", (0.0, 0.0, 0.0), speed_m_s=0.5),))
    close = [Person("w", (0.5, 0.0))]
    first = monitor.update([robot], close, T0)
    assert [e.type for e in first] == [SEPARATION_EVENT]
    assert monitor.update([robot], close, T0 + timedelta(seconds=1)) == []
    with pytest.raises(ResumeRefusedError, match=r"person 'w' is 0\.50 m away"):
        monitor.resume(robot, close)
    monitor.resume(robot, [])
    assert len(monitor.update([robot], close, T0 + timedelta(seconds=2))) == 1
    with pytest.raises(ResumeRefusedError, match="not held"):
        monitor.resume(RobotPose("r9", ()), [])


def test_touching_distance_is_critical() -> None:
    monitor = SeparationMonitor("site-a", DEFAULT)
    robot = RobotPose("r1", (RobotPoint("base", (0.0, 0.0, 0.0), radius_m=0.4),))
    (event,) = monitor.update([robot], [Person("w", (0.3, 0.0))], T0)
    assert event.measured == 0.0
    assert event.severity is Severity.CRITICAL


def test_envelope_radius_from_bundled_profiles() -> None:
    profiles = load_catalog().profiles
    # rby1-class: footprint corner (0.30, 0.25): sqrt(0.09 + 0.0625) = 0.39051 m, + reach 0.80 m = 1.19051 m
    assert envelope_radius_m(profiles["rby1-class"]) == pytest.approx(0.39051 + 0.80, abs=1e-5)
    # biped-class: no footprint, body radius 0.25 m + reach 0.70 m = 0.95 m
    assert envelope_radius_m(profiles["biped-class"]) == pytest.approx(0.95)


def test_resume_blocker_for_a_robot_not_held_uses_its_current_motion() -> None:
    monitor = SeparationMonitor("site-a", DEFAULT, resume_margin_m=0.1)
    robot = RobotPose("r1", (RobotPoint("base", (0.0, 0.0, 0.0), velocity_m_s=(1.0, 0.0, 0.0)),))
    # person 1.35 m ahead: S_p at 1.0 m/s = 1.31 m, + margin 0.10 m = 1.41 m > 1.35 m -> blocked
    blocker = monitor.resume_blocker(robot, [Person("w", (1.35, 0.0))])
    assert blocker == (
        "robot 'r1' stays stopped: person 'w' is 1.35 m away, resume needs 1.41 m (S_p 1.31 m + margin 0.10 m)"
    )
    assert monitor.resume_blocker(robot, [Person("w", (1.45, 0.0))]) is None
    assert monitor.resume_blocker(robot, []) is None
