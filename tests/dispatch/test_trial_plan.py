"""Trial plans from the domain model: demands, geometry, dependencies, validation restriction, JSON round trip."""

from __future__ import annotations

import json
import math

import pytest
from dispatch_builders import TRIAL_ID, at, make_profile, make_scenario, make_site, pick, plan_of

from humanoid_trials.dispatch.errors import PlanError
from humanoid_trials.dispatch.plan import TrialPlan, reach_points
from humanoid_trials.dispatch.trial import RepState, TrialMachine
from humanoid_trials.model import load_catalog
from humanoid_trials.model.site import SiteObject
from humanoid_trials.model.validation import Check, Reason, RobotVerdict, TaskVerdict, ValidationReport, Verdict


def test_every_bundled_scenario_plans_and_round_trips() -> None:
    catalog = load_catalog()
    assert catalog.scenarios
    for scenario in catalog.scenarios.values():
        plan = TrialPlan.build(scenario, catalog.sites[scenario.site], catalog.profiles, trial_id=TRIAL_ID)
        assert [t.id for t in plan.tasks] == [t.id for t in scenario.tasks]
        assert TrialPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
        # the pre-check must not reject what the bundled data was written for: every task has a capable robot
        machine = TrialMachine(plan)
        machine.start(at(0))
        failed = [r for r in machine.state_view().repetitions if r.state == RepState.FAILED.value]
        assert failed == [], f"{scenario.id}: {failed}"


def test_demand_of_pick_and_carry() -> None:
    carry = {"id": "move", "type": "carry", "params": {
        "tote": {"name": "tote", "mass_kg": 5.0, "size_m": [0.6, 0.4, 0.3]}, "from_station": "b", "to_station": "c"}}
    plan = plan_of([pick("p", source="table_b", target="table_c", mass=1.5, robots=["r2"]), carry])
    p, c = plan.tasks
    assert (p.demand.station_id, p.demand.station_xy_m, p.end_station, p.end_xy_m) == ("b", (10.0, 0.0), "c",
                                                                                         (0.0, 10.0))
    assert (p.demand.payload_kg, p.demand.two_handed, p.demand.allowed_robots) == (1.5, False, frozenset({"r2"}))
    # station b at (10, 0), table_b centred at (10.6, 0), 0.6 m deep: nearest edge 0.3 m away, top 0.75 m high
    assert [(r.object_id, r.horizontal_m, r.height_m) for r in p.demand.reach_points] == [
        ("table_b", pytest.approx(0.3), pytest.approx(0.75)), ("table_c", pytest.approx(0.3), pytest.approx(0.75))]
    assert (c.demand.station_id, c.end_station, c.demand.payload_kg, c.demand.two_handed) == ("b", "c", 5.0, True)
    assert c.demand.reach_points == () and c.demand.allowed_robots is None


def test_reach_points_use_offsets_in_the_rotated_object_frame() -> None:
    panel = SiteObject.model_validate({"id": "panel", "kind": "panel", "station": "a",
                                       "pose": {"x_m": 1.0, "y_m": 0.0, "z_m": 0.5, "yaw_deg": 90},
                                       "size_m": [0.2, 0.4, 0.5]}, strict=False)
    scenario = make_scenario([{"id": "push", "type": "press",
                               "params": {"panel": "panel", "button_m": [0.3, 0.0, 0.1], "force_n": 20}}])
    (point,) = reach_points(scenario.tasks[0], panel, (0.0, 0.0))
    # yaw 90°: object x is site y -> button at (1.0, 0.3), top at 1.0 m, +0.1 m
    assert point.horizontal_m == pytest.approx(math.hypot(1.0, 0.3))
    assert point.height_m == pytest.approx(1.1)
    # without offsets: nearest point of the rotated top; object y (0.4 m) lies along site x: edge at 1.0 - 0.2
    (near,) = reach_points(make_scenario([pick("p")]).tasks[0], panel, (0.0, 0.0))
    assert near.horizontal_m == pytest.approx(0.8)
    (side,) = reach_points(make_scenario([pick("p")]).tasks[0], panel, (1.0, 1.0))
    assert side.horizontal_m == pytest.approx(0.9)  # object x (0.2 m) along site y: edge at 0.1


def test_plan_errors() -> None:
    site = make_site([("r1", "std", "a")])
    profiles = {"std": make_profile("std")}
    cyclic = make_scenario([pick("x", depends_on=["y"]), pick("y", depends_on=["x"])])
    with pytest.raises(PlanError, match="dependency cycle x -> y -> x"):
        TrialPlan.build(cyclic, site, profiles)
    with pytest.raises(PlanError, match="unknown profile 'std'"):
        TrialPlan.build(make_scenario([pick("x")]), site, {})
    with pytest.raises(PlanError, match="has no object 'nowhere'"):
        TrialPlan.build(make_scenario([pick("x", source="nowhere")]), site, profiles)
    with pytest.raises(PlanError, match="is for site 'test-site', not 'other'"):
        TrialPlan.build(make_scenario([pick("x")]), make_site([("r1", "std", "a")], site_id="other"), profiles)


def report(verdicts: list[TaskVerdict]) -> ValidationReport:
    return ValidationReport(scenario_id="test-scenario", site_id="test-site", content_hash="ab" * 32,
                            verdict=Verdict.worst(v.verdict for v in verdicts), tasks=tuple(verdicts),
                            software_version="test", pybullet_version="3.2.7")


def robot_verdict(robot_id: str, verdict: Verdict, message: str = "") -> RobotVerdict:
    reasons = (Reason(Check.REACH, verdict, message),) if message else ()
    return RobotVerdict(robot_id=robot_id, profile_id="std", verdict=verdict, reasons=reasons)


def test_validation_narrows_the_robots() -> None:
    site = make_site([("r1", "std", "a"), ("r2", "std", "a")])
    profiles = {"std": make_profile("std")}
    scenario = make_scenario([pick("x"), pick("y")])
    r1_fails = TaskVerdict.combine("x", "pick_place", 60.0, [
        robot_verdict("r1", Verdict.FAIL, "target 1.2 m away, reach 0.8 m"), robot_verdict("r2", Verdict.PASS)])
    both_fail = TaskVerdict.combine("y", "pick_place", 60.0, [
        robot_verdict("r1", Verdict.FAIL, "collision with table_a"), robot_verdict("r2", Verdict.FAIL)])
    plan = TrialPlan.build(scenario, site, profiles, trial_id=TRIAL_ID, validation=report([r1_fails, both_fail]))
    x, y = plan.tasks
    assert x.demand.allowed_robots == frozenset({"r2"})
    assert y.demand.allowed_robots == frozenset()
    machine = TrialMachine(plan)
    sent = machine.start(at(0))
    assert [(c.task_id, c.robot_id) for c in sent] == [("x", "r2")]
    assert machine.rep_state("y", 1) is RepState.FAILED
    (view,) = [r for r in machine.state_view().repetitions if r.task_id == "y"]
    assert view.reason == "unassignable: no robot may take it: pre-validation failed for r1 (collision with " \
        "table_a); r2"
    with pytest.raises(PlanError, match="validation is for scenario"):
        TrialPlan.build(make_scenario([pick("x")]).model_copy(update={"id": "other"}), site, profiles,
                        validation=report([r1_fails]))


def test_plan_lists_tasks_no_robot_can_take() -> None:
    plan = plan_of([pick("ok"), pick("heavy", mass=9.0), {"id": "screw", "type": "fasten", "params": {
        "fixture": "table_a", "points_m": [[0.0, 0.0, 0.0]], "tool_mass_kg": 1.0, "torque_nm": 5.0}}],
        profiles={"std": make_profile("std", capabilities=["pick_place"])})
    assert {(u.task_key, u.reason, u.permanent) for u in plan.unassignable()} == {
        ("heavy", "needs payload 9.0 kg (one arm); largest on site 3.0 kg (r1)", True),
        ("screw", "no deployed robot has capability 'fasten'", True),
    }
    machine = TrialMachine(plan)
    machine.start(at(0))
    assert (machine.rep_state("heavy", 1), machine.rep_state("screw", 1)) == (RepState.FAILED, RepState.FAILED)
