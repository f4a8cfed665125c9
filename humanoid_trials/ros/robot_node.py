"""robot_node: one per robot, in the robot's namespace. Serves the `execute_task` action through a backend plug-in,
publishes `robot_status` (heartbeat with DDS liveliness) and accepts `protective_stop`.

Parameters: robot_id, site (required); scenario (for perturbations), backend (sim | scripted), backend_options
(`key=value;...`), time_scale (used when a goal carries none), heartbeat_period_s, extra_files (catalog files).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from humanoid_trials_interfaces.action import ExecuteTask
from humanoid_trials_interfaces.msg import RobotStatus
from humanoid_trials_interfaces.srv import ProtectiveStop
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.action.server import ServerGoalHandle
from rclpy.node import Node
from rclpy.task import Future

from humanoid_trials.model.events import Outcome, utcnow
from humanoid_trials.ros import names, qos
from humanoid_trials.ros.backends import BackendContext, Progress, RobotBackend, make_backend, parse_options
from humanoid_trials.ros.convert import goal_to_request, status_to_msg, to_time
from humanoid_trials.ros.errors import BackendError, ConversionError, NodeConfigError
from humanoid_trials.ros.runtime import catalog_from, require, run_node

NODE_NAME = "robot_node"
RESULT_KEEP_S = 2
"""How long (s) a finished goal is kept by the action server. rclpy's default (900 s) makes every goal-status message
carry every goal of the last 15 minutes; the dispatcher asks for each result when the goal is accepted, so a few
seconds are enough."""


class RobotNode(Node):
    """A robot on the ROS graph, spun by a single-threaded executor that never blocks: the backend runs attempts in
    one worker thread, and the execute callback awaits the attempt's future (the worker wakes the executor with a
    guard condition), so heartbeat, cancel and protective stop are served while a task runs."""

    def __init__(self) -> None:
        super().__init__(NODE_NAME)
        self.robot_id = require(self.declare_parameter("robot_id", "").value, "robot_id", NODE_NAME)
        site_id = require(self.declare_parameter("site", "").value, "site", NODE_NAME)
        scenario_id: str = self.declare_parameter("scenario", "").value
        backend_name: str = self.declare_parameter("backend", "sim").value
        options = parse_options(self.declare_parameter("backend_options", "").value)
        self.time_scale: float = float(self.declare_parameter("time_scale", 1.0).value)
        period_s = float(self.declare_parameter("heartbeat_period_s", qos.HEARTBEAT_PERIOD_S).value)
        catalog = catalog_from(self.declare_parameter("extra_files", "").value)

        site = catalog.site(site_id)
        if self.robot_id not in {robot.id for robot in site.robots}:
            raise NodeConfigError(
                f"robot_node: robot {self.robot_id!r} is not deployed at site {site_id!r} "
                f"(deployed: {', '.join(r.id for r in site.robots)})"
            )
        profile = catalog.robot_profile(site, self.robot_id)
        self.robot_model = profile.id
        scenario = catalog.scenario(scenario_id) if scenario_id else None
        site_profiles = {robot.profile: catalog.profile(robot.profile) for robot in site.robots}
        context = BackendContext(self.robot_id, profile, site, scenario, self.time_scale, options, site_profiles)
        self.backend: RobotBackend = make_backend(backend_name, context)

        self._lock = threading.Lock()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.robot_id}-backend")
        self._wake = self.create_guard_condition(lambda: None)
        self._generation = 0
        self._busy_task = ""
        self._stopped_cause = ""
        self._seq = 0

        self._status_pub = self.create_publisher(RobotStatus, names.ROBOT_STATUS, qos.ROBOT_STATUS_QOS)
        self.create_timer(period_s, self._heartbeat)
        self.create_service(ProtectiveStop, names.PROTECTIVE_STOP, self._protective_stop)
        self._server = ActionServer(
            self,
            ExecuteTask,
            names.EXECUTE_TASK,
            execute_callback=self._execute,
            goal_callback=self._on_goal,
            cancel_callback=self._on_cancel,
            result_timeout=RESULT_KEEP_S,
        )
        self.get_logger().info(
            f"robot {self.robot_id} ({self.robot_model}) at {site_id}: backend {backend_name}, heartbeat {period_s} s"
        )

    # -- status -----------------------------------------------------------------------------------------------------
    def _state(self) -> str:
        status = self.backend.status()
        with self._lock:
            if status.fault:
                return RobotStatus.FAULT
            if self._stopped_cause:
                return RobotStatus.STOPPED
            return RobotStatus.BUSY if self._busy_task else RobotStatus.IDLE

    def _heartbeat(self) -> None:
        state = self._state()
        with self._lock:
            self._seq += 1
            seq, task = self._seq, self._busy_task
        msg = status_to_msg(self.robot_id, self.robot_model, state, task, self.backend.status(), utcnow(), seq)
        self._status_pub.publish(msg)

    # -- protective stop ----------------------------------------------------------------------------------------------
    def _protective_stop(
        self, request: ProtectiveStop.Request, response: ProtectiveStop.Response
    ) -> ProtectiveStop.Response:
        if request.robot_id not in ("", self.robot_id):
            response.ok = False
            response.message = f"this is robot {self.robot_id!r}, not {request.robot_id!r}"
            return response
        who = request.requested_by or "unknown"
        if request.stop:
            with self._lock:
                self._stopped_cause = request.cause or "protective stop"
            self.backend.stop(request.cause)
            self.get_logger().warning(f"protective stop by {who}: {request.cause}")
            response.message = "stopped"
        else:
            with self._lock:
                self._stopped_cause = ""
            self.backend.resume()
            self.get_logger().info(f"resumed by {who}")
            response.message = "resumed"
        response.ok = True
        self._heartbeat()
        return response

    # -- execute_task -----------------------------------------------------------------------------------------------
    def _on_goal(self, goal: ExecuteTask.Goal) -> GoalResponse:
        """Accept every goal. A new goal pre-empts the running one (the dispatcher may send the next attempt right
        after cancelling the last); a robot in protective stop holds the attempt until resumed; a faulted robot
        ends it at once with robot_fault set, so that the dispatcher takes the robot out, not the task."""
        return GoalResponse.ACCEPT

    def _on_cancel(self, goal_handle: ServerGoalHandle) -> CancelResponse:
        return CancelResponse.ACCEPT

    async def _execute(self, goal_handle: ServerGoalHandle) -> ExecuteTask.Result:
        with self._lock:
            self._generation += 1
            mine = self._generation  # a later goal pre-empts this one: its attempt returns within one play step
        result = ExecuteTask.Result(started=to_time(utcnow()))
        done: Future = Future()
        self._worker.submit(self._run_attempt, goal_handle, mine, result, done)
        await done
        result.finished = to_time(utcnow())
        if result.outcome == Outcome.CANCELLED.value and goal_handle.is_cancel_requested:
            goal_handle.canceled()
        elif result.outcome == Outcome.SUCCESS.value:
            goal_handle.succeed()
        else:
            goal_handle.abort()
        return result

    def _run_attempt(self, goal_handle: ServerGoalHandle, mine: int, result: ExecuteTask.Result, done: Future) -> None:
        """Worker thread: run one attempt on the backend, fill `result`, complete `done` and wake the executor."""

        def cancelled() -> bool:
            return bool(goal_handle.is_cancel_requested) or self._generation != mine

        with self._lock:
            self._busy_task = goal_handle.request.task_id
        try:
            request = goal_to_request(goal_handle.request)
            if goal_handle.request.time_scale <= 0:
                request = replace(request, time_scale=self.time_scale)
            outcome = self.backend.execute(request, lambda p: self._feedback(goal_handle, p), cancelled)
            result.outcome, result.reason = outcome.outcome.value, outcome.reason
            result.cycle_time_s, result.robot_fault = outcome.cycle_time_s, outcome.robot_fault
        except (ConversionError, BackendError) as exc:
            self.get_logger().error(f"task {goal_handle.request.task_id}: {exc}")
            result.outcome, result.reason = Outcome.FAILED.value, str(exc)
        finally:
            with self._lock:
                if self._generation == mine:
                    self._busy_task = ""
            done.set_result(True)
            self._wake.trigger()

    @staticmethod
    def _feedback(goal_handle: ServerGoalHandle, progress: Progress) -> None:
        goal_handle.publish_feedback(
            ExecuteTask.Feedback(phase=progress.phase, progress=progress.progress, elapsed_s=progress.elapsed_s)
        )

    def close(self) -> None:
        """Stop the running attempt and release the backend (called by the runtime before the node is destroyed)."""
        with self._lock:
            self._generation += 1
        self.backend.close()
        self._worker.shutdown(wait=True, cancel_futures=True)


def main(args: Sequence[str] | None = None) -> None:
    sys.exit(run_node(RobotNode, args, threads=1))


if __name__ == "__main__":
    main()
