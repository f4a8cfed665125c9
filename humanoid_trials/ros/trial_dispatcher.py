"""trial_dispatcher: starts and stops trials, sends task attempts to robots as `execute_task` goals and follows them.

Thin: the trial logic is `humanoid_trials.dispatch` (TrialPlan, TrialMachine, check_gate); this node turns messages
into machine inputs and machine commands into goals and cancels. Robot loss is detected by DDS liveliness and by the
status heartbeat (no status for `robot_lost_after_s`, wall clock).

Trial time: in sim mode the trial clock runs `time_scale` times faster than the wall clock from the trial start, so
attempt times, cycle times and timeouts are simulated seconds; in field mode it is the wall clock.

Parameters: scenario, site, mode (auto-start a trial at start-up when `scenario` is set), time_scale, db (results
store URL for the validation gate), operator, extra_files, tick_period_s, state_period_s, robot_lost_after_s,
robot_wait_s, event_resend_s.
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from action_msgs.msg import GoalStatus
from humanoid_trials_interfaces.action import ExecuteTask
from humanoid_trials_interfaces.msg import EventAck, RobotStatus, TaskState, TrialState
from humanoid_trials_interfaces.msg import SafetyEvent as SafetyEventMsg
from humanoid_trials_interfaces.msg import TrialEvent as TrialEventMsg
from humanoid_trials_interfaces.srv import StartTrial, StopTrial
from rclpy.action import ActionClient
from rclpy.action.client import ClientGoalHandle
from rclpy.event_handler import QoSLivelinessChangedInfo, SubscriptionEventCallbacks
from rclpy.node import Node
from rclpy.subscription import Subscription
from rclpy.task import Future

from humanoid_trials import __version__
from humanoid_trials.dispatch.errors import DispatchError, UnknownGoalError
from humanoid_trials.dispatch.gate import Override, check_gate
from humanoid_trials.dispatch.plan import TrialPlan
from humanoid_trials.dispatch.trial import CancelGoal, Command, RepView, SendGoal, TrialMachine
from humanoid_trials.model import Scenario, Site, UnknownNameError
from humanoid_trials.model.events import TrialEvent, utcnow
from humanoid_trials.model.validation import ValidationReport
from humanoid_trials.ros import names, qos
from humanoid_trials.ros.convert import event_to_msg, safety_from_msg, to_time
from humanoid_trials.ros.errors import ConversionError
from humanoid_trials.ros.runtime import catalog_from, run_node
from humanoid_trials.safety.balance import BALANCE_EVENTS, fall_reason

NODE_NAME = "trial_dispatcher"
MODES = ("sim", "field")
RESEND_BATCH = 200
"""Most unacknowledged events re-sent per tick."""
BATTERY_STEP = 0.01
"""Battery change (fraction) that is passed on to the trial machine."""


class TrialClock:
    """Trial time (UTC): the start time plus wall time elapsed since, times `time_scale`."""

    def __init__(self, time_scale: float) -> None:
        self.time_scale = time_scale
        self._start_utc = utcnow()
        self._start_mono = time.monotonic()

    def now(self) -> datetime:
        return self._start_utc + timedelta(seconds=(time.monotonic() - self._start_mono) * self.time_scale)


@dataclass
class RobotLink:
    """The dispatcher's view of one robot: its action client, status subscription and liveness."""

    robot_id: str
    client: ActionClient
    status_sub: Subscription
    last_seen: float | None = None
    liveliness_lost: bool = False
    state: str = ""
    battery_fraction: float = 1.0
    lost: bool = False
    down: bool = False
    halted_since_down: bool = False
    stopped: bool = False

    @property
    def out(self) -> bool:
        """Taken out of the trial: lost (no heartbeat) or down (fault, fall)."""
        return self.lost or self.down


@dataclass
class ActiveTrial:
    """A trial this node runs: its machine, scenario, clock and the goals in flight (goal id -> handle)."""

    machine: TrialMachine
    scenario: Scenario
    mode: str
    clock: TrialClock
    start_deadline: float
    extra_events: list[TrialEvent] = field(default_factory=list)
    robot_ids: frozenset[str] = frozenset()
    task_types: dict[str, str] = field(default_factory=dict)
    content_hash: str = ""
    started: bool = False
    handles: dict[str, ClientGoalHandle] = field(default_factory=dict)
    sending: set[str] = field(default_factory=set)
    to_cancel: set[str] = field(default_factory=set)
    unsent: dict[str, SendGoal] = field(default_factory=dict)
    goal_robots: dict[str, str] = field(default_factory=dict)
    battery: dict[str, float] = field(default_factory=dict)
    task_msgs: dict[tuple[str, int], tuple[RepView, TaskState]] = field(default_factory=dict)


class TrialDispatcher(Node):
    """The trial dispatcher node. Runs in a single-threaded executor: callbacks never overlap, nothing blocks."""

    def __init__(self, **node_options: Any) -> None:
        """`node_options` go to rclpy's Node (context, parameter_overrides) for in-process use."""
        super().__init__(NODE_NAME, **node_options)
        self.catalog = catalog_from(self.declare_parameter("extra_files", "").value)
        self.time_scale = float(self.declare_parameter("time_scale", 1.0).value)
        self.db_url: str = self.declare_parameter("db", "").value
        self.operator: str = self.declare_parameter("operator", "").value
        self.lost_after_s = float(self.declare_parameter("robot_lost_after_s", qos.ROBOT_LOST_AFTER_S).value)
        self.robot_wait_s = float(self.declare_parameter("robot_wait_s", 15.0).value)
        self.resend_s = float(self.declare_parameter("event_resend_s", 5.0).value)
        self.state_period_s = float(self.declare_parameter("state_period_s", 0.5).value)
        tick_s = float(self.declare_parameter("tick_period_s", 0.1).value)
        auto_scenario: str = self.declare_parameter("scenario", "").value
        auto_site: str = self.declare_parameter("site", "").value
        auto_mode: str = self.declare_parameter("mode", "sim").value

        self.robots: dict[str, RobotLink] = {}
        self.trial: ActiveTrial | None = None
        self.finished: list[ActiveTrial] = []  # finished trials whose events are not all acknowledged yet
        self.outbox: dict[str, tuple[TrialEvent, float]] = {}  # event id -> (event, last sent, monotonic s)
        self.state_dirty = False
        self.state_sent = 0.0  # monotonic s of the last trial_state

        self.state_pub = self.create_publisher(TrialState, names.TRIAL_STATE, qos.LATCHED)
        self.events_pub = self.create_publisher(TrialEventMsg, names.TRIAL_EVENTS, qos.EVENTS)
        self.create_subscription(EventAck, names.EVENTS_STORED, self._on_ack, qos.ACKS)
        self.create_subscription(SafetyEventMsg, names.SAFETY_EVENTS, self._on_safety, qos.EVENTS)
        self.create_service(StartTrial, names.START_TRIAL, self._start_srv)
        self.create_service(StopTrial, names.STOP_TRIAL, self._stop_srv)
        self.create_timer(tick_s, self._tick)

        if auto_scenario:
            accepted, reason, trial_id = self.request_start(auto_site, auto_scenario, auto_mode, None)
            if not accepted:
                self.get_logger().error(f"trial of {auto_scenario} refused: {reason}")
            else:
                self.get_logger().info(f"trial {trial_id} of {auto_scenario} accepted ({auto_mode})")

    # -- starting and stopping --------------------------------------------------------------------------------------
    def _start_srv(self, request: StartTrial.Request, response: StartTrial.Response) -> StartTrial.Response:
        override = Override(request.override_by, request.override_reason) if request.override else None
        response.accepted, response.reason, response.trial_id = self.request_start(
            request.site, request.scenario, request.mode or "sim", override
        )
        return response

    def request_start(
        self, site_id: str, scenario_id: str, mode: str, override: Override | None
    ) -> tuple[bool, str, str]:
        """Check and create a trial; it starts once its robots report (or `robot_wait_s` passes).
        Returns (accepted, refusal reason, trial id)."""
        if self.trial is not None:
            return False, f"trial {self.trial.machine.trial_id} is still running; stop it first", ""
        if mode not in MODES:
            return False, f"mode {mode!r} is not one of {', '.join(MODES)}", ""
        try:
            scenario = self.catalog.scenario(scenario_id)
        except UnknownNameError as exc:
            return False, str(exc), ""
        if site_id and site_id != scenario.site:
            return False, f"scenario {scenario_id!r} is written for site {scenario.site!r}, not {site_id!r}", ""
        site = self.catalog.site(scenario.site)
        trial_id = uuid.uuid4()
        content_hash = self.catalog.content_hash(scenario_id)
        latest, problem = self._prepare_store(site, scenario, content_hash)
        extra: list[TrialEvent] = []
        if mode == "field":
            if problem:
                return False, f"validation gate: {problem}", ""
            refusal = self._gate(content_hash, latest, trial_id, override, extra)
            if refusal:
                return False, refusal, ""
        elif problem:
            self.get_logger().warning(f"{problem}; planning without pre-validation verdicts")
        usable = latest if latest is not None and latest.content_hash == content_hash else None
        try:
            plan = TrialPlan.build(scenario, site, self.catalog.profiles, trial_id=trial_id, validation=usable)
            machine = TrialMachine(plan)
        except DispatchError as exc:
            return False, f"scenario {scenario_id!r} cannot be planned: {exc}", ""
        for robot in site.robots:
            link = self._link(robot.id)
            # a new trial starts from what the robots report next (fault, stop), not from the last trial's view
            link.lost = link.down = link.halted_since_down = link.stopped = False
        scale = self.time_scale if mode == "sim" else 1.0
        self.trial = ActiveTrial(
            machine,
            scenario,
            mode,
            TrialClock(scale),
            time.monotonic() + self.robot_wait_s,
            extra_events=extra,
            robot_ids=frozenset(robot.id for robot in plan.robots),
            task_types={task.id: task.type for task in plan.tasks},
            content_hash=content_hash,
        )
        self.state_dirty = True
        self._maybe_start()
        return True, "", str(trial_id)

    def _prepare_store(
        self, site: Site, scenario: Scenario, content_hash: str
    ) -> tuple[ValidationReport | None, str]:
        """Register the site and this scenario version in the results store (so reports can name them) and read
        the scenario's latest pre-validation; (None, why) when the store cannot be used."""
        from humanoid_trials.results import ResultsError, Store  # SQLAlchemy only when a trial is requested

        text = Path(scenario.source_path).read_text(encoding="utf-8") if scenario.source_path else ""
        try:
            with Store(self.db_url or None) as store:
                store.register_site(site)
                store.register_scenario(scenario.id, site.id, content_hash, text, scenario.description)
                return store.latest_validation(scenario.id), ""
        except ResultsError as exc:
            return None, f"cannot use the results store for {scenario.id!r}: {exc}"

    def _gate(
        self,
        content_hash: str,
        latest: ValidationReport | None,
        trial_id: uuid.UUID,
        override: Override | None,
        extra: list[TrialEvent],
    ) -> str:
        """The validation gate for field mode: '' when allowed, else the refusal reason."""
        try:
            decision = check_gate("field", content_hash, latest, override, trial_id=trial_id, now=utcnow())
        except DispatchError as exc:
            return f"validation gate: {exc}"
        if not decision.allowed:
            return decision.reason
        if decision.event is not None:
            extra.append(decision.event)
            self.get_logger().warning(f"validation gate overridden: {decision.reason}")
        return ""

    def _maybe_start(self) -> None:
        trial = self.trial
        if trial is None or trial.started:
            return
        robot_ids = sorted(trial.robot_ids)
        missing = [r for r in robot_ids if self.robots[r].last_seen is None]
        ready = all(self.robots[r].client.server_is_ready() for r in robot_ids if r not in missing)
        if (missing or not ready) and time.monotonic() < trial.start_deadline:
            return
        trial.started = True
        now = trial.clock.now()
        self._apply(trial, self._start_machine(trial, now))
        for event in trial.extra_events:
            self._queue_event(event)
        for robot_id in missing:
            self.get_logger().warning(f"robot {robot_id} never reported: treated as lost")
            self.robots[robot_id].lost = True
            self._apply(trial, trial.machine.robot_lost(robot_id, now))
        self.get_logger().info(
            f"trial {trial.machine.trial_id} started: {trial.scenario.id}, {len(robot_ids)} robots, {trial.mode}"
        )

    def _start_machine(self, trial: ActiveTrial, now: datetime) -> list[Command]:
        return trial.machine.start(
            now,
            mode=trial.mode,
            scenario_hash=trial.content_hash,
            operator=self.operator,
            software_version=__version__,
        )

    def _stop_srv(self, request: StopTrial.Request, response: StopTrial.Response) -> StopTrial.Response:
        trial = self.trial
        if trial is None or (request.trial_id and request.trial_id != str(trial.machine.trial_id)):
            response.ok = False
            response.message = f"no running trial {request.trial_id}".strip()
            return response
        reason = request.reason or "stopped by operator"
        if request.requested_by:
            reason = f"{reason} ({request.requested_by})"
        if not trial.started:
            trial.started = True
            self._apply(trial, self._start_machine(trial, trial.clock.now()))
        self._apply(trial, trial.machine.stop(trial.clock.now(), reason))
        response.ok = True
        response.message = f"trial {trial.machine.trial_id} stopped"
        return response

    # -- robots -----------------------------------------------------------------------------------------------------
    def _link(self, robot_id: str) -> RobotLink:
        link = self.robots.get(robot_id)
        if link is not None:
            return link
        callbacks = SubscriptionEventCallbacks(liveliness=lambda info: self._on_liveliness(robot_id, info))
        sub = self.create_subscription(
            RobotStatus,
            names.robot_topic(robot_id, names.ROBOT_STATUS),
            lambda msg: self._on_status(robot_id, msg),
            qos.ROBOT_STATUS_QOS,
            event_callbacks=callbacks,
        )
        client: ActionClient = ActionClient(self, ExecuteTask, names.robot_topic(robot_id, names.EXECUTE_TASK))
        link = self.robots[robot_id] = RobotLink(robot_id, client, sub)
        return link

    def _on_liveliness(self, robot_id: str, info: QoSLivelinessChangedInfo) -> None:
        link = self.robots[robot_id]
        link.liveliness_lost = info.alive_count == 0 and link.last_seen is not None
        if link.liveliness_lost:
            self._mark_lost(link, "liveliness lost")

    def _on_status(self, robot_id: str, msg: RobotStatus) -> None:
        link = self.robots[robot_id]
        link.last_seen = time.monotonic()
        link.liveliness_lost = False
        link.state = msg.state
        trial = self.trial
        if trial is None:
            return
        self._maybe_start()
        if not trial.started or trial.machine.finished or robot_id not in trial.robot_ids:
            return
        machine, now = trial.machine, trial.clock.now()
        fault = msg.state == RobotStatus.FAULT
        if link.down and msg.state in (RobotStatus.FAULT, RobotStatus.STOPPED):
            link.halted_since_down = True
        if fault and not link.out:
            reason = f"robot fault: {msg.fault}" if msg.fault else "robot reports a fault"
            self._take_down(trial, link, reason)
        elif (link.lost and not fault) or (link.down and link.halted_since_down and msg.state == RobotStatus.IDLE):
            # lost robots are back with any status; downed ones once they were halted and then made idle again
            link.lost = link.down = link.halted_since_down = False
            self.get_logger().info(f"robot {robot_id} is back")
            self._apply(trial, machine.robot_back(robot_id, now))
        stopped = msg.state == RobotStatus.STOPPED
        if stopped and not link.stopped:
            link.stopped = True
            self._apply(trial, machine.protective_stop(robot_id, now, "robot reports a protective stop"))
        elif not stopped and link.stopped:
            link.stopped = False
            self._apply(trial, machine.resume(robot_id, now))
        battery = float(msg.battery_fraction)
        last = trial.battery.get(robot_id)
        if last is None or abs(battery - last) >= BATTERY_STEP:
            trial.battery[robot_id] = battery
            self._apply(trial, machine.update_robot(robot_id, now, battery_frac=battery))

    def _take_down(self, trial: ActiveTrial, link: RobotLink, reason: str) -> None:
        """The robot is out of order (fault, fall): its attempt fails with `reason` and its task is re-assigned; it
        comes back after it was halted (fault or protective stop) and then reports idle."""
        link.down = True
        link.halted_since_down = link.state in (RobotStatus.FAULT, RobotStatus.STOPPED)
        self.get_logger().warning(f"robot {link.robot_id} down: {reason}")
        self._machine_input(trial, lambda now: trial.machine.robot_down(link.robot_id, now, reason))

    def _mark_lost(self, link: RobotLink, why: str) -> None:
        trial = self.trial
        if link.out or trial is None or not trial.started:
            return
        if link.robot_id not in trial.robot_ids:
            return
        link.lost = True
        self.get_logger().warning(f"robot {link.robot_id} lost: {why}")
        self._apply(trial, trial.machine.robot_lost(link.robot_id, trial.clock.now()))

    def _watchdog(self) -> None:
        now = time.monotonic()
        for link in self.robots.values():
            if link.last_seen is not None and now - link.last_seen > self.lost_after_s:
                self._mark_lost(link, f"no status for {now - link.last_seen:.1f} s")

    # -- goals ------------------------------------------------------------------------------------------------------
    def _apply(self, trial: ActiveTrial, commands: Sequence[Command]) -> None:
        """Carry out machine commands, then publish the events the machine produced."""
        for command in commands:
            if isinstance(command, SendGoal):
                self._send(trial, command)
            elif isinstance(command, CancelGoal):
                self._cancel(trial, command)
        for event in trial.machine.new_events():
            self._queue_event(event)
        self.state_dirty = True
        if trial.machine.finished and trial is self.trial:
            self.trial = None
            self.finished.append(trial)
            self._publish_state(trial)
            self.get_logger().info(f"trial {trial.machine.trial_id} finished: {trial.machine.finish_reason}")

    def _send(self, trial: ActiveTrial, command: SendGoal) -> None:
        link = self.robots[command.robot_id]
        if not link.client.server_is_ready():
            trial.unsent[command.goal_id] = command
            return
        trial.unsent.pop(command.goal_id, None)
        task = trial.scenario.task(command.task_id)
        goal = ExecuteTask.Goal(
            trial_id=str(trial.machine.trial_id),
            task_id=command.task_id,
            repetition=command.repetition,
            attempt=command.attempt,
            task_type=command.task_type,
            task_json=task.model_dump_json(),
            time_scale=trial.clock.time_scale,
        )
        goal_id = command.goal_id
        trial.sending.add(goal_id)
        trial.goal_robots[goal_id] = command.robot_id
        future = link.client.send_goal_async(
            goal, feedback_callback=lambda fb: self._on_feedback(trial, goal_id, fb.feedback)
        )
        future.add_done_callback(lambda f: self._on_goal_response(trial, goal_id, f))

    def _cancel(self, trial: ActiveTrial, command: CancelGoal) -> None:
        if trial.unsent.pop(command.goal_id, None) is not None:
            return
        handle = trial.handles.get(command.goal_id)
        if handle is not None:
            handle.cancel_goal_async()
        elif command.goal_id in trial.sending:
            trial.to_cancel.add(command.goal_id)

    def _on_goal_response(self, trial: ActiveTrial, goal_id: str, future: Future) -> None:
        trial.sending.discard(goal_id)
        handle: ClientGoalHandle | None = future.result()
        if handle is None:
            return
        if goal_id in trial.to_cancel:
            trial.to_cancel.discard(goal_id)
            if handle.accepted:
                handle.cancel_goal_async()
            return
        if not handle.accepted:
            self._machine_input(trial, lambda now: trial.machine.goal_rejected(goal_id, "robot refused the goal", now))
            return
        trial.handles[goal_id] = handle
        self._machine_input(trial, lambda now: trial.machine.goal_accepted(goal_id, now))
        handle.get_result_async().add_done_callback(lambda f: self._on_result(trial, goal_id, f))

    def _on_feedback(self, trial: ActiveTrial, goal_id: str, feedback: ExecuteTask.Feedback) -> None:
        self._machine_input(trial, lambda now: trial.machine.feedback(goal_id, float(feedback.progress), now))

    def _on_result(self, trial: ActiveTrial, goal_id: str, future: Future) -> None:
        trial.handles.pop(goal_id, None)
        response = future.result()
        if response is None:
            return
        result: ExecuteTask.Result = response.result
        success = response.status == GoalStatus.STATUS_SUCCEEDED
        reason = result.reason or ("" if success else f"goal ended with status {response.status}")
        if result.robot_fault:
            link = self.robots.get(trial.goal_robots.get(goal_id, ""))
            if link is not None and not link.out and link.robot_id in trial.robot_ids:
                self._take_down(trial, link, reason)  # its task goes to another robot, not back to this one
                return
        self._machine_input(trial, lambda now: trial.machine.result(goal_id, success, reason, now))

    def _machine_input(self, trial: ActiveTrial, call: Callable[[datetime], list[Command]]) -> None:
        if trial.machine.finished:
            return
        try:
            commands = call(trial.clock.now())
        except UnknownGoalError as exc:
            self.get_logger().error(str(exc))
            return
        self._apply(trial, commands)

    # -- events and state -------------------------------------------------------------------------------------------
    def _queue_event(self, event: TrialEvent) -> None:
        self.outbox[str(event.event_id)] = (event, time.monotonic())
        self.events_pub.publish(event_to_msg(event))

    def _on_ack(self, msg: EventAck) -> None:
        for event_id in msg.event_ids:
            self.outbox.pop(event_id, None)
            for trial in [*self.finished, *([self.trial] if self.trial else [])]:
                trial.machine.ack(event_id)
        self.finished = [t for t in self.finished if t.machine.pending_events()]

    def _on_safety(self, msg: SafetyEventMsg) -> None:
        """A balance event (tilt, centre of mass outside support, height drop) takes the robot out: its attempt
        fails with the fall reason and its task is re-assigned. Other safety events act through the robots'
        protective stops, which their status reports."""
        trial = self.trial
        if trial is None or not trial.started or msg.type not in BALANCE_EVENTS:
            return
        link = self.robots.get(msg.robot_id)
        if link is None or link.out or msg.robot_id not in trial.robot_ids:
            return
        try:
            reason = fall_reason(safety_from_msg(msg))
        except ConversionError as exc:
            self.get_logger().error(f"ignored a malformed safety event: {exc}")
            return
        self._take_down(trial, link, reason)

    def _resend(self) -> None:
        if not self.outbox or self.events_pub.get_subscription_count() == 0:
            return
        now = time.monotonic()
        due = [key for key, (_, sent) in self.outbox.items() if now - sent >= self.resend_s][:RESEND_BATCH]
        for key in due:
            event, _ = self.outbox[key]
            self.outbox[key] = (event, now)
            self.events_pub.publish(event_to_msg(event))

    def _publish_state(self, trial: ActiveTrial) -> None:
        """Publish trial_state (latched). TaskState messages are rebuilt only for repetitions that changed."""
        view = trial.machine.state_view()
        msg = TrialState(
            trial_id=view.trial_id,
            site_id=view.site_id,
            scenario_id=view.scenario_id,
            mode=trial.mode,
            state=view.phase,
            reason=view.finish_reason,
            stamp=to_time(trial.clock.now()),
        )
        msg.tasks = [self._task_msg(trial, rep) for rep in view.repetitions]
        self.state_pub.publish(msg)
        self.state_dirty = False
        self.state_sent = time.monotonic()

    @staticmethod
    def _task_msg(trial: ActiveTrial, rep: RepView) -> TaskState:
        key = (rep.task_id, rep.repetition)
        cached = trial.task_msgs.get(key)
        if cached is not None and cached[0] == rep:
            return cached[1]
        msg = TaskState(
            task_id=rep.task_id,
            repetition=rep.repetition,
            attempt=rep.attempt,
            task_type=trial.task_types[rep.task_id],
            robot_id=rep.robot_id,
            state=rep.state,
            progress=float(rep.progress),
            reason=rep.reason,
            started=to_time(_parse(rep.started_at or rep.assigned_at)),
            finished=to_time(_parse(rep.finished_at)),
        )
        trial.task_msgs[key] = (rep, msg)
        return msg

    def _tick(self) -> None:
        self._maybe_start()
        self._watchdog()
        trial = self.trial
        if trial is not None and trial.started:
            for command in list(trial.unsent.values()):
                self._send(trial, command)
            self._apply(trial, trial.machine.tick(trial.clock.now()))
        if self.state_dirty and self.trial is not None and time.monotonic() - self.state_sent >= self.state_period_s:
            self._publish_state(self.trial)
        self._resend()


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def main(args: Sequence[str] | None = None) -> None:
    sys.exit(run_node(TrialDispatcher, args, threads=1))


if __name__ == "__main__":
    main()
