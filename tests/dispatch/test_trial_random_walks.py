"""Random input sequences (fixed seeds) on bundled scenarios, with robots lost, down and stopped: the machine's
invariants hold at every step."""

from __future__ import annotations

import json
import random

import pytest
from dispatch_builders import TRIAL_ID, at

from humanoid_trials.dispatch.plan import TrialPlan
from humanoid_trials.dispatch.trial import CancelGoal, RepState, SendGoal, TrialMachine
from humanoid_trials.model import load_catalog
from humanoid_trials.model.events import EventKind


def check_invariants(m: TrialMachine, plan: TrialPlan) -> None:
    view = m.state_view()
    active = [r for r in view.repetitions if r.state in (RepState.ASSIGNED.value, RepState.UNDERWAY.value)]
    robots_busy = [r.robot_id for r in active]
    assert len(robots_busy) == len(set(robots_busy)), "a robot has two active attempts"
    busy_view = {r["robot_id"]: r["task"] for r in view.robots if r["task"]}
    assert busy_view == {r.robot_id: f"{r.task_id}#{r.repetition}" for r in active}
    assert sum(view.counts().values()) == sum(t.repetitions for t in plan.tasks)
    done = {t.id: sum(1 for r in view.repetitions if r.task_id == t.id and r.state == "done") for t in plan.tasks}
    for rep in view.repetitions:
        if rep.state != RepState.QUEUED.value and rep.state != RepState.CANCELLED.value and rep.attempt:
            task = plan.task(rep.task_id)
            assert all(done[d] == plan.task(d).repetitions for d in task.depends_on), "ran before its dependencies"


@pytest.mark.parametrize(("scenario_id", "seed"), [("ulsan-door-bolts", 1), ("icheon-tote-shuttle", 2),
                                                    ("geoje-bracket-fastening", 3), ("cheongju-tester-tending", 4)])
def test_random_walk(scenario_id: str, seed: int) -> None:
    catalog = load_catalog()
    bundled = catalog.scenarios[scenario_id]
    # more repetitions than bundled, so that the walk meets retries, losses and stops mid-trial
    scenario = bundled.model_copy(
        update={"tasks": tuple(t.model_copy(update={"repetitions": t.repetitions * 6}) for t in bundled.tasks)}
    )
    plan = TrialPlan.build(scenario, catalog.sites[scenario.site], catalog.profiles, trial_id=TRIAL_ID)
    rng = random.Random(seed)
    m = TrialMachine(plan)
    robot_ids = [r.id for r in plan.robots]
    t = 0.0
    live: dict[str, SendGoal] = {}
    unavailable: set[str] = set()

    def take(commands: list[SendGoal | CancelGoal]) -> None:
        for command in commands:
            if isinstance(command, SendGoal):
                assert command.robot_id not in unavailable, "work sent to a lost or stopped robot"
                live[command.goal_id] = command
            else:
                live.pop(command.goal_id, None)

    take(m.start(at(t)))
    for _ in range(600):
        if m.finished:
            break
        t += rng.uniform(0.5, 8.0)
        roll = rng.random()
        if live and roll < 0.55:
            goal = rng.choice(sorted(live))
            kind = rng.random()
            if kind < 0.3:
                take(m.goal_accepted(goal, at(t)))
            elif kind < 0.4:
                take(m.feedback(goal, rng.random(), at(t)))
            else:
                live.pop(goal)
                take(m.result(goal, rng.random() < 0.7, "random failure", at(t)))
        elif roll < 0.65:
            robot = rng.choice(robot_ids)
            unavailable.add(robot)
            how = rng.random()
            if how < 0.35:
                take(m.robot_lost(robot, at(t)))
            elif how < 0.65:
                take(m.robot_down(robot, at(t), "robot fell: base tilt 35.0 deg over the 10.0 deg limit"))
            else:
                take(m.protective_stop(robot, at(t)))
        elif roll < 0.8 and unavailable:
            robot = rng.choice(sorted(unavailable))
            unavailable.discard(robot)
            take(m.robot_back(robot, at(t)))
            take(m.resume(robot, at(t)))
        else:
            take(m.tick(at(t)))
        check_invariants(m, plan)
        if rng.random() < 0.1:
            restored = TrialMachine.restore(json.loads(json.dumps(m.snapshot())))
            assert restored.snapshot() == m.snapshot()
            m = restored
    take(m.tick(at(t + scenario.time_limit_s)))
    assert m.finished
    check_invariants(m, plan)
    assert all(r.state in ("done", "failed", "cancelled") for r in m.state_view().repetitions)
    finished = [e for e in m.pending_events() if e.kind is EventKind.TRIAL_FINISHED]
    assert len(finished) == 1
    started = {e.payload["goal_id"] for e in m.pending_events() if e.kind is EventKind.ATTEMPT_STARTED}
    ended = {e.payload["goal_id"] for e in m.pending_events() if e.kind is EventKind.ATTEMPT_FINISHED}
    assert started <= ended, "an attempt started but never finished"
