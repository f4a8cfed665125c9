"""ValidationReport: combining per-robot verdicts, JSON round trip, fingerprint."""

from __future__ import annotations

from dataclasses import replace

from humanoid_trials.model.validation import Check, Reason, RobotVerdict, TaskVerdict, ValidationReport, Verdict


def _robot(robot_id: str, verdict: Verdict, cycle: float = 10.0) -> RobotVerdict:
    reasons = (
        ()
        if verdict == Verdict.PASS
        else (Reason(Check.REACH, verdict, "right hand misses 'grasp' by 42 mm", (("miss_mm", 42.0),)),)
    )
    return RobotVerdict(
        robot_id,
        "rby1-class",
        verdict,
        arm="right",
        estimated_cycle_s=cycle,
        min_human_separation_m=None if robot_id == "b" else 0.5,
        reasons=reasons,
    )


def test_task_fails_only_when_no_robot_can_do_it() -> None:
    both_fail = TaskVerdict.combine("t", "pick_place", 60.0, [_robot("a", Verdict.FAIL), _robot("b", Verdict.FAIL)])
    assert both_fail.verdict == Verdict.FAIL and both_fail.feasible_robots == ()
    one_fails = TaskVerdict.combine("t", "pick_place", 60.0, [_robot("a", Verdict.FAIL), _robot("b", Verdict.PASS, 7)])
    assert one_fails.verdict == Verdict.WARN and one_fails.feasible_robots == ("b",)
    assert one_fails.estimated_cycle_s == 7
    all_pass = TaskVerdict.combine(
        "t", "pick_place", 60.0, [_robot("a", Verdict.PASS, 5), _robot("b", Verdict.PASS, 9)]
    )
    assert all_pass.verdict == Verdict.PASS and all_pass.estimated_cycle_s == 9
    assert all_pass.min_human_separation_m == 0.5  # robot b measured none


def test_json_round_trip_and_fingerprint() -> None:
    task = TaskVerdict.combine("t", "pick_place", 60.0, [_robot("a", Verdict.FAIL), _robot("b", Verdict.PASS)])
    report = ValidationReport(
        "s",
        "site",
        "ab" * 32,
        Verdict.WARN,
        (task,),
        "0.1.0",
        "3.2.7",
        created_at="2026-11-25T01:00:00+00:00",
        wall_time_s=1.5,
    )
    again = ValidationReport.from_json(report.to_json())
    assert again == report
    assert again.task("t").robot("a").reasons[0].value("miss_mm") == 42.0
    later = replace(report, created_at="2026-11-26T01:00:00+00:00", wall_time_s=9.0, workers=2, executor="ray")
    assert later.fingerprint() == report.fingerprint()
    changed = replace(report, tasks=(replace(task, estimated_cycle_s=task.estimated_cycle_s + 1e-9),))
    assert changed.fingerprint() != report.fingerprint()
    assert report.passed and not replace(report, verdict=Verdict.FAIL).passed
