"""safety_monitor in real sim trials (node processes on a private ROS_DOMAIN_ID).

1. A simulated worker walks up to a working robot -> separation event with the hand-computed S_p, protective stop
   with its time to stopped, refused resumes while the worker is close, an explicit resume, and the trial runs to
   completion; the events reach the store.
2. A robot trips (robot_trip perturbation) -> critical tilt event, protective stop, its task fails with the fall as
   reason and is re-assigned to the other robot; the trial completes."""

from __future__ import annotations

import json
import math
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from humanoid_trials_interfaces.msg import SafetyEvent as SafetyEventMsg
from humanoid_trials_interfaces.msg import TrialEvent as TrialEventMsg
from humanoid_trials_interfaces.srv import ProtectiveStop
from rclpy.client import Client
from rclpy.node import Node
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from humanoid_trials import paths
from humanoid_trials.cli.main import cli
from humanoid_trials.model import load_catalog
from humanoid_trials.results.models import AttemptRow, SafetyEventRow
from humanoid_trials.ros import qos
from humanoid_trials.ros.graph import trial_nodes, write_params_file
from humanoid_trials.ros.monitor import MonitorSession, TrialView
from humanoid_trials.ros.processes import NodeProcesses
from humanoid_trials.ros.safety_monitor import SAFETY_STOP

HANG_GUARD_S = 120.0
"""Wall seconds after which the test gives up waiting (a guard against hangs, not a performance threshold)."""

SITE = """\
id: safety-test-cell
name: Safety test cell
company: Test
industry: other
location: {city: Ulsan, country: KR}
takt_time_s: 60
layout:
  floor_m: [10.0, 10.0]
  stations:
    - {id: cell, pose: {x_m: 3.0, y_m: 3.0, yaw_deg: 0}}
  objects:
    - {id: bin_a, kind: bin, station: cell, pose: {x_m: 3.55, y_m: 2.75}, size_m: [0.40, 0.30, 0.85]}
    - {id: bin_b, kind: bin, station: cell, pose: {x_m: 3.55, y_m: 3.25}, size_m: [0.40, 0.30, 0.85]}
human_zones:
  - {id: walkway, polygon_m: [[0.0, 4.0], [10.0, 4.0], [10.0, 8.0], [0.0, 8.0]], height_m: 2.0}
robots:
  - {id: rby1-t1, profile: rby1-class, home_station: cell}
"""
# The robot works at its home station (both bins there: no travel, base speed 0). The worker walks from y 7.0
# straight at it to y 4.5 (1 m/s from trial second 1.0) and leaves the area there.
SCENARIO = """\
id: safety-walk-in
site: safety-test-cell
description: A worker walks up to the robot's cell while it moves parts between two bins.
seed: 1
time_limit_s: 300
tasks:
  - id: move_bolts
    type: pick_place
    params: {part: {name: bolt_kit, mass_kg: 0.4, size_m: [0.10, 0.08, 0.05]}, source: bin_a, target: bin_b}
    repetitions: 3
perturbations:
  - {type: human_enters_zone, zone: walkway, at_s: 1.0, speed_m_s: 1.0, path_m: [[3.0, 7.0], [3.0, 4.5]]}
criteria: {min_success_rate: 0.9, max_p95_cycle_over_takt: 1.0, max_safety_events: 1}
"""
# Two robots in two cells; rby1-t1 trips 1.0 simulated s after its first goal (mid-task: work_s 3.0) and lies
# on the floor (the scripted backend reports tilt 1.4 rad); rby1-t2 must take the task over.
TRIP_SITE = SITE.replace(
    "    - {id: cell, pose: {x_m: 3.0, y_m: 3.0, yaw_deg: 0}}\n",
    "    - {id: cell, pose: {x_m: 3.0, y_m: 3.0, yaw_deg: 0}}\n"
    "    - {id: cell_b, pose: {x_m: 7.0, y_m: 3.0, yaw_deg: 0}}\n",
).replace(
    "  - {id: rby1-t1, profile: rby1-class, home_station: cell}\n",
    "  - {id: rby1-t1, profile: rby1-class, home_station: cell}\n"
    "  - {id: rby1-t2, profile: rby1-class, home_station: cell_b}\n",
)
TRIP_SCENARIO = """\
id: safety-trip
site: safety-test-cell
description: A robot trips in the middle of a task.
seed: 1
time_limit_s: 300
tasks:
  - id: move_bolts
    type: pick_place
    params: {part: {name: bolt_kit, mass_kg: 0.4, size_m: [0.10, 0.08, 0.05]}, source: bin_a, target: bin_b}
    robots: [rby1-t1, rby1-t2]
    max_retries: 2
perturbations:
  - {type: robot_trip, robot: rby1-t1, at_s: 1.0}
criteria: {min_success_rate: 0.9, max_p95_cycle_over_takt: 1.0, max_safety_events: 2}
"""
# rby1-class envelope: footprint corner (0.30, 0.25) -> sqrt(0.09 + 0.0625) = 0.390512 m, + reach 0.80 m
ENVELOPE_M = math.hypot(0.30, 0.25) + 0.80
# Robot still (v_r = 0): S_p = K_h (T_r + T_s) + C + Z_d + Z_r = 1.6 * (0.1 + 0.3) + 0.2 + 0.05 + 0.02 = 0.91 m
S_P_M = 0.91


class _Probe:
    """Collects safety and trial events (and sees /safety_stop come up), as a node in the monitor session's context."""

    def __init__(self, monitor: MonitorSession) -> None:
        self.node = Node("safety_probe", context=monitor.context)
        self.lock = threading.Lock()
        self.safety: list[SafetyEventMsg] = []
        self.trial_events: list[TrialEventMsg] = []
        self.node.create_subscription(SafetyEventMsg, qos.SAFETY_EVENTS, self._on_safety, qos.EVENTS)
        self.node.create_subscription(TrialEventMsg, qos.TRIAL_EVENTS, self._on_trial, qos.EVENTS)
        self.client: Client[ProtectiveStop.Request, ProtectiveStop.Response] = self.node.create_client(
            ProtectiveStop, SAFETY_STOP
        )
        monitor.executor.add_node(self.node)

    def _on_safety(self, msg: SafetyEventMsg) -> None:
        with self.lock:
            if all(m.event_id != msg.event_id for m in self.safety):
                self.safety.append(msg)

    def _on_trial(self, msg: TrialEventMsg) -> None:
        with self.lock:
            if all(m.event_id != msg.event_id for m in self.trial_events):
                self.trial_events.append(msg)

    def events(self, kind: str) -> list[SafetyEventMsg]:
        with self.lock:
            return [m for m in self.safety if m.type == kind]

    def resumes(self) -> list[dict[str, Any]]:
        with self.lock:
            payloads = [json.loads(m.payload_json) for m in self.trial_events if m.kind == "resume"]
        # the safety monitor's resume record (the dispatcher's own `resume` events carry only the robot id)
        return [p for p in payloads if "stop_ids" in p]


@contextmanager
def _graph(
    tmp_path: Path,
    domain: int,
    site_text: str,
    scenario_text: str,
    scenario_id: str,
    work_s: float,
    safety_params: dict[str, float] | None = None,
) -> Iterator[tuple[MonitorSession, _Probe, str, str]]:
    """Write the site and scenario, start recorder, scripted robots, safety monitor and dispatcher, start the trial.
    Yields (monitor, probe, trial id, db url)."""
    site_file, scenario_file = tmp_path / "site.yaml", tmp_path / "scenario.yaml"
    site_file.write_text(site_text, encoding="utf-8")
    scenario_file.write_text(scenario_text, encoding="utf-8")
    catalog = load_catalog(extra=[site_file, scenario_file])
    scenario = catalog.scenario(scenario_id)
    site = catalog.site(scenario.site)
    db = f"sqlite:///{tmp_path / 'trial.db'}"
    nodes = trial_nodes(
        site,
        scenario=scenario.id,
        time_scale=1.0,
        db=db,
        backend="scripted",
        backend_options=f"work_s={work_s}",
        extra_files=f"{site_file}:{scenario_file}",
        auto_start=False,
        safety_params=safety_params,
    )
    params = [paths.params_dir() / "sim_trial.yaml", write_params_file(nodes, tmp_path / "params.yaml")]
    robot_ids = [robot.id for robot in site.robots]
    with NodeProcesses(domain, tmp_path / "logs", params) as procs, MonitorSession(domain, robot_ids) as monitor:
        for node in nodes:
            procs.start(node)
        probe = _Probe(monitor)
        assert monitor.wait_for_dispatcher(60.0), "trial_dispatcher did not come up"
        assert probe.client.wait_for_service(timeout_sec=60.0), "safety_monitor did not come up"
        accepted, trial_id, reason = monitor.start_trial(site.id, scenario.id, "sim", 30.0)
        assert accepted, reason
        yield monitor, probe, trial_id, db


def _finished(monitor: MonitorSession) -> tuple[TrialView, bool]:
    """The finished trial's view, and whether the recorder acknowledged every event (checked after the view)."""
    view: TrialView = _until("the trial finished", lambda: monitor.view() if monitor.view().finished else None)
    deadline = time.monotonic() + HANG_GUARD_S
    while not monitor.all_events_stored() and time.monotonic() < deadline:
        time.sleep(0.05)
    return view, monitor.all_events_stored()


def _one(what: str, probe: Any) -> Any:
    """The single item `probe()` returns once it returns any (several are a failure)."""
    found = _until(what, probe)
    assert len(found) == 1, f"expected one {what}, got {len(found)}: {found}"
    return found[0]


def _until(what: str, probe: Any) -> Any:
    deadline = time.monotonic() + HANG_GUARD_S
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not seen within {HANG_GUARD_S} s: {what}")


def test_worker_walk_in_stops_the_robot_and_the_trial_completes_after_resume(ros_domain: int, tmp_path: Path) -> None:
    refusals: list[str] = []
    with _graph(tmp_path, ros_domain, SITE, SCENARIO, "safety-walk-in", work_s=2.0) as (mon, probe, trial_id, db):
        separation = _one("a separation event", lambda: probe.events("separation"))
        _until("robot rby1-t1 stopped", lambda: [r for r in mon.view().robots if r.state == "stopped"])
        stop = _one("the protective stop event", lambda: probe.events("protective_stop"))
        deadline = time.monotonic() + HANG_GUARD_S
        resume_cmd = ["safety", "resume", "--robot", "rby1-t1", "--by", "test operator"]
        resume_cmd += ["--reason", "worker left the cell", "--domain-id", str(ros_domain)]
        while (result := CliRunner().invoke(cli, resume_cmd)).exit_code != 0:
            assert result.exit_code == 1, result.output + result.stderr
            refusals.append(result.stderr)
            assert time.monotonic() < deadline, f"resume refused for {HANG_GUARD_S} s: {refusals[-1]}"
            time.sleep(0.1)
        assert "resumed rby1-t1" in result.stdout
        resume = _one("the resume trial event", probe.resumes)
        view, stored_all = _finished(mon)

    # separation: measured = distance from the robot's reach envelope to the worker, limit = S_p = 0.91 m
    evidence = json.loads(separation.evidence_json)
    assert (separation.robot_id, separation.severity, separation.unit) == ("rby1-t1", "warning", "m")
    assert separation.trial_id == trial_id
    assert separation.limit == pytest.approx(S_P_M)
    assert evidence["S_h_m"] == pytest.approx(0.64)
    assert evidence["v_r_m_s"] == 0.0
    assert evidence["v_h_m_s"] == pytest.approx(1.6)  # the worker walks at 1.0 m/s < K_h
    assert evidence["robot_point_radius_m"] == pytest.approx(ENVELOPE_M)
    assert evidence["robot_point_position_m"][:2] == pytest.approx([3.0, 3.0])
    x, y = evidence["person_position_m"]
    assert x == pytest.approx(3.0)
    assert 4.5 <= y <= 7.0
    assert separation.measured == pytest.approx((y - 3.0) - ENVELOPE_M)
    assert separation.measured < separation.limit
    assert evidence["person_id"] == "worker-1"
    # the stop: booked with its cause; measured = time until the robot reported STOPPED, limit = T_r + T_s
    stop_evidence = json.loads(stop.evidence_json)
    assert stop.robot_id == "rby1-t1"
    assert stop_evidence["cause"].startswith("separation ")
    assert stop_evidence["confirmed"] is True
    assert stop.limit == pytest.approx(0.4)
    assert stop.measured >= 0.0
    # refusals name the worker and the distance needed (S_p 0.91 m + margin 0.10 m); the resume is recorded
    assert all("refused: robot 'rby1-t1' stays stopped: person 'worker-1'" in r for r in refusals)
    assert all("resume needs 1.01 m" in " ".join(r.split()) for r in refusals)
    assert (resume["robot_id"], resume["requested_by"], resume["reason"]) == (
        "rby1-t1",
        "test operator",
        "worker left the cell",
    )
    assert resume["stop_ids"] == [stop_evidence["stop_id"]]
    # the trial went on after the resume
    assert view.reason == "complete"
    assert [t.state for t in view.tasks] == ["done", "done", "done"]
    assert stored_all, "the recorder did not acknowledge every event"
    with Session(create_engine(db)) as session:
        rows = session.scalars(select(SafetyEventRow).where(SafetyEventRow.trial_id == uuid.UUID(trial_id))).all()
    stored = {row.type: row for row in rows}
    assert set(stored) == {"separation", "protective_stop"}
    assert stored["separation"].limit_value == pytest.approx(S_P_M)
    assert stored["separation"].measured == pytest.approx(separation.measured)


def test_robot_that_trips_is_stopped_and_its_task_reassigned(ros_domain: int, tmp_path: Path) -> None:
    with _graph(tmp_path, ros_domain, TRIP_SITE, TRIP_SCENARIO, "safety-trip", work_s=3.0) as (
        mon,
        probe,
        trial_id,
        db,
    ):
        tilt = _one("a tilt event", lambda: probe.events("tilt"))
        stop = _one("the protective stop of the fallen robot", lambda: probe.events("protective_stop"))
        view, stored_all = _finished(mon)

    # tilt 1.4 rad = 80.214 deg over the site's 10 deg
    assert (tilt.robot_id, tilt.severity, tilt.unit, tilt.trial_id) == ("rby1-t1", "critical", "deg", trial_id)
    assert tilt.measured == pytest.approx(math.degrees(1.4))
    assert tilt.limit == pytest.approx(10.0)
    stop_evidence = json.loads(stop.evidence_json)
    assert stop.robot_id == "rby1-t1"
    assert stop_evidence["cause"] == "robot fell: base tilt 80.2 deg over the 10.0 deg limit"
    assert view.reason == "complete"
    (task,) = view.tasks
    assert (task.state, task.robot_id) == ("done", "rby1-t2")
    assert task.attempt >= 2
    assert stored_all, "the recorder did not acknowledge every event"
    with Session(create_engine(db)) as session:
        attempts = session.scalars(select(AttemptRow).where(AttemptRow.trial_id == uuid.UUID(trial_id))).all()
    failed = [a for a in attempts if a.robot_id == "rby1-t1"]
    assert failed, f"no attempt of the fallen robot was recorded: {attempts}"
    assert all(a.outcome != "success" and "fell" in a.reason for a in failed)
    assert [a.outcome for a in attempts if a.robot_id == "rby1-t2"] == ["success"]


def test_unattended_sim_trial_resumes_by_itself_once_the_worker_is_gone(ros_domain: int, tmp_path: Path) -> None:
    auto = {"auto_resume_after_s": 1.0}
    with _graph(tmp_path, ros_domain, SITE, SCENARIO, "safety-walk-in", work_s=2.0, safety_params=auto) as (
        mon,
        probe,
        _,
        _,
    ):
        separation = _one("a separation event", lambda: probe.events("separation"))
        resume = _one("the automatic resume", probe.resumes)
        view, _ = _finished(mon)

    assert separation.limit == pytest.approx(S_P_M)
    assert resume["requested_by"] == "safety_monitor (sim auto-resume)"
    assert resume["reason"] == "nobody within S_p + margin for 1 s"
    assert view.reason == "complete"
    assert [t.state for t in view.tasks] == ["done", "done", "done"]
