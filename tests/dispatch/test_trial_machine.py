"""The trial state machine: order, retries, timeouts, robot loss, stop, time limit, outbox and snapshots."""

from __future__ import annotations

import json
from typing import Any

import pytest
from dispatch_builders import at, make_profile, pick, plan_of

from humanoid_trials.dispatch.errors import SnapshotError, TrialStateError, UnknownGoalError, UnknownRobotError
from humanoid_trials.dispatch.trial import CancelGoal, Command, RepState, SendGoal, TrialMachine
from humanoid_trials.model.events import Attempt, EventKind, Outcome, TrialEvent


def sends(commands: list[Command]) -> list[SendGoal]:
    return [c for c in commands if isinstance(c, SendGoal)]


def cancels(commands: list[Command]) -> list[CancelGoal]:
    return [c for c in commands if isinstance(c, CancelGoal)]


def events(machine: TrialMachine, kind: EventKind) -> list[TrialEvent]:
    return [e for e in machine.pending_events() if e.kind is kind]


def attempts(machine: TrialMachine) -> list[Attempt]:
    return [Attempt.from_payload(e.payload) for e in events(machine, EventKind.ATTEMPT_FINISHED)]


def test_depends_on_waits_for_every_repetition() -> None:
    plan = plan_of([pick("first", repetitions=2), pick("second", source="table_b", target="table_b",
                                                             depends_on=["first"])])
    m = TrialMachine(plan)
    out = sends(m.start(at(0)))
    assert sorted((s.task_id, s.repetition, s.attempt) for s in out) == [("first", 1, 1), ("first", 2, 1)]
    assert {s.robot_id for s in out} == {"r1", "r2"}  # both robots idle: one repetition each
    for s in out:
        assert m.goal_accepted(s.goal_id, at(1)) == []
    assert m.rep_state("first", 1) is RepState.UNDERWAY
    assert sends(m.result(out[0].goal_id, True, "", at(10))) == []  # second still waits for first#2
    assert m.rep_state("second", 1) is RepState.QUEUED
    nxt = sends(m.result(out[1].goal_id, True, "", at(12)))
    assert [(s.task_id, s.repetition) for s in nxt] == [("second", 1)]
    m.result(nxt[0].goal_id, True, "", at(30))
    assert m.finished and m.finish_reason == "complete"
    (done,) = events(m, EventKind.TRIAL_FINISHED)
    assert done.payload["counts"]["done"] == 3
    cycle = {(a.task_id, a.attempt_no): a.cycle_time_s for a in attempts(m)}
    assert cycle[("second", 1)] == pytest.approx(18.0)  # assigned at 12, no accept message: from assignment


def test_travel_cost_picks_the_nearer_robot() -> None:
    m = TrialMachine(plan_of([pick("at_b", source="table_b", target="table_b")]))
    (goal,) = sends(m.start(at(0)))
    assert goal.robot_id == "r2"
    (assigned,) = events(m, EventKind.TASK_ASSIGNED)
    assert assigned.payload["travel_s"] == pytest.approx(0.0)


def test_retries_then_failure_cancels_dependants() -> None:
    plan = plan_of([pick("flaky", max_retries=1), pick("after", depends_on=["flaky"])], robots=[("r1", "std", "a")])
    m = TrialMachine(plan)
    (g1,) = sends(m.start(at(0)))
    m.goal_accepted(g1.goal_id, at(1))
    (g2,) = sends(m.result(g1.goal_id, False, "part slipped", at(5)))
    assert (g2.task_id, g2.attempt) == ("flaky", 2)
    assert g2.goal_id != g1.goal_id
    assert sends(m.result(g2.goal_id, False, "part slipped again", at(9))) == []
    assert m.rep_state("flaky", 1) is RepState.FAILED
    assert m.rep_state("after", 1) is RepState.CANCELLED
    assert m.finished
    outcomes = [(a.attempt_no, a.outcome, a.reason) for a in attempts(m)]
    assert outcomes == [(1, Outcome.FAILED, "part slipped"), (2, Outcome.FAILED, "part slipped again")]
    (orphan,) = events(m, EventKind.TASK_UNASSIGNABLE)
    assert orphan.payload["reason"] == "dependency 'flaky' did not complete"
    view = {(r.task_id, r.repetition): r for r in m.state_view().repetitions}
    assert view[("flaky", 1)].reason == "part slipped again (failed 2 times; max_retries 1)"


def test_rejected_goal_counts_as_failure() -> None:
    m = TrialMachine(plan_of([pick("t", max_retries=0)], robots=[("r1", "std", "a")]))
    (g,) = sends(m.start(at(0)))
    m.goal_rejected(g.goal_id, "busy", at(1))
    assert m.rep_state("t", 1) is RepState.FAILED
    assert attempts(m)[0].reason == "goal rejected: busy"


def test_timeout_cancels_and_retries_and_pauses_in_protective_stop() -> None:
    m = TrialMachine(plan_of([pick("t", timeout_s=30, max_retries=1)], robots=[("r1", "std", "a")]))
    (g1,) = sends(m.start(at(0)))
    m.goal_accepted(g1.goal_id, at(1))
    assert m.tick(at(29)) == []
    out = m.tick(at(30))
    assert cancels(out) == [CancelGoal(g1.goal_id, "t", 1, 1, "r1", "timeout after 30 s")]
    (g2,) = sends(out)
    assert g2.attempt == 2
    assert attempts(m)[0].outcome is Outcome.TIMEOUT
    # attempt 2 assigned at 30 s; 35 s of protective stop (40..75 s) push its deadline from 60 s to 95 s
    m.protective_stop("r1", at(40), "human in zone")
    assert m.tick(at(70)) == []
    assert m.resume("r1", at(75)) == []
    assert m.tick(at(94)) == []
    assert cancels(m.tick(at(95)))
    assert m.rep_state("t", 1) is RepState.FAILED
    kinds = [e.kind for e in m.pending_events()]
    assert EventKind.STOP in kinds and EventKind.RESUME in kinds


def test_protective_stop_keeps_new_work_away() -> None:
    m = TrialMachine(plan_of([pick("a", repetitions=2)], robots=[("r1", "std", "a"), ("r2", "std", "a")]))
    m.protective_stop("r2", at(0))  # before start: nothing to pause, the robot stays out of allocation
    out = sends(m.start(at(0)))
    assert [s.robot_id for s in out] == ["r1"]
    view = {r["robot_id"]: r for r in m.state_view().robots}
    assert view["r2"]["stopped"] and view["r1"]["task"] == "a#1"
    assert sends(m.resume("r2", at(5)))[0].robot_id == "r2"


def test_robot_lost_reassigns_without_using_a_retry() -> None:
    m = TrialMachine(plan_of([pick("t", max_retries=0)]))
    (g1,) = sends(m.start(at(0)))
    assert g1.robot_id == "r1"  # home station a is where the task is
    m.goal_accepted(g1.goal_id, at(1))
    out = m.robot_lost("r1", at(3))
    assert cancels(out) == [CancelGoal(g1.goal_id, "t", 1, 1, "r1", "robot lost")]
    (g2,) = sends(out)
    assert (g2.robot_id, g2.attempt) == ("r2", 2)
    (lost,) = events(m, EventKind.ROBOT_LOST)
    assert lost.payload == {"robot_id": "r1", "task_id": "t", "repetition": 1, "attempt": 1}
    (a1,) = attempts(m)
    assert (a1.outcome, a1.robot_id, a1.reason) == (Outcome.ROBOT_LOST, "r1", "robot r1 lost")
    # a late result of the lost robot's goal is ignored
    assert m.result(g1.goal_id, True, "", at(4)) == []
    assert m.rep_state("t", 1) is RepState.ASSIGNED
    m.result(g2.goal_id, True, "", at(20))
    assert m.finished and m.rep_state("t", 1) is RepState.DONE


def test_lost_only_robot_waits_and_comes_back() -> None:
    profiles = {"std": make_profile("std"), "viewer": make_profile("viewer", capabilities=["inspect"])}
    m = TrialMachine(plan_of([pick("t")], robots=[("r1", "std", "a"), ("cam", "viewer", "b")], profiles=profiles))
    assert [s.robot_id for s in sends(m.start(at(0)))] == ["r1"]
    assert sends(m.robot_lost("r1", at(2))) == []
    (waiting,) = events(m, EventKind.TASK_UNASSIGNABLE)
    assert waiting.payload == {"task_id": "t", "reason": "no capable robot available: r1 lost", "permanent": False}
    assert m.tick(at(3)) == []
    assert len(events(m, EventKind.TASK_UNASSIGNABLE)) == 1  # told once
    (g2,) = sends(m.robot_back("r1", at(10)))
    assert (g2.robot_id, g2.attempt) == ("r1", 2)
    assert events(m, EventKind.ROBOT_RECOVERED)[0].payload == {"robot_id": "r1"}


def test_task_no_robot_can_do_fails_at_start_with_reason() -> None:
    heavy = pick("heavy", mass=25.0)
    m = TrialMachine(plan_of([heavy, pick("light")]))
    out = sends(m.start(at(0)))
    assert [s.task_id for s in out] == ["light"]
    assert m.rep_state("heavy", 1) is RepState.FAILED
    (item,) = events(m, EventKind.TASK_UNASSIGNABLE)
    assert item.payload["reason"] == "needs payload 25.0 kg (one arm); largest on site 3.0 kg (r1)"
    assert item.payload["permanent"] is True


def test_stop_cancels_everything() -> None:
    m = TrialMachine(plan_of([pick("t", repetitions=3)]))
    out = sends(m.start(at(0)))
    assert len(out) == 2
    m.goal_accepted(out[0].goal_id, at(1))
    stop = m.stop(at(5), "operator pressed stop")
    assert sorted(c.goal_id for c in cancels(stop)) == sorted(s.goal_id for s in out)
    assert all(c.reason == "operator pressed stop" for c in cancels(stop))
    assert m.finished and m.finish_reason == "operator pressed stop"
    assert m.state_view().counts()["cancelled"] == 3
    assert [a.outcome for a in attempts(m)] == [Outcome.CANCELLED, Outcome.CANCELLED]
    kinds = [e.kind for e in m.pending_events()]
    assert kinds[-4:] == [EventKind.TRIAL_STOPPED, EventKind.ATTEMPT_FINISHED, EventKind.ATTEMPT_FINISHED,
                          EventKind.TRIAL_FINISHED]
    assert m.stop(at(6)) == []
    assert m.result(out[0].goal_id, True, "", at(7)) == []


def test_time_limit_ends_the_trial() -> None:
    m = TrialMachine(plan_of([pick("t", timeout_s=1000)], time_limit_s=100))
    (g,) = sends(m.start(at(0)))
    assert m.tick(at(99)) == []
    out = m.tick(at(100))
    assert cancels(out)[0].goal_id == g.goal_id
    assert m.finished and m.finish_reason == "time limit 100 s reached"
    assert m.rep_state("t", 1) is RepState.CANCELLED


def test_input_errors() -> None:
    m = TrialMachine(plan_of([pick("t")]))
    with pytest.raises(TrialStateError, match="not started"):
        m.stop(at(0))
    with pytest.raises(TrialStateError, match="timezone-aware"):
        m.start(at(0).replace(tzinfo=None))
    m.start(at(0))
    with pytest.raises(TrialStateError, match="already running"):
        m.start(at(1))
    with pytest.raises(UnknownGoalError, match="was not sent"):
        m.result("f00", True, "", at(1))
    with pytest.raises(UnknownRobotError, match="'r9' is not deployed"):
        m.robot_lost("r9", at(1))


def test_outbox_keeps_events_until_acknowledged() -> None:
    m = TrialMachine(plan_of([pick("t")]))
    m.start(at(0))
    pending = m.pending_events()
    assert [e.kind for e in pending] == [EventKind.TRIAL_STARTED, EventKind.TASK_ASSIGNED]
    assert m.ack(pending[0].event_id) is True
    assert m.ack(pending[0].event_id) is False
    assert [e.event_id for e in m.pending_events()] == [pending[1].event_id]
    assert all(e.trial_id == m.trial_id for e in pending)


def drive(m: TrialMachine, commands: list[Command], t: float) -> list[Any]:
    """Feed a fixed script of results back; returns every command and event produced (as comparable data)."""
    trace: list[Any] = []
    queue = list(commands)
    step = 0
    while queue and step < 50:
        step += 1
        cmd = queue.pop(0)
        if isinstance(cmd, SendGoal):
            t += 2
            m.goal_accepted(cmd.goal_id, at(t))
            t += 5
            out = m.result(cmd.goal_id, step % 3 != 0, "" if step % 3 else "dropped", at(t))
            trace.extend(out)
            queue.extend(out)
    trace.append(m.tick(at(t + 1)))
    trace.extend(e.to_json() for e in m.pending_events())
    return trace


def test_snapshot_round_trip_mid_trial() -> None:
    plan = plan_of([pick("a", repetitions=3, max_retries=2), pick("b", source="table_b", depends_on=["a"],
                                                                   repetitions=2, max_retries=2)])
    m = TrialMachine(plan)
    first = sends(m.start(at(0)))
    m.goal_accepted(first[0].goal_id, at(1))
    more = m.result(first[0].goal_id, False, "slip", at(4))
    m.protective_stop("r2", at(5), "human near")
    m.ack(m.pending_events()[0].event_id)
    snap = m.snapshot()
    text = json.dumps(snap)
    restored = TrialMachine.restore(json.loads(text))
    assert restored.snapshot() == snap
    assert restored.state_view() == m.state_view()
    assert [e.to_json() for e in restored.pending_events()] == [e.to_json() for e in m.pending_events()]
    # both continue identically: resume, then the same results
    script = [*first[1:], *more]
    assert m.resume("r2", at(6)) == restored.resume("r2", at(6))
    assert drive(m, script, 6) == drive(restored, script, 6)
    assert m.snapshot() == restored.snapshot()
    assert m.finished


def test_restore_rejects_bad_snapshots() -> None:
    m = TrialMachine(plan_of([pick("t")]))
    snap = m.snapshot()
    with pytest.raises(SnapshotError, match="version"):
        TrialMachine.restore({**snap, "version": 99})
    broken = dict(snap)
    del broken["reps"]
    with pytest.raises(SnapshotError, match="malformed"):
        TrialMachine.restore(broken)
    alien = json.loads(json.dumps(snap))
    alien["reps"][0]["task_id"] = "other"
    with pytest.raises(SnapshotError, match="'other#1'"):
        TrialMachine.restore(alien)


def test_new_events_hands_out_each_event_once() -> None:
    m = TrialMachine(plan_of([pick("t")]))
    (g,) = sends(m.start(at(0)))
    assert [e.kind for e in m.new_events()] == [EventKind.TRIAL_STARTED, EventKind.TASK_ASSIGNED]
    assert m.new_events() == []
    m.goal_accepted(g.goal_id, at(1))
    (started,) = m.new_events()
    assert started.kind is EventKind.ATTEMPT_STARTED
    assert len(m.pending_events()) == 3  # still kept until acknowledged
    # a restored machine hands out everything pending again (a restarted node must publish it)
    restored = TrialMachine.restore(m.snapshot())
    assert [e.event_id for e in restored.new_events()] == [e.event_id for e in m.pending_events()]


def test_event_ids_follow_content() -> None:
    snap = TrialMachine(plan_of([pick("t")], robots=[("r1", "std", "a")])).snapshot()
    a, b = TrialMachine.restore(snap), TrialMachine.restore(snap)
    (ga,) = sends(a.start(at(0)))
    (gb,) = sends(b.start(at(0)))
    assert ga == gb
    assert [e.event_id for e in a.new_events()] == [e.event_id for e in b.new_events()]
    a.result(ga.goal_id, True, "", at(5))
    b.robot_lost("r1", at(5))
    # same sequence numbers, different events: different ids (attempt_finished keeps the attempt's own id)
    ids_a = {e.event_id for e in a.new_events() if e.kind is not EventKind.ATTEMPT_FINISHED}
    ids_b = {e.event_id for e in b.new_events() if e.kind is not EventKind.ATTEMPT_FINISHED}
    assert ids_a and ids_b and not ids_a & ids_b


def test_low_battery_keeps_robot_from_new_work() -> None:
    m = TrialMachine(plan_of([pick("t", repetitions=2)], robots=[("r1", "std", "a")]))
    (g,) = sends(m.start(at(0)))
    assert m.update_robot("r1", at(1), battery_frac=0.1) == []
    assert sends(m.result(g.goal_id, True, "", at(5))) == []
    (waiting,) = events(m, EventKind.TASK_UNASSIGNABLE)
    assert waiting.payload["reason"] == "no capable robot available: r1 battery 10% < reserve 15%"
    (g2,) = sends(m.update_robot("r1", at(60), battery_frac=0.9))
    assert (g2.task_id, g2.repetition) == ("t", 2)


def test_robot_inputs_after_the_end_are_ignored() -> None:
    m = TrialMachine(plan_of([pick("t")]))
    m.start(at(0))
    m.stop(at(1))
    count = len(m.pending_events())
    assert m.robot_lost("r1", at(2)) == [] and m.protective_stop("r2", at(2)) == []
    assert len(m.pending_events()) == count
