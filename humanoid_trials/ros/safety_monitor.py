"""safety_monitor: speed and separation monitoring, falls, emergency and protective stops for one site.

Thin: the checks are `humanoid_trials.safety` (SeparationMonitor, BalanceMonitor, StopLedger); this node feeds them
robot status and people, publishes their `safety_events`, calls each robot's `protective_stop`, and serves
`/safety_stop` (ProtectiveStop.srv): stop=true is an emergency stop of one robot or (robot_id "") the whole site,
stop=false an explicit resume of that scope, refused while a person is closer to a robot that would move again
than S_p + the resume margin (robots without recent status are not checked). Every stop is a safety event with the
time until the robot reported STOPPED; every resume is a `resume` trial event. A stopped robot that reports standing
still is not separation-checked (monitored standstill: people may approach it).

People: `/human_presence` (field) and, in sim mode, the simulated workers of the scenario's `human_enters_zone`
perturbations, on the trial clock (`time_scale` × wall time since the `trial_started` event). RobotStatus carries
the base pose only, so each robot counts as a disc of its reach envelope around the base
(`safety.separation.envelope_radius_m`).

Unattended sim runs: with `auto_resume_after_s` > 0 (sim mode only), a robot held by separation alone is resumed by
the monitor itself once nobody has been within S_p + margin for that many trial seconds; the resume is recorded like
any other (requested_by "safety_monitor (sim auto-resume)").

Parameters: site (required), scenario, mode (sim | field), time_scale, check_period_s, resume_margin_m,
confirm_timeout_s, presence_timeout_s, status_timeout_s, event_resend_s, auto_resume_after_s, extra_files.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import rclpy
from humanoid_trials_interfaces.msg import EventAck, HumanPresence, RobotStatus
from humanoid_trials_interfaces.msg import SafetyEvent as SafetyEventMsg
from humanoid_trials_interfaces.msg import TrialEvent as TrialEventMsg
from humanoid_trials_interfaces.srv import ProtectiveStop
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.client import Client
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.task import Future

from humanoid_trials.model.events import EventKind, SafetyEvent, utcnow
from humanoid_trials.ros import qos
from humanoid_trials.ros.convert import event_from_msg, event_to_msg, safety_to_msg
from humanoid_trials.ros.errors import ConversionError, NodeConfigError, ProcessError
from humanoid_trials.ros.runtime import catalog_from, require, run_node
from humanoid_trials.safety.balance import (
    BalanceLimits,
    BalanceMonitor,
    BalanceSample,
    fall_reason,
    footprint_in_site,
)
from humanoid_trials.safety.errors import ResumeRefusedError, StopError
from humanoid_trials.safety.separation import Person, RobotPoint, RobotPose, SeparationMonitor, envelope_radius_m
from humanoid_trials.safety.stops import SITE, StopKind, StopLedger, StopRecord
from humanoid_trials.safety.worker import SimulatedWorker, people_at, simulated_workers

NODE_NAME = "safety_monitor"
SAFETY_STOP = "/safety_stop"
"""Emergency stop (stop=true) / explicit resume (stop=false) of one robot or, with robot_id "", the site."""
MODES = ("sim", "field")
AUTO_RESUME_BY = f"{NODE_NAME} (sim auto-resume)"
STANDSTILL_M_S = 0.01
"""Base speed (m/s) under which a STOPPED or FAULT robot counts as standing still."""


class SafetyMonitor(Node):
    """The safety monitor of one site. All state is guarded by one lock; callbacks never block."""

    def __init__(self) -> None:
        super().__init__(NODE_NAME)
        site_id = require(self.declare_parameter("site", "").value, "site", NODE_NAME)
        scenario_id: str = self.declare_parameter("scenario", "").value
        self.mode: str = self.declare_parameter("mode", "sim").value
        if self.mode not in MODES:
            raise NodeConfigError(f"{NODE_NAME}: parameter mode={self.mode!r} is not one of {', '.join(MODES)}")
        self.time_scale = float(self.declare_parameter("time_scale", 1.0).value) if self.mode == "sim" else 1.0
        check_s = float(self.declare_parameter("check_period_s", 0.05).value)
        resume_margin_m = float(self.declare_parameter("resume_margin_m", 0.1).value)
        confirm_timeout_s = float(self.declare_parameter("confirm_timeout_s", 2.0).value)
        self.presence_timeout_s = float(self.declare_parameter("presence_timeout_s", 0.5).value)
        self.status_timeout_s = float(self.declare_parameter("status_timeout_s", qos.ROBOT_LOST_AFTER_S).value)
        self.resend_s = float(self.declare_parameter("event_resend_s", 2.0).value)
        self.auto_resume_s = float(self.declare_parameter("auto_resume_after_s", 0.0).value)
        if self.auto_resume_s > 0.0 and self.mode != "sim":
            raise NodeConfigError(
                f"{NODE_NAME}: auto_resume_after_s is for sim mode only; resumes in the field are "
                "explicit (/safety_stop with stop=false)"
            )
        catalog = catalog_from(self.declare_parameter("extra_files", "").value)

        self.site = catalog.site(site_id)
        params = self.site.safety
        self.profiles = {robot.id: catalog.robot_profile(self.site, robot.id) for robot in self.site.robots}
        self.radius_m = {robot_id: envelope_radius_m(p) for robot_id, p in self.profiles.items()}
        self.workers: list[SimulatedWorker] = []
        if scenario_id:
            scenario = catalog.scenario(scenario_id)
            if scenario.site != site_id:
                raise NodeConfigError(f"{NODE_NAME}: scenario {scenario_id!r} is for site {scenario.site!r}")
            if self.mode == "sim":
                self.workers = simulated_workers(scenario.perturbations, self.site)

        self.separation = SeparationMonitor(site_id, params, resume_margin_m=resume_margin_m)
        self.balance = BalanceMonitor(site_id, BalanceLimits.from_site(params))
        self.ledger = StopLedger(site_id, tuple(self.profiles), params, confirm_timeout_s=confirm_timeout_s)

        self._lock = threading.Lock()
        self._status: dict[str, tuple[RobotStatus, float]] = {}  # robot id -> (latest status, monotonic s)
        self._presence: dict[str, tuple[Person, float]] = {}  # person id -> (person, monotonic s)
        self._trial_id: uuid.UUID | None = None
        self._trial_t0: tuple[datetime, float] | None = None  # (trial start UTC, monotonic s at start)
        self._ended: set[uuid.UUID] = set()  # trials that finished or stopped (their events may be re-sent)
        self._outbox: dict[str, tuple[SafetyEventMsg | TrialEventMsg, float]] = {}
        self._separation_stops: set[uuid.UUID] = set()  # stop ids booked for separation violations
        self._clear_since: dict[str, float] = {}  # robot id -> trial s since nobody blocks its resume (auto-resume)

        group = MutuallyExclusiveCallbackGroup()
        self.safety_pub = self.create_publisher(SafetyEventMsg, qos.SAFETY_EVENTS, qos.EVENTS)
        self.trial_pub = self.create_publisher(TrialEventMsg, qos.TRIAL_EVENTS, qos.EVENTS)
        self.stop_clients: dict[str, Client[ProtectiveStop.Request, ProtectiveStop.Response]] = {
            robot_id: self.create_client(
                ProtectiveStop, qos.robot_topic(robot_id, qos.PROTECTIVE_STOP), callback_group=group
            )
            for robot_id in self.profiles
        }
        for robot_id in self.profiles:
            self.create_subscription(
                RobotStatus,
                qos.robot_topic(robot_id, qos.ROBOT_STATUS),
                self._on_status,
                qos.ROBOT_STATUS_QOS,
                callback_group=group,
            )
        self.create_subscription(HumanPresence, qos.HUMAN_PRESENCE, self._on_presence, qos.SENSOR, callback_group=group)
        self.create_subscription(
            TrialEventMsg, qos.TRIAL_EVENTS, self._on_trial_event, qos.EVENTS, callback_group=group
        )
        self.create_subscription(EventAck, qos.EVENTS_STORED, self._on_ack, qos.ACKS, callback_group=group)
        self.create_service(ProtectiveStop, SAFETY_STOP, self._on_safety_stop, callback_group=group)
        self.create_timer(check_s, self._tick, callback_group=group)
        self.get_logger().info(
            f"safety monitor for {site_id} ({self.mode}): {len(self.profiles)} robots, "
            f"{len(self.workers)} simulated workers, check every {check_s} s"
        )

    # -- clocks --------------------------------------------------------------------------------------------------------
    def _now(self) -> datetime:
        """Event time: the trial clock while a trial runs (sim: scaled), else UTC now."""
        if self._trial_t0 is None:
            return utcnow()
        start_utc, start_mono = self._trial_t0
        return start_utc + timedelta(seconds=(time.monotonic() - start_mono) * self.time_scale)

    def _trial_s(self) -> float | None:
        """Seconds since the trial started on the trial clock, or None outside a trial."""
        if self._trial_t0 is None:
            return None
        return (time.monotonic() - self._trial_t0[1]) * self.time_scale

    # -- inputs --------------------------------------------------------------------------------------------------------
    def _on_trial_event(self, msg: TrialEventMsg) -> None:
        if msg.kind not in (EventKind.TRIAL_STARTED, EventKind.TRIAL_FINISHED, EventKind.TRIAL_STOPPED):
            return
        try:
            event = event_from_msg(msg)
        except ConversionError as exc:
            self.get_logger().error(str(exc))
            return
        with self._lock:
            if event.trial_id in self._ended:
                return
            if event.kind is not EventKind.TRIAL_STARTED:
                self._ended.add(event.trial_id)
                if event.trial_id == self._trial_id:
                    self._trial_id = None
                    self._trial_t0 = None
            elif event.trial_id != self._trial_id and event.payload.get("site_id", self.site.id) == self.site.id:
                self._trial_id = event.trial_id
                self._trial_t0 = (event.stamp, time.monotonic())
                self.get_logger().info(f"trial {event.trial_id} started")

    def _on_presence(self, msg: HumanPresence) -> None:
        person = Person(msg.person_id, (msg.x_m, msg.y_m), (msg.vx_m_s, msg.vy_m_s))
        with self._lock:
            self._presence[msg.person_id] = (person, time.monotonic())

    def _on_status(self, msg: RobotStatus) -> None:
        if msg.robot_id not in self.profiles:
            return
        with self._lock:
            self._status[msg.robot_id] = (msg, time.monotonic())
            now, trial = self._now(), self._trial_id
            events = self.ledger.robot_reported(msg.robot_id, _standing(msg), now, trial)
            falls = self.balance.update(self._balance_sample(msg), now, trial)
            for event in falls:
                self._stop_robot(msg.robot_id, StopKind.PROTECTIVE, fall_reason(event), NODE_NAME, now, events)
            self._emit([*falls, *events])

    def _balance_sample(self, msg: RobotStatus) -> BalanceSample:
        profile = self.profiles[msg.robot_id]
        support = footprint_in_site(profile.support.footprint_m, msg.x_m, msg.y_m, msg.yaw_rad)
        return BalanceSample(
            robot_id=msg.robot_id,
            t_s=time.monotonic() * self.time_scale,
            tilt_rad=msg.tilt_rad,
            base_z_m=msg.z_m if profile.kind == "biped" else None,
            com_xy_m=(msg.com_x_m, msg.com_y_m) if len(support) >= 3 else None,
            support_m=support,
            location_m=(msg.x_m, msg.y_m, msg.z_m),
        )

    def _on_ack(self, msg: EventAck) -> None:
        with self._lock:
            for event_id in msg.event_ids:
                self._outbox.pop(event_id, None)

    # -- the periodic check --------------------------------------------------------------------------------------------
    def _people(self) -> list[Person]:
        mono = time.monotonic()
        people = [p for p, seen in self._presence.values() if mono - seen <= self.presence_timeout_s]
        trial_s = self._trial_s()
        if trial_s is not None:
            people += people_at(self.workers, trial_s)
        return people

    def _pose(self, robot_id: str) -> RobotPose | None:
        entry = self._status.get(robot_id)
        if entry is None or time.monotonic() - entry[1] > self.status_timeout_s:
            return None
        msg = entry[0]
        point = RobotPoint(
            "base_envelope",
            (msg.x_m, msg.y_m, msg.z_m),
            velocity_m_s=(msg.vx_m_s, msg.vy_m_s, 0.0),
            radius_m=self.radius_m[robot_id],
        )
        return RobotPose(robot_id, (point,))

    def _held_still(self, robot_id: str) -> bool:
        """A robot under a stop that reports standing still: a person may approach it (monitored standstill)."""
        entry = self._status.get(robot_id)
        return entry is not None and self.ledger.stopped(robot_id) and _standing(entry[0])

    def _tick(self) -> None:
        with self._lock:
            now, trial = self._now(), self._trial_id
            people = self._people()
            watched = [self._pose(r) for r in self.profiles if not self._held_still(r)]
            poses = [pose for pose in watched if pose is not None]
            found = self.separation.update(poses, people, now, trial)
            events: list[SafetyEvent] = list(found)
            for event in found:
                cause = (
                    f"separation {event.measured:.2f} m < S_p {event.limit:.2f} m "
                    f"to {event.evidence.get('person_id', 'a person')}"
                )
                records = self._stop_robot(event.robot_id, StopKind.PROTECTIVE, cause, NODE_NAME, now, events)
                self._separation_stops.update(record.stop_id for record in records)
            events += self.ledger.tick(now, trial)
            self._emit(events)
            if self.auto_resume_s > 0.0:
                self._auto_resume(people)
            self._resend()

    def _auto_resume(self, people: list[Person]) -> None:
        """Sim: resume robots held by separation alone once nobody blocked them for `auto_resume_s` trial seconds."""
        trial_s = time.monotonic() * self.time_scale
        for robot_id in sorted(self.separation.held):
            pose = self._pose(robot_id)
            only_separation = all(r.stop_id in self._separation_stops for r in self.ledger.active(robot_id))
            if pose is None or not only_separation or self.separation.resume_blocker(pose, people) is not None:
                self._clear_since.pop(robot_id, None)
                continue
            since = self._clear_since.setdefault(robot_id, trial_s)
            if trial_s - since >= self.auto_resume_s:
                del self._clear_since[robot_id]
                reason = f"nobody within S_p + margin for {self.auto_resume_s:g} s"
                try:
                    self.get_logger().info(f"auto-resume: {self._resume(robot_id, AUTO_RESUME_BY, reason)}")
                except (ResumeRefusedError, StopError) as exc:
                    self.get_logger().warning(f"auto-resume of {robot_id} refused: {exc}")

    # -- stops and resumes ---------------------------------------------------------------------------------------------
    def _stop_robot(
        self, robot_id: str, kind: StopKind, cause: str, who: str, now: datetime, events: list[SafetyEvent]
    ) -> list[StopRecord]:
        """Book a stop (robot_id SITE: every robot) and call the robots' protective_stop (lock held)."""
        records, immediate = self.ledger.stop(
            kind, cause, now, robot_id=robot_id, requested_by=who, trial_id=self._trial_id
        )
        events += immediate
        for record in records:
            self._call_robot(record.robot_id, True, cause, who)
        return records

    def _call_robot(self, robot_id: str, stop: bool, cause: str, who: str) -> None:
        client = self.stop_clients[robot_id]
        request = ProtectiveStop.Request(robot_id=robot_id, stop=stop, cause=cause, requested_by=who)
        future = client.call_async(request)
        what = "stop" if stop else "resume"

        def done(result: Future[ProtectiveStop.Response]) -> None:
            response = result.result()
            if response is None or not response.ok:
                message = response.message if response is not None else "no response"
                self.get_logger().error(f"{what} of robot {robot_id} failed: {message}")

        future.add_done_callback(done)
        if not client.service_is_ready():
            self.get_logger().warning(f"{what} of robot {robot_id}: its protective_stop service is not up yet")

    def _on_safety_stop(
        self, request: ProtectiveStop.Request, response: ProtectiveStop.Response
    ) -> ProtectiveStop.Response:
        who = request.requested_by or "unknown"
        cause = request.cause or ("emergency stop" if request.stop else "resume")
        with self._lock:
            try:
                if request.stop:
                    events: list[SafetyEvent] = []
                    self._stop_robot(request.robot_id, StopKind.EMERGENCY, cause, who, self._now(), events)
                    self._emit(events)
                    scope = request.robot_id or f"site {self.site.id}"
                    response.ok, response.message = True, f"emergency stop of {scope}"
                else:
                    response.ok, response.message = True, self._resume(request.robot_id, who, cause)
            except (ResumeRefusedError, StopError) as exc:
                response.ok, response.message = False, str(exc)
        if request.stop or not response.ok:
            self.get_logger().warning(f"safety_stop from {who}: {response.message}")
        else:
            self.get_logger().info(f"safety_stop from {who}: {response.message}")
        return response

    def _resume(self, robot_id: str, who: str, reason: str) -> str:
        """Explicit resume of one robot (its own stops) or the site (site-wide stops); raises when refused."""
        site_wide = robot_id == SITE
        targets = tuple(self.profiles) if site_wide else (robot_id,)
        if not site_wide and any(record.site_wide for record in self.ledger.active(robot_id)):
            raise ResumeRefusedError(f"robot {robot_id!r} is under a site-wide stop: resume the site first")
        people = self._people()
        for target in targets:  # robots that would move again must have everybody out of S_p + margin
            active = self.ledger.active(target)
            pose = self._pose(target)
            if active and pose is not None and all(record.site_wide == site_wide for record in active):
                blocker = self.separation.resume_blocker(pose, people)
                if blocker is not None:
                    raise ResumeRefusedError(blocker)
        resumed = self.ledger.resume(self._now(), robot_id=robot_id, requested_by=who, reason=reason)
        released = [r.robot_id for r in resumed if not self.ledger.stopped(r.robot_id)]
        for rid in released:
            self.separation.release(rid)
            self.balance.reset(rid)
            self._call_robot(rid, False, reason, who)
        if self._trial_id is not None:
            for record in resumed:
                msg = event_to_msg(record.to_event(self.site.id, self._trial_id))
                self._queue(msg)
                self.trial_pub.publish(msg)
        still = sorted({r.robot_id for r in resumed} - set(released))
        tail = f"; still stopped: {', '.join(still)}" if still else ""
        return f"resumed {', '.join(released) or 'nothing'}{tail}"

    # -- events --------------------------------------------------------------------------------------------------------
    def _queue(self, msg: SafetyEventMsg | TrialEventMsg) -> None:
        self._outbox[msg.event_id] = (msg, time.monotonic())

    def _emit(self, events: Sequence[SafetyEvent]) -> None:
        for event in events:
            msg = safety_to_msg(event)
            self._queue(msg)
            self.safety_pub.publish(msg)
            self.get_logger().warning(
                f"{event.type} ({event.severity.value}) robot {event.robot_id}: "
                f"{event.measured:.3f} {event.unit} vs limit {event.limit:.3f} {event.unit}"
            )

    def _resend(self) -> None:
        mono = time.monotonic()
        for key, (msg, sent) in list(self._outbox.items()):
            if mono - sent >= self.resend_s:
                self._outbox[key] = (msg, mono)
                if isinstance(msg, SafetyEventMsg):
                    self.safety_pub.publish(msg)
                else:
                    self.trial_pub.publish(msg)

    def pending_events(self) -> list[str]:
        """Ids of events not yet acknowledged by a recorder."""
        with self._lock:
            return list(self._outbox)


def _standing(msg: RobotStatus) -> bool:
    """The robot reports standing still: STOPPED or FAULT and its base slower than STANDSTILL_M_S."""
    return msg.state in (RobotStatus.STOPPED, RobotStatus.FAULT) and msg.base_speed_m_s < STANDSTILL_M_S


def request_safety_stop(
    domain_id: int, robot_id: str, stop: bool, cause: str, requested_by: str, timeout_s: float = 10.0
) -> tuple[bool, str]:
    """Call /safety_stop on ROS domain `domain_id` (localhost) from a private rclpy context: (ok, message).
    robot_id "" means the whole site. Raises ProcessError when no safety monitor answers within `timeout_s`."""
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    context = Context()
    rclpy.init(context=context, domain_id=domain_id)
    node = Node("safety_stop_client", context=context)
    executor = SingleThreadedExecutor(context=context)
    try:
        executor.add_node(node)
        client: Client[ProtectiveStop.Request, ProtectiveStop.Response] = node.create_client(
            ProtectiveStop, SAFETY_STOP
        )
        if not client.wait_for_service(timeout_sec=timeout_s):
            raise ProcessError(
                f"no safety_monitor serves {SAFETY_STOP} on ROS domain {domain_id} (waited {timeout_s:g} s)"
            )
        request = ProtectiveStop.Request(robot_id=robot_id, stop=stop, cause=cause, requested_by=requested_by)
        future = client.call_async(request)
        executor.spin_until_future_complete(future, timeout_sec=timeout_s)
        response = future.result()
        if response is None:
            raise ProcessError(f"{SAFETY_STOP} on ROS domain {domain_id}: no answer within {timeout_s:g} s")
        return bool(response.ok), str(response.message)
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown(context=context)


def main(args: Sequence[str] | None = None) -> None:
    sys.exit(run_node(SafetyMonitor, args))


if __name__ == "__main__":
    main()
