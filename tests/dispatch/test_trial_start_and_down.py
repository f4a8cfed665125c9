"""TrialMachine.start's trial info (the store's TrialInfo payload) and robot_down (robot fault or fall)."""

from __future__ import annotations

import json

import pytest
from dispatch_builders import TRIAL_ID, at, make_profile, pick, plan_of

from humanoid_trials.dispatch.errors import TrialStateError
from humanoid_trials.dispatch.trial import CancelGoal, Command, Phase, RepState, SendGoal, TrialMachine
from humanoid_trials.model.events import Attempt, EventKind, Outcome, TrialEvent, TrialInfo

FELL = "robot fell: base tilt 35.0 deg over the 10.0 deg limit"
PROFILES = {"std": make_profile("std"), "big": make_profile("big", per_arm=10.0, total=20.0)}
ROBOTS = (("r1", "std", "a"), ("r2", "big", "b"))


def sends(commands: list[Command]) -> list[SendGoal]:
    return [c for c in commands if isinstance(c, SendGoal)]


def cancels(commands: list[Command]) -> list[CancelGoal]:
    return [c for c in commands if isinstance(c, CancelGoal)]


def events(machine: TrialMachine, kind: EventKind) -> list[TrialEvent]:
    return [e for e in machine.pending_events() if e.kind is kind]


def attempts(machine: TrialMachine) -> list[Attempt]:
    return [Attempt.from_payload(e.payload) for e in events(machine, EventKind.ATTEMPT_FINISHED)]


def started_machine() -> tuple[TrialMachine, list[Command]]:
    m = TrialMachine(plan_of([pick("a", repetitions=2), pick("b", source="table_b")], robots=ROBOTS,
                             profiles=PROFILES, time_limit_s=900.0))
    out = m.start(at(0), mode="field", scenario_hash="c0ffee", operator="kim", software_version="0.3.1")
    return m, out


def test_trial_started_payload_is_trial_info_plus_extras() -> None:
    m, _ = started_machine()
    (event,) = events(m, EventKind.TRIAL_STARTED)
    assert event.stamp == at(0)
    # as the recorder and the store see it: through JSON, then TrialInfo.from_payload
    payload = TrialEvent.from_json(event.to_json()).payload
    info = TrialInfo.from_payload(payload)
    assert info == TrialInfo(
        trial_id=TRIAL_ID, site_id="test-site", scenario_id="test-scenario", scenario_hash="c0ffee", mode="field",
        software_version="0.3.1", operator="kim", robots={"r1": "std", "r2": "big"}, started_at=at(0),
    )
    assert info.to_payload() == {k: v for k, v in payload.items() if k in info.to_payload()}
    assert info == m.info
    assert payload["time_limit_s"] == 900.0
    assert payload["repetitions"] == 3
    assert payload["tasks"] == ["a", "b"]
    assert payload["robot_ids"] == ["r1", "r2"]


def test_start_defaults_to_sim_and_rejects_an_unknown_mode() -> None:
    m = TrialMachine(plan_of([pick("t")]))
    with pytest.raises(TrialStateError, match="unknown mode 'lab'"):
        m.start(at(0), mode="lab")
    assert m.phase is Phase.CREATED and m.info is None and m.pending_events() == []
    m.start(at(0))
    (event,) = events(m, EventKind.TRIAL_STARTED)
    info = TrialInfo.from_payload(event.payload)
    assert (info.mode, info.scenario_hash, info.operator, info.software_version) == ("sim", "", "", "")


def test_trial_info_survives_snapshot_and_restore() -> None:
    m, _ = started_machine()
    restored = TrialMachine.restore(json.loads(json.dumps(m.snapshot())))
    assert restored.info == m.info
    assert restored.snapshot() == m.snapshot()
    # a snapshot from before start() had no trial info: restore still works, and start() then adds it
    fresh = TrialMachine(plan_of([pick("t")]))
    legacy = fresh.snapshot()
    del legacy["info"]
    again = TrialMachine.restore(legacy)
    assert again.info is None
    again.start(at(1), operator="lee")
    assert again.info is not None and again.info.operator == "lee"


def test_robot_down_fails_the_attempt_without_using_a_retry_and_reassigns() -> None:
    m = TrialMachine(plan_of([pick("t", max_retries=0)], robots=ROBOTS, profiles=PROFILES))
    (g1,) = sends(m.start(at(0)))
    assert g1.robot_id == "r1"
    m.goal_accepted(g1.goal_id, at(1))
    m.new_events()
    out = m.robot_down("r1", at(3), FELL)
    assert cancels(out) == [CancelGoal(g1.goal_id, "t", 1, 1, "r1", FELL)]
    (g2,) = sends(out)  # max_retries 0, yet a second attempt: the fall is not the task's fault
    assert (g2.robot_id, g2.attempt) == ("r2", 2)
    (down,) = events(m, EventKind.ROBOT_LOST)
    assert down.payload == {"robot_id": "r1", "reason": FELL, "down": True, "task_id": "t", "repetition": 1,
                            "attempt": 1}
    (a1,) = attempts(m)
    assert (a1.outcome, a1.robot_id, a1.reason, a1.attempt_no) == (Outcome.FAILED, "r1", FELL, 1)
    assert a1.cycle_time_s == pytest.approx(2.0)
    kinds = [e.kind for e in m.new_events()]
    assert kinds == [EventKind.ROBOT_LOST, EventKind.ATTEMPT_FINISHED, EventKind.TASK_ASSIGNED]
    view = {r["robot_id"]: r for r in m.state_view().robots}
    assert view["r1"]["lost"] and view["r1"]["down_reason"] == FELL
    # more balance events of the same fall, or a heartbeat loss, change nothing
    assert m.robot_down("r1", at(4), "robot fell: base dropped 0.40 m (limit 0.25 m)") == []
    assert m.robot_lost("r1", at(4)) == []
    assert m.new_events() == []
    # a real failure of the new attempt does use the retry
    m.result(g2.goal_id, False, "part slipped", at(20))
    assert m.rep_state("t", 1) is RepState.FAILED
    assert m.finished


def test_down_robot_gets_no_work_until_back() -> None:
    m = TrialMachine(plan_of([pick("t", repetitions=2)], robots=[("r1", "std", "a")]))
    (g1,) = sends(m.start(at(0)))
    assert sends(m.robot_down("r1", at(2), "robot fault")) == []
    (waiting,) = events(m, EventKind.TASK_UNASSIGNABLE)
    assert waiting.payload == {"task_id": "t", "reason": "no capable robot available: r1 down: robot fault",
                               "permanent": False}
    assert m.tick(at(3)) == [] and m.resume("r1", at(3)) == []
    # a late result of the cancelled goal is ignored
    assert m.result(g1.goal_id, True, "", at(4)) == []
    # the down state survives a journal round trip
    m = TrialMachine.restore(json.loads(json.dumps(m.snapshot())))
    assert {r["robot_id"]: r["down_reason"] for r in m.state_view().robots} == {"r1": "robot fault"}
    (g2,) = sends(m.robot_back("r1", at(10)))
    assert (g2.task_id, g2.repetition, g2.attempt) == ("t", 1, 2)
    assert events(m, EventKind.ROBOT_RECOVERED)[0].payload == {"robot_id": "r1"}
    assert m.state_view().robots[0]["down_reason"] == ""


def test_robot_down_while_idle_and_blank_reason() -> None:
    m = TrialMachine(plan_of([pick("t")], robots=ROBOTS, profiles=PROFILES))
    (g1,) = sends(m.start(at(0)))
    assert g1.robot_id == "r1"
    assert m.robot_down("r2", at(1), "  ") == []
    (down,) = events(m, EventKind.ROBOT_LOST)
    assert down.payload == {"robot_id": "r2", "reason": "robot down", "down": True}
    assert attempts(m) == []
    assert m.rep_state("t", 1) is RepState.ASSIGNED
