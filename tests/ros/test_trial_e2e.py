"""End to end: real node processes (recorder, robots, safety monitor, dispatcher) on a private ROS_DOMAIN_ID run a
bundled scenario with simulated (PyBullet) robots; a robot killed with SIGKILL mid-task is detected as lost and its
task re-assigned (scripted robots there, so that every task is long enough to be killed in)."""

from __future__ import annotations

import signal
import time
import uuid
from pathlib import Path

from ros_harness import running_graph
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from humanoid_trials.model import Catalog
from humanoid_trials.model.events import EventKind, Outcome
from humanoid_trials.results.models import AttemptRow, TrialEventRow
from humanoid_trials.ros.monitor import MonitorSession, TrialView
from humanoid_trials.ros.names import robot_namespace

SCENARIO = "ulsan-door-bolts"
HANG_GUARD_S = 120.0
"""Wall seconds after which a test gives up waiting (a guard against hangs, not a performance threshold)."""


def _wait(monitor: MonitorSession, trial_id: str, until: str) -> TrialView:
    deadline = time.monotonic() + HANG_GUARD_S
    while time.monotonic() < deadline:
        view = monitor.view()
        if view.trial_id == trial_id:
            if until == "finished" and view.finished and monitor.all_events_stored():
                return view
            if until == "busy" and any(r.state == "busy" for r in view.robots):
                return view
        monitor.wait(0.1)
    raise AssertionError(f"trial {trial_id} not {until} within {HANG_GUARD_S} s; last view: {monitor.view()}")


def _start(monitor: MonitorSession, catalog: Catalog) -> str:
    assert monitor.wait_for_dispatcher(60.0), "trial_dispatcher did not come up"
    accepted, trial_id, reason = monitor.start_trial(catalog.scenario(SCENARIO).site, SCENARIO, "sim", 30.0)
    assert accepted, reason
    return trial_id


def test_sim_trial_reaches_a_terminal_state_for_every_task_with_cycle_times(
    catalog: Catalog, ros_domain: int, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'trial.db'}"
    with running_graph(catalog, SCENARIO, ros_domain, tmp_path, db=db, backend="sim", time_scale=20.0) as (
        _,
        monitor,
        _,
    ):
        trial_id = _start(monitor, catalog)
        view = _wait(monitor, trial_id, "finished")

    scenario = catalog.scenario(SCENARIO)
    assert len(view.tasks) == scenario.total_attempts()
    assert {t.state for t in view.tasks} == {"done"}
    assert view.reason == "complete"
    assert all(t.cycle_time_s is not None and t.cycle_time_s > 0 for t in view.tasks)
    with Session(create_engine(db)) as session:
        attempts = session.scalars(select(AttemptRow).where(AttemptRow.trial_id == uuid.UUID(trial_id))).all()
    succeeded = [a for a in attempts if a.outcome == Outcome.SUCCESS.value]
    assert sorted(a.task_id for a in succeeded) == sorted(t.task_id for t in view.tasks)
    assert all(a.cycle_time_s > 0 for a in attempts)


def test_robot_killed_mid_task_is_lost_and_its_task_reassigned(
    catalog: Catalog, ros_domain: int, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'trial.db'}"
    options = "work_s=30"  # 30 simulated s per task = 1.5 wall s at time scale 20: long enough to kill mid-task
    with running_graph(catalog, SCENARIO, ros_domain, tmp_path, db=db, backend_options=options) as (procs, monitor, _):
        trial_id = _start(monitor, catalog)
        busy = _wait(monitor, trial_id, "busy")
        victim = next(r for r in busy.robots if r.state == "busy")
        procs.find(f"/{robot_namespace(victim.robot_id)}/robot_node").process.send_signal(signal.SIGKILL)
        view = _wait(monitor, trial_id, "finished")

    assert {t.state for t in view.tasks} == {"done"}
    assert view.reason == "complete"
    redone = [t for t in view.tasks if t.task_id == victim.task_id and t.attempt >= 2]
    assert redone, f"no repetition of {victim.task_id} was attempted again: {view.tasks}"
    assert all(t.robot_id != victim.robot_id for t in redone)
    with Session(create_engine(db)) as session:
        lost = session.scalars(
            select(TrialEventRow).where(
                TrialEventRow.trial_id == uuid.UUID(trial_id), TrialEventRow.kind == EventKind.ROBOT_LOST.value
            )
        ).all()
        attempts = session.scalars(
            select(AttemptRow).where(AttemptRow.trial_id == uuid.UUID(trial_id), AttemptRow.robot_id == victim.robot_id)
        ).all()
    assert [e.robot_id for e in lost] == [victim.robot_id]
    assert Outcome.ROBOT_LOST.value in {a.outcome for a in attempts}


def test_stop_cancels_running_attempts_and_queued_work(catalog: Catalog, ros_domain: int, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'trial.db'}"
    with running_graph(catalog, SCENARIO, ros_domain, tmp_path, db=db, backend_options="work_s=600") as (
        _,
        monitor,
        _,
    ):
        trial_id = _start(monitor, catalog)
        busy = _wait(monitor, trial_id, "busy")
        ok, message = monitor.stop_trial(trial_id, "line stop", 30.0)
        assert ok, message
        view = _wait(monitor, trial_id, "finished")
        idle = _wait_robots_idle(monitor, {r.robot_id for r in busy.robots if r.state == "busy"})

    assert view.reason.startswith("line stop")
    assert {t.state for t in view.tasks} == {"cancelled"}
    assert idle, "robots were still busy after their goals were cancelled"
    with Session(create_engine(db)) as session:
        kinds = set(session.scalars(select(TrialEventRow.kind).where(TrialEventRow.trial_id == uuid.UUID(trial_id))))
        outcomes = set(session.scalars(select(AttemptRow.outcome).where(AttemptRow.trial_id == uuid.UUID(trial_id))))
    assert {EventKind.TRIAL_STOPPED.value, EventKind.TRIAL_FINISHED.value} <= kinds
    assert outcomes == {Outcome.CANCELLED.value}


def _wait_robots_idle(monitor: MonitorSession, robot_ids: set[str]) -> bool:
    deadline = time.monotonic() + HANG_GUARD_S
    while time.monotonic() < deadline:
        states = {r.robot_id: r.state for r in monitor.view().robots}
        if all(states.get(robot_id) == "idle" for robot_id in robot_ids):
            return True
        monitor.wait(0.1)
    return False
