"""TrialMonitor: a node for tools (the `run` command, tests, benchmarks) that starts and stops trials and follows
them (trial state, robot status, safety events, stored-event acknowledgements). `MonitorSession` runs it in a
background thread and hands out plain-Python snapshots, so callers never touch rclpy.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import rclpy
from humanoid_trials_interfaces.msg import EventAck, RobotStatus, TrialState
from humanoid_trials_interfaces.msg import SafetyEvent as SafetyEventMsg
from humanoid_trials_interfaces.msg import TrialEvent as TrialEventMsg
from humanoid_trials_interfaces.srv import StartTrial, StopTrial
from rclpy.client import Client
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node

from humanoid_trials.model.events import EventKind
from humanoid_trials.ros import names, qos
from humanoid_trials.ros.convert import from_time
from humanoid_trials.ros.errors import ProcessError

NODE_NAME = "trial_monitor"
SPIN_PERIOD_S = 0.1
"""Longest wait (s) of one spin of the monitor's thread (how fast close() returns)."""


@dataclass(frozen=True)
class TaskRow:
    """One task repetition as the dispatcher last reported it. Times are trial times (UTC) or None."""

    task_id: str
    repetition: int
    task_type: str
    state: str
    robot_id: str
    attempt: int
    progress: float
    reason: str
    started: datetime | None
    finished: datetime | None

    @property
    def cycle_time_s(self) -> float | None:
        """Trial seconds from start to finish of the last attempt (simulated seconds in sim mode)."""
        if self.started is None or self.finished is None:
            return None
        return (self.finished - self.started).total_seconds()


@dataclass(frozen=True)
class RobotRow:
    robot_id: str
    state: str
    task_id: str
    battery_fraction: float
    seq: int


@dataclass(frozen=True)
class SafetyRow:
    type: str
    severity: str
    robot_id: str
    measured: float
    limit: float
    unit: str


@dataclass(frozen=True)
class TrialView:
    """What the monitor knows now."""

    trial_id: str = ""
    scenario_id: str = ""
    site_id: str = ""
    mode: str = ""
    state: str = ""
    reason: str = ""
    tasks: tuple[TaskRow, ...] = ()
    robots: tuple[RobotRow, ...] = ()
    safety: tuple[SafetyRow, ...] = ()
    events_seen: int = 0
    events_stored: int = 0

    @property
    def finished(self) -> bool:
        return self.state == TrialState.FINISHED

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for task in self.tasks:
            out[task.state] = out.get(task.state, 0) + 1
        return out


@dataclass
class _Shared:
    lock: threading.Lock = field(default_factory=threading.Lock)
    state: TrialState | None = None
    robots: dict[str, RobotRow] = field(default_factory=dict)
    safety: list[SafetyRow] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    stored: set[str] = field(default_factory=set)
    lost: dict[str, float] = field(default_factory=dict)  # robot id -> monotonic s its robot_lost event arrived
    seen_lost: set[str] = field(default_factory=set)
    changed: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)


class TrialMonitor(Node):
    """Subscribes to the trial topics of one site's robots; calls start_trial / stop_trial."""

    def __init__(self, robot_ids: Iterable[str], context: Context) -> None:
        super().__init__(NODE_NAME, context=context)
        self.shared = _Shared()
        self.create_subscription(TrialState, names.TRIAL_STATE, self._on_state, qos.LATCHED)
        self.create_subscription(SafetyEventMsg, names.SAFETY_EVENTS, self._on_safety, qos.EVENTS)
        self.create_subscription(TrialEventMsg, names.TRIAL_EVENTS, self._on_event, qos.EVENTS)
        self.create_subscription(EventAck, names.EVENTS_STORED, self._on_ack, qos.ACKS)
        for robot_id in robot_ids:
            self.create_subscription(
                RobotStatus, names.robot_topic(robot_id, names.ROBOT_STATUS), self._on_status, qos.ROBOT_STATUS_QOS
            )
        self.start_client: Client = self.create_client(StartTrial, names.START_TRIAL)
        self.stop_client: Client = self.create_client(StopTrial, names.STOP_TRIAL)

    def _on_state(self, msg: TrialState) -> None:
        with self.shared.changed:
            self.shared.state = msg
            self.shared.changed.notify_all()

    def _on_status(self, msg: RobotStatus) -> None:
        row = RobotRow(msg.robot_id, msg.state, msg.current_task_id, float(msg.battery_fraction), int(msg.seq))
        with self.shared.changed:
            self.shared.robots[msg.robot_id] = row
            self.shared.changed.notify_all()

    def _on_safety(self, msg: SafetyEventMsg) -> None:
        row = SafetyRow(msg.type, msg.severity, msg.robot_id, msg.measured, msg.limit, msg.unit)
        with self.shared.changed:
            self.shared.safety.append(row)
            self.shared.seen.add(msg.event_id)
            self.shared.changed.notify_all()

    def _on_event(self, msg: TrialEventMsg) -> None:
        with self.shared.changed:
            self.shared.seen.add(msg.event_id)
            if msg.kind == EventKind.ROBOT_LOST.value and msg.event_id not in self.shared.seen_lost:
                self.shared.seen_lost.add(msg.event_id)
                robot_id = str(json.loads(msg.payload_json).get("robot_id", ""))
                self.shared.lost.setdefault(robot_id, time.monotonic())
                self.shared.changed.notify_all()

    def _on_ack(self, msg: EventAck) -> None:
        with self.shared.changed:
            self.shared.stored.update(msg.event_ids)
            self.shared.changed.notify_all()


class MonitorSession:
    """A TrialMonitor spinning in a background thread in its own rclpy context on `domain_id` (localhost only).
    Use as a context manager; `close()` shuts down the executor, joins its thread, then destroys the node and
    shuts down the context (a node destroyed under a still-spinning thread raises InvalidHandle there)."""

    def __init__(self, domain_id: int, robot_ids: Iterable[str]) -> None:
        os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
        self.context = Context()
        rclpy.init(context=self.context, domain_id=domain_id)
        self.node = TrialMonitor(robot_ids, self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._spin, name="trial-monitor", daemon=True)
        self.thread.start()

    def _spin(self) -> None:
        # spin_once in a loop instead of spin(): close() stops the loop and joins the thread *before* the executor
        # is shut down (shutting an executor down under a spinning thread races with its guard condition).
        while not self._stop.is_set():
            self.executor.spin_once(timeout_sec=SPIN_PERIOD_S)

    def __enter__(self) -> MonitorSession:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self.thread.join(timeout=5.0)
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)

    # -- calls ------------------------------------------------------------------------------------------------------
    def wait_for_dispatcher(self, timeout_s: float) -> bool:
        return bool(self.node.start_client.wait_for_service(timeout_sec=timeout_s))

    def start_trial(
        self, site: str, scenario: str, mode: str, timeout_s: float, override_by: str = "", override_reason: str = ""
    ) -> tuple[bool, str, str]:
        """Ask the dispatcher to start a trial: (accepted, trial id, refusal reason)."""
        request = StartTrial.Request(
            site=site,
            scenario=scenario,
            mode=mode,
            override=bool(override_by),
            override_by=override_by,
            override_reason=override_reason,
        )
        response: StartTrial.Response = self._call(self.node.start_client, request, timeout_s, "start_trial")
        return bool(response.accepted), str(response.trial_id), str(response.reason)

    def stop_trial(self, trial_id: str, reason: str, timeout_s: float) -> tuple[bool, str]:
        request = StopTrial.Request(trial_id=trial_id, reason=reason, requested_by="humanoid-trials run")
        response: StopTrial.Response = self._call(self.node.stop_client, request, timeout_s, "stop_trial")
        return bool(response.ok), str(response.message)

    def _call(self, client: Client, request: Any, timeout_s: float, what: str) -> Any:
        done = threading.Event()
        future = client.call_async(request)
        future.add_done_callback(lambda _f: done.set())
        if not done.wait(timeout_s):
            raise ProcessError(f"service {what}: no answer within {timeout_s:g} s (is trial_dispatcher running?)")
        return future.result()

    # -- views ------------------------------------------------------------------------------------------------------
    def view(self) -> TrialView:
        shared = self.node.shared
        with shared.lock:
            msg = shared.state
            robots = tuple(sorted(shared.robots.values(), key=lambda r: r.robot_id))
            safety = tuple(shared.safety)
            seen, stored = len(shared.seen), len(shared.seen & shared.stored)
        if msg is None:
            return TrialView(robots=robots, safety=safety, events_seen=seen, events_stored=stored)
        tasks = tuple(
            TaskRow(
                t.task_id,
                int(t.repetition),
                t.task_type,
                t.state,
                t.robot_id,
                int(t.attempt),
                float(t.progress),
                t.reason,
                from_time(t.started),
                from_time(t.finished),
            )
            for t in msg.tasks
        )
        return TrialView(
            msg.trial_id,
            msg.scenario_id,
            msg.site_id,
            msg.mode,
            msg.state,
            msg.reason,
            tasks,
            robots,
            safety,
            seen,
            stored,
        )

    def wait(self, timeout_s: float) -> None:
        """Block until something changes or `timeout_s` passes."""
        with self.node.shared.changed:
            self.node.shared.changed.wait(timeout_s)

    def robot_lost_at(self, robot_id: str) -> float | None:
        """time.monotonic() when the first robot_lost event of `robot_id` arrived here, None if none did."""
        with self.node.shared.lock:
            return self.node.shared.lost.get(robot_id)

    def all_events_stored(self) -> bool:
        shared = self.node.shared
        with shared.lock:
            return bool(shared.seen) and shared.seen <= shared.stored
