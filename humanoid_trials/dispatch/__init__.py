"""Dispatch: allocation of task repetitions to robots, the trial state machine and the validation gate.

Pure Python (numpy/scipy only): no rclpy, no pybullet, no clock reads — every time is passed in (`now`, a UTC
`datetime`). The ROS nodes in `humanoid_trials/ros/` translate messages into these calls and back.

API (stable; also in /work/notes/dispatch_api.md)
-------------------------------------------------
Plan (static, built once per trial) — `dispatch.plan`:
  TrialPlan.build(scenario, site, profiles, *, trial_id=None, validation=None) -> TrialPlan
      tasks: tuple[PlannedTask] (id, type, demand: TaskDemand, repetitions, depends_on, timeout_s, max_retries,
      allowed robots); robots: tuple[RobotSpec] (id, model_id, capabilities, payload, reach, height, speed, home xy).
      `profiles` is a mapping profile id -> RobotProfile (e.g. `catalog.profiles`). `validation`: a
      ValidationReport of this content hash; tasks then go only to robots in its TaskVerdict.feasible_robots.
      TrialPlan.to_dict() / from_dict() are JSON-able; plan.unassignable() -> tuple[Unassignable] (static pre-check).

Allocation — `dispatch.allocation`:
  allocate(tasks: Sequence[TaskDemand], robots: Sequence[RobotState], weights=CostWeights()) -> Allocation
      one round: at most one task per robot, optimal (scipy linear_sum_assignment) on cost in s =
      travel (distance / max base speed) + queue (busy time remaining) + battery penalty.
      Allocation.assignments: tuple[Assignment(task_key, robot_id, cost_s, travel_s)]
      Allocation.deferred: tuple[task_key]      feasible, but every capable robot was taken this round
      Allocation.unassignable: tuple[Unassignable(task_key, reason: str, permanent: bool)]
          permanent=True: no deployed robot can ever do it (capability / payload / reach / allowed list /
          pre-validation); permanent=False: capable robots exist but none is available now (lost, protective stop,
          battery below CostWeights.min_battery_frac).
  plan_all(tasks, robots, durations_s, weights=CostWeights()) -> Schedule   rounds of `allocate` until every
      feasible task is placed (robots' busy time and position advance; depends_on is not modelled here).
  synthetic_problem(n_tasks, n_robots, seed) -> (tasks, robots, durations_s)   for bench/dispatch_bench.py:
      `tasks, robots, d = synthetic_problem(1000, 100, 0); allocate(tasks, robots); plan_all(tasks, robots, d)`
      (measured here: allocate one round 10-15 ms, plan_all of all 1000 tasks ~30 ms).

Trial state machine — `dispatch.trial`:
  m = TrialMachine(plan, weights=None)          # or TrialMachine.restore(snapshot)
  Every input returns list[Command]; events collect in an outbox until acknowledged.
  m.start(now, *, mode="sim", scenario_hash="", operator="", software_version="")   # mode: TrialMode | sim | field
      trial_started payload = TrialInfo(...).to_payload() (model/events.py: trial_id, site_id, scenario_id,
      scenario_hash, mode, software_version, operator, robots {robot_id: robot_model_id}, started_at = now) plus
      time_limit_s, repetitions (count), tasks (ids), robot_ids (list). TrialInfo.from_payload(payload) reads it
      (the store does). m.info -> TrialInfo | None (None before start); kept by snapshot()/restore().
  m.goal_accepted(goal_id, now) / m.goal_rejected(goal_id, reason, now)
  m.feedback(goal_id, progress: float 0..1, now)
  m.result(goal_id, success: bool, reason: str, now)
  m.tick(now)                                   # attempt timeouts and the trial time limit
  m.robot_lost(robot_id, now) / m.robot_back(robot_id, now)
  m.robot_down(robot_id, now, reason: str)      # robot fault or fall (reason e.g. safety.balance.fall_reason(ev)):
      its attempt is cancelled (CancelGoal, reason) and finishes with outcome failed + reason, WITHOUT using a
      retry (not the task's fault, like robot_lost); the repetition is queued again for another capable robot; the
      robot takes no work until m.robot_back(robot_id, now). Emits robot_lost (payload robot_id, reason,
      down=True [+ task_id, repetition, attempt]) then attempt_finished. Repeated robot_down / robot_lost of a robot
      already down or lost are ignored (one fall gives several balance events). state_view robots: "down_reason".
  m.protective_stop(robot_id, now, reason="") / m.resume(robot_id, now)
  m.update_robot(robot_id, now, battery_frac=None)
  m.stop(now, reason="stopped by operator")
  Commands: SendGoal(goal_id, task_id, task_type, repetition, attempt, robot_id, timeout_s)
            CancelGoal(goal_id, task_id, repetition, attempt, robot_id, reason)
  goal_id is a str (UUID, equal to the Attempt.attempt_id of that attempt).
  m.pending_events() -> list[TrialEvent]        # model/events.py; not yet acknowledged, oldest first
  m.new_events() -> list[TrialEvent]            # emitted since the last call (after restore: all pending); cheap —
                                                # publish these after each input, resend pending_events() on a timer
  m.ack(event_id) -> bool                       # the recorder stored it; drops it from the outbox
  m.snapshot() -> dict (JSON-able); TrialMachine.restore(snapshot) -> TrialMachine (exact). Journal the snapshot
      after each input, before sending its commands / publishing its events (write-ahead): ids then stay stable.
      (20 robots x 1000 repetitions: snapshot 4 ms + json 8 ms, 252 KiB; restore 24 ms.)
  m.state_view() -> TrialStateView (per repetition: task_id, repetition, state, robot_id, attempt, times; JSON-able
      via .to_dict(), .counts()) for the latched trial_state topic; m.finished: bool, m.phase, m.finish_reason,
      m.rep_state(task_id, repetition) -> RepState
  RepState: queued | assigned | underway | done | failed | cancelled; repetition and attempt numbers start at 1.
  Events emitted (EventKind): trial_started, task_assigned, task_unassignable (payload: task_id, reason,
      permanent), attempt_started, attempt_finished (Attempt.to_payload() + "repetition", "goal_id"; its event id is
      the attempt id = goal id), robot_lost (also from robot_down: + reason, down), robot_recovered, stop / resume
      (protective stop of a robot: robot_id, reason), trial_stopped, trial_finished (reason, counts per state).
      All event ids are uuid5 of the trial id.
  Call m.tick(now) periodically (e.g. 10 Hz): it is the only place timeouts and the time limit are seen.
  A CancelGoal may be followed at once by a SendGoal to the same robot: robot nodes must pre-empt.

Validation gate — `dispatch.gate`:
  check_gate(mode: TrialMode | "sim" | "field", content_hash: str, latest: ValidationLike | None,
             override: Override | None, *, trial_id: UUID, now) -> GateDecision(allowed, reason, event)
  Override(who, why); event is the validation_override TrialEvent when an override was used, else None.

Errors — `dispatch.errors`: DispatchError (base), PlanError, AllocationError, TrialStateError, UnknownGoalError,
  UnknownRobotError, GateError, SnapshotError.
"""

from humanoid_trials.dispatch.allocation import (
    Allocation,
    Assignment,
    CostWeights,
    ReachPoint,
    RobotState,
    Schedule,
    TaskDemand,
    Unassignable,
    allocate,
    explain,
    feasibility,
    plan_all,
    synthetic_problem,
)
from humanoid_trials.dispatch.errors import (
    AllocationError,
    DispatchError,
    GateError,
    PlanError,
    SnapshotError,
    TrialStateError,
    UnknownGoalError,
    UnknownRobotError,
)
from humanoid_trials.dispatch.gate import GateDecision, Override, TrialMode, ValidationLike, check_gate
from humanoid_trials.dispatch.plan import PlannedTask, RobotSpec, TrialPlan
from humanoid_trials.dispatch.trial import (
    CancelGoal,
    Command,
    Phase,
    RepState,
    RepView,
    SendGoal,
    TrialMachine,
    TrialStateView,
)

__all__ = [
    "Allocation",
    "AllocationError",
    "Assignment",
    "CancelGoal",
    "Command",
    "CostWeights",
    "DispatchError",
    "GateDecision",
    "GateError",
    "Override",
    "Phase",
    "PlanError",
    "PlannedTask",
    "ReachPoint",
    "RepState",
    "RepView",
    "RobotSpec",
    "RobotState",
    "Schedule",
    "SendGoal",
    "SnapshotError",
    "TaskDemand",
    "TrialMachine",
    "TrialMode",
    "TrialPlan",
    "TrialStateError",
    "TrialStateView",
    "Unassignable",
    "UnknownGoalError",
    "UnknownRobotError",
    "ValidationLike",
    "allocate",
    "check_gate",
    "explain",
    "feasibility",
    "plan_all",
    "synthetic_problem",
]
