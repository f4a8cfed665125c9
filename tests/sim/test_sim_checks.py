"""Scenarios built to fail each check (fixtures/fixture-failures.yaml at fixtures/fixture-cell.yaml): the verdict
names the check and carries the numbers behind it."""

from __future__ import annotations

import pytest

from humanoid_trials.model.validation import Check, Reason, RobotVerdict, Verdict


def _reason(verdict: RobotVerdict, check: Check) -> Reason:
    found = [r for r in verdict.reasons if r.check == check and r.verdict == Verdict.FAIL]
    assert found, f"no failing {check.value} reason in {[r.message for r in verdict.reasons]}"
    return found[0]


def test_unreachable_target(fixture_verdicts: dict[str, RobotVerdict]) -> None:
    verdict = fixture_verdicts["unreachable"]
    assert verdict.verdict == Verdict.FAIL
    reason = _reason(verdict, Check.REACH)
    assert reason.value("miss_mm") > 5.0
    assert reason.value("target_distance_m") > reason.value("reach_m") == 0.80
    assert f"target {reason.value('target_distance_m'):.2f} m from the shoulder, reach 0.80 m" in reason.message
    assert "hand misses 'approach box on far_shelf' by" in reason.message


def test_collision_with_the_environment(fixture_verdicts: dict[str, RobotVerdict]) -> None:
    verdict = fixture_verdicts["collision"]
    reason = next(r for r in verdict.reasons if r.check == Check.COLLISION and "base_link hits crate" in r.message)
    assert reason.verdict == Verdict.FAIL
    # the crate's near face is 0.30 m in front of the station, the base reaches 0.31 m + 0.30 m of crate depth
    assert reason.value("penetration_mm") == pytest.approx(383.0, abs=2.0)
    assert "during 'arrive at blocked_cell'" in reason.message
    assert verdict.min_obstacle_clearance_m < -0.3


def test_overload(fixture_verdicts: dict[str, RobotVerdict]) -> None:
    reason = _reason(fixture_verdicts["overload"], Check.PAYLOAD)
    assert reason.value("payload_kg") == 8.0 and reason.value("limit_kg") == 3.0
    assert reason.message == "payload 8.0 kg for one arm exceeds the robot's 3.0 kg"


def test_imbalance(fixture_verdicts: dict[str, RobotVerdict]) -> None:
    verdict = fixture_verdicts["imbalance"]
    reason = _reason(verdict, Check.BALANCE)
    assert reason.value("margin_m") < 0.0
    assert verdict.balance_margin_m == pytest.approx(reason.value("margin_m"), abs=1e-4)
    assert "outside the support polygon at 'hold the button on panel'" in reason.message
    torque = _reason(verdict, Check.TORQUE)  # 600 N on the hand also overloads the arm
    assert torque.value("torque_nm") > torque.value("limit_nm")


def test_human_zone_entry(fixture_verdicts: dict[str, RobotVerdict]) -> None:
    verdict = fixture_verdicts["human_zone"]
    reason = _reason(verdict, Check.HUMAN_ZONE)
    assert reason.value("separation_m") < 0.0
    assert reason.value("min_clearance_m") == 0.10
    assert "enters human zone reach_in_zone" in reason.message
    assert verdict.min_human_separation_m == pytest.approx(reason.value("separation_m"), abs=1e-4)


def test_cycle_over_takt(fixture_verdicts: dict[str, RobotVerdict]) -> None:
    verdict = fixture_verdicts["over_takt"]
    reason = _reason(verdict, Check.CYCLE_TIME)
    assert reason.value("takt_s") == 60.0
    assert reason.value("cycle_s") > 6 * 12.0  # six fasteners dwelling 12 s each
    assert verdict.estimated_cycle_s == pytest.approx(reason.value("cycle_s"), abs=1e-3)
    assert [r.check for r in verdict.reasons if r.verdict == Verdict.FAIL] == [Check.CYCLE_TIME]


def test_a_feasible_task_passes_with_its_numbers(fixture_verdicts: dict[str, RobotVerdict]) -> None:
    verdict = fixture_verdicts["fine"]
    assert verdict.verdict == Verdict.PASS
    assert verdict.ik_residual_mm <= 5.0
    assert 0.0 < verdict.estimated_cycle_s < 60.0
    assert 0.0 < verdict.max_torque_ratio <= 0.8
    assert verdict.balance_margin_m > 0.02
    assert verdict.min_human_separation_m is not None and verdict.min_human_separation_m > 0.1
