"""The trial state machine: task repetitions through queued → assigned → underway → done | failed | cancelled.

Pure and deterministic: every input carries `now` (timezone-aware UTC datetime) and returns the commands to send
(`SendGoal`, `CancelGoal`); TrialEvents (humanoid_trials.model.events) collect in an outbox until `ack(event_id)`.
Ids are derived from the trial id (uuid5), so the same inputs give the same outputs, and `snapshot()` /
`TrialMachine.restore()` round-trip the whole state through JSON.

Rules
- A repetition is ready when every repetition of each task in its `depends_on` is done; if one of them ends failed
  or cancelled, the dependants are cancelled.
- Each round (after every input) ready repetitions go to idle robots by `allocation.allocate` (optimal, one task per
  robot). Tasks that no deployed robot can do fail at start, with the reason.
- An attempt that fails, is rejected or times out counts against `max_retries`; a robot lost or down (fault, fall:
  `robot_down`) does not — that is not the task's fault: its repetition is queued again for another capable robot.
  The attempt timeout (`timeout_s`, from assignment) pauses while the robot is in protective stop.
- The trial finishes when every repetition is terminal, at `stop()`, or at the time limit (checked by `tick`).
- Robot nodes must pre-empt: a new goal may arrive right after a CancelGoal of the previous one.

Crash safety: journal `snapshot()` after each input and before carrying out its commands or publishing its events
(write-ahead); a machine restored from that journal then continues with the same goal and event ids. Events stay
in the outbox until `ack(event_id)`, and `new_events()` hands each out once for publishing.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from humanoid_trials.dispatch.allocation import CostWeights, RobotState, TaskDemand, allocate, feasibility
from humanoid_trials.dispatch.errors import SnapshotError, TrialStateError, UnknownGoalError, UnknownRobotError
from humanoid_trials.dispatch.gate import TrialMode
from humanoid_trials.dispatch.plan import PlannedTask, TrialPlan
from humanoid_trials.model.events import Attempt, EventKind, Outcome, TrialEvent, TrialInfo

log = logging.getLogger(__name__)

SNAPSHOT_VERSION = 1


class RepState(StrEnum):
    QUEUED = "queued"
    ASSIGNED = "assigned"
    UNDERWAY = "underway"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL = frozenset({RepState.DONE, RepState.FAILED, RepState.CANCELLED})
ACTIVE = frozenset({RepState.ASSIGNED, RepState.UNDERWAY})


class Phase(StrEnum):
    CREATED = "created"
    RUNNING = "running"
    FINISHED = "finished"


@dataclass(frozen=True)
class SendGoal:
    """Send `execute_task` for one attempt to a robot. goal_id is a UUID string (= the Attempt's attempt_id)."""

    goal_id: str
    task_id: str
    task_type: str
    repetition: int
    attempt: int
    robot_id: str
    timeout_s: float


@dataclass(frozen=True)
class CancelGoal:
    goal_id: str
    task_id: str
    repetition: int
    attempt: int
    robot_id: str
    reason: str


Command = SendGoal | CancelGoal


@dataclass
class _Rep:
    """Mutable record of one task repetition (1-based repetition and attempt numbers)."""

    task_id: str
    repetition: int
    state: RepState = RepState.QUEUED
    attempt: int = 0
    failures: int = 0
    robot_id: str | None = None
    goal_id: str | None = None
    assigned_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    progress: float = 0.0
    paused_s: float = 0.0
    reason: str = ""

    @property
    def key(self) -> str:
        return f"{self.task_id}#{self.repetition}"


@dataclass
class _Robot:
    id: str
    xy_m: tuple[float, float]
    station: str
    lost: bool = False
    down_reason: str = ""  # set by robot_down (fault, fall); empty for a plain robot_lost
    stopped: bool = False
    stopped_since: datetime | None = None
    stop_reason: str = ""
    battery_frac: float = 1.0
    goal_id: str | None = None


def _t(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_t(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _check_now(now: datetime) -> None:
    if now.tzinfo is None:
        raise TrialStateError(f"naive datetime {now!r}: pass timezone-aware UTC times to the trial state machine")


@dataclass(frozen=True)
class RepView:
    """One repetition for the trial-state topic; times are ISO 8601 UTC strings or None."""

    task_id: str
    repetition: int
    state: str
    robot_id: str
    attempt: int
    assigned_at: str | None
    started_at: str | None
    finished_at: str | None
    progress: float
    reason: str


@dataclass(frozen=True)
class TrialStateView:
    trial_id: str
    scenario_id: str
    site_id: str
    phase: str
    finish_reason: str
    repetitions: tuple[RepView, ...]
    robots: tuple[Mapping[str, Any], ...]

    def counts(self) -> dict[str, int]:
        out = {state.value: 0 for state in RepState}
        for rep in self.repetitions:
            out[rep.state] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "trial_id": self.trial_id, "scenario_id": self.scenario_id, "site_id": self.site_id,
            "phase": self.phase, "finish_reason": self.finish_reason, "counts": self.counts(),
            "repetitions": [asdict(r) for r in self.repetitions], "robots": [dict(r) for r in self.robots],
        }


class TrialMachine:
    """State machine of one trial. Not thread-safe: call it from one executor thread."""

    def __init__(self, plan: TrialPlan, weights: CostWeights | None = None) -> None:
        self.plan = plan
        self.weights = weights or CostWeights()
        self._tasks: dict[str, PlannedTask] = {t.id: t for t in plan.tasks}
        self._reps: dict[str, _Rep] = {}
        for task in plan.tasks:
            for n in range(1, task.repetitions + 1):
                rep = _Rep(task.id, n)
                self._reps[rep.key] = rep
        self._robots: dict[str, _Robot] = {
            r.id: _Robot(r.id, r.home_xy_m, r.home_station) for r in plan.robots
        }
        self._goals: dict[str, str] = {}  # goal id -> repetition key
        self._phase = Phase.CREATED
        self._started_at: datetime | None = None
        self._info: TrialInfo | None = None
        self._finished_at: datetime | None = None
        self._finish_reason = ""
        self._seq = 0
        self._outbox: dict[str, TrialEvent] = {}
        self._waiting: dict[str, str] = {}  # task id -> last transient "cannot assign" reason reported
        self._demands: dict[str, TaskDemand] = {}
        self._fresh: list[TrialEvent] = []  # emitted since the last new_events() call (not part of the snapshot)
        self._recount()
        matrix = feasibility([t.demand for t in plan.tasks], [r.state(r.home_xy_m) for r in plan.robots])
        self._capable: dict[str, tuple[str, ...]] = {
            task.id: tuple(plan.robots[j].id for j in range(len(plan.robots)) if matrix[i, j])
            for i, task in enumerate(plan.tasks)
        }

    # ----------------------------------------------------------------- properties

    @property
    def trial_id(self) -> uuid.UUID:
        return self.plan.trial_id

    @property
    def phase(self) -> Phase:
        return self._phase

    @property
    def finished(self) -> bool:
        return self._phase is Phase.FINISHED

    @property
    def finish_reason(self) -> str:
        return self._finish_reason

    @property
    def info(self) -> TrialInfo | None:
        """What the trial_started event said (mode, scenario hash, operator, software, robots); None before start."""
        return self._info

    def rep_state(self, task_id: str, repetition: int) -> RepState:
        return self._rep(f"{task_id}#{repetition}").state

    # ----------------------------------------------------------------- outbox

    def pending_events(self) -> list[TrialEvent]:
        """Events not yet acknowledged as stored, oldest first."""
        return list(self._outbox.values())

    def new_events(self) -> list[TrialEvent]:
        """Events emitted since the last call (after `restore`: every pending event). They stay in the outbox
        until acknowledged; this is the cheap way for a producer to publish each event once, then resend
        `pending_events()` only on a timer."""
        fresh, self._fresh = self._fresh, []
        return fresh

    def ack(self, event_id: uuid.UUID | str) -> bool:
        """The recorder stored this event: drop it from the outbox. False if it was not pending."""
        return self._outbox.pop(str(event_id), None) is not None

    # ----------------------------------------------------------------- inputs

    def start(
        self,
        now: datetime,
        *,
        mode: TrialMode | str = TrialMode.SIM,
        scenario_hash: str = "",
        operator: str = "",
        software_version: str = "",
    ) -> list[Command]:
        """Start the trial: fail tasks no robot can do, assign the first round.

        The trial_started payload is `TrialInfo.to_payload()` (robots: robot id -> robot model id, started_at =
        now) plus time_limit_s (s), repetitions (count), tasks (ids) and robot_ids (list)."""
        _check_now(now)
        if self._phase is not Phase.CREATED:
            raise TrialStateError(f"trial {self.trial_id} is already {self._phase.value}; start it once")
        try:
            trial_mode = TrialMode(mode)
        except ValueError as exc:
            raise TrialStateError(f"trial {self.trial_id}: unknown mode {mode!r}; expected one of sim, field") from exc
        info = TrialInfo(
            trial_id=self.trial_id, site_id=self.plan.site_id, scenario_id=self.plan.scenario_id,
            scenario_hash=scenario_hash, mode=trial_mode.value, software_version=software_version,
            operator=operator, robots={r.id: r.model_id for r in self.plan.robots}, started_at=now,
        )
        self._phase = Phase.RUNNING
        self._started_at = now
        self._info = info
        self._emit(EventKind.TRIAL_STARTED, now, {
            **info.to_payload(),
            "time_limit_s": self.plan.time_limit_s, "repetitions": len(self._reps),
            "tasks": [t.id for t in self.plan.tasks], "robot_ids": [r.id for r in self.plan.robots],
        })
        self._fail_impossible(now)
        return self._step(now)

    def goal_accepted(self, goal_id: str, now: datetime) -> list[Command]:
        """The robot accepted the goal: the attempt is under way (cycle time counts from here)."""
        rep = self._current(goal_id, now)
        if rep is None:
            return []
        if rep.state is RepState.ASSIGNED:
            rep.state = RepState.UNDERWAY
            rep.started_at = now
            self._emit(EventKind.ATTEMPT_STARTED, now, self._attempt_ref(rep))
        return []

    def goal_rejected(self, goal_id: str, reason: str, now: datetime) -> list[Command]:
        """The robot refused the goal: a failed attempt (counts against max_retries)."""
        rep = self._current(goal_id, now)
        if rep is None:
            return []
        self._finish_attempt(rep, Outcome.FAILED, f"goal rejected: {reason}" if reason else "goal rejected", now)
        return self._step(now)

    def feedback(self, goal_id: str, progress: float, now: datetime) -> list[Command]:
        """Progress 0..1 of the current attempt; accepted as a sign of life, no event."""
        rep = self._current(goal_id, now)
        if rep is not None:
            rep.progress = min(max(float(progress), 0.0), 1.0)
            if rep.state is RepState.ASSIGNED:
                return self.goal_accepted(goal_id, now)
        return []

    def result(self, goal_id: str, success: bool, reason: str, now: datetime) -> list[Command]:
        """The attempt ended. Results of goals that are no longer current (timed out, robot lost) are ignored."""
        rep = self._current(goal_id, now)
        if rep is None:
            return []
        if success:
            rep.progress = 1.0
            self._finish_attempt(rep, Outcome.SUCCESS, reason, now)
        else:
            self._finish_attempt(rep, Outcome.FAILED, reason or "failed", now)
        return self._step(now)

    def tick(self, now: datetime) -> list[Command]:
        """Check attempt timeouts and the trial time limit. Call it periodically (e.g. 10 Hz)."""
        _check_now(now)
        if self._phase is not Phase.RUNNING:
            return []
        if self._started_at is None:
            raise TrialStateError(f"trial {self.trial_id} is running but has no start time")
        if (now - self._started_at).total_seconds() >= self.plan.time_limit_s:
            return self._end(now, f"time limit {self.plan.time_limit_s:g} s reached")
        commands: list[Command] = []
        for robot in self._robots.values():
            if robot.goal_id is None:
                continue
            rep = self._reps[self._goals[robot.goal_id]]
            if rep.state not in ACTIVE or rep.assigned_at is None:
                continue
            paused = rep.paused_s
            if robot.stopped and robot.stopped_since is not None:
                paused += (now - robot.stopped_since).total_seconds()
            elapsed = (now - rep.assigned_at).total_seconds() - paused
            timeout = self._tasks[rep.task_id].timeout_s
            if elapsed >= timeout:
                commands.append(self._cancel(rep, f"timeout after {timeout:g} s"))
                self._finish_attempt(rep, Outcome.TIMEOUT, f"no result within {timeout:g} s", now)
        return commands + self._step(now)

    def robot_lost(self, robot_id: str, now: datetime) -> list[Command]:
        """Heartbeat or liveliness lost: its attempt ends (robot_lost, no retry used) and is queued again."""
        _check_now(now)
        robot = self._robot(robot_id)
        if self._phase is Phase.FINISHED or robot.lost:
            return []
        robot.lost = True
        rep = self._reps[self._goals[robot.goal_id]] if robot.goal_id is not None else None
        payload: dict[str, Any] = {"robot_id": robot_id}
        if rep is not None:
            payload.update(task_id=rep.task_id, repetition=rep.repetition, attempt=rep.attempt)
        self._emit(EventKind.ROBOT_LOST, now, payload)
        commands: list[Command] = []
        if rep is not None:
            commands.append(self._cancel(rep, "robot lost"))
            self._finish_attempt(rep, Outcome.ROBOT_LOST, f"robot {robot_id} lost", now)
        return commands + self._step(now)

    def robot_down(self, robot_id: str, now: datetime, reason: str) -> list[Command]:
        """The robot faulted or fell (`reason`, e.g. `humanoid_trials.safety.balance.fall_reason(event)`).

        Its attempt is cancelled and finishes with outcome failed and this reason, but uses no retry (not the
        task's fault, as for robot_lost): the repetition is queued again for another capable robot. The robot takes
        no work until `robot_back`. Emits robot_lost (payload robot_id, reason, down=True, and task_id, repetition,
        attempt if it had one) before the attempt_finished. Ignored if the robot is already lost or down."""
        _check_now(now)
        robot = self._robot(robot_id)
        if self._phase is Phase.FINISHED or robot.lost:
            return []
        why = reason.strip() or "robot down"
        robot.lost, robot.down_reason = True, why
        rep = self._reps[self._goals[robot.goal_id]] if robot.goal_id is not None else None
        payload: dict[str, Any] = {"robot_id": robot_id, "reason": why, "down": True}
        if rep is not None:
            payload.update(task_id=rep.task_id, repetition=rep.repetition, attempt=rep.attempt)
        self._emit(EventKind.ROBOT_LOST, now, payload)
        commands: list[Command] = []
        if rep is not None:
            commands.append(self._cancel(rep, why))
            self._finish_attempt(rep, Outcome.FAILED, why, now, counts=False)
        return commands + self._step(now)

    def robot_back(self, robot_id: str, now: datetime) -> list[Command]:
        """A lost or down robot reports again (fit for work): it may take work."""
        _check_now(now)
        robot = self._robot(robot_id)
        if self._phase is Phase.FINISHED or not robot.lost:
            return []
        robot.lost, robot.down_reason = False, ""
        self._emit(EventKind.ROBOT_RECOVERED, now, {"robot_id": robot_id})
        return self._step(now)

    def protective_stop(self, robot_id: str, now: datetime, reason: str = "") -> list[Command]:
        """The robot halted for safety: no new work; its attempt's timeout clock pauses until `resume`."""
        _check_now(now)
        robot = self._robot(robot_id)
        if self._phase is Phase.FINISHED or robot.stopped:
            return []
        robot.stopped, robot.stopped_since, robot.stop_reason = True, now, reason
        self._emit(EventKind.STOP, now, {"robot_id": robot_id, "reason": reason})
        return []

    def resume(self, robot_id: str, now: datetime) -> list[Command]:
        """The protective stop of the robot is released."""
        _check_now(now)
        robot = self._robot(robot_id)
        if self._phase is Phase.FINISHED or not robot.stopped:
            return []
        if robot.goal_id is not None and robot.stopped_since is not None:
            self._reps[self._goals[robot.goal_id]].paused_s += (now - robot.stopped_since).total_seconds()
        robot.stopped, robot.stopped_since, robot.stop_reason = False, None, ""
        self._emit(EventKind.RESUME, now, {"robot_id": robot_id})
        return self._step(now)

    def update_robot(self, robot_id: str, now: datetime, battery_frac: float | None = None) -> list[Command]:
        """Robot status: battery fraction 0..1. Low battery (below the reserve) keeps the robot from new work."""
        _check_now(now)
        robot = self._robot(robot_id)
        if battery_frac is not None:
            robot.battery_frac = min(max(float(battery_frac), 0.0), 1.0)
        return self._step(now)

    def stop(self, now: datetime, reason: str = "stopped by operator") -> list[Command]:
        """Stop the trial: cancel every active attempt, cancel queued repetitions, finish."""
        _check_now(now)
        if self._phase is Phase.CREATED:
            raise TrialStateError(f"trial {self.trial_id} was not started; nothing to stop")
        if self._phase is Phase.FINISHED:
            return []
        self._emit(EventKind.TRIAL_STOPPED, now, {"reason": reason})
        return self._end(now, reason)

    # ----------------------------------------------------------------- views

    def state_view(self) -> TrialStateView:
        """Per repetition and robot, for the latched trial-state topic and the CLI."""
        reps = tuple(
            RepView(
                task_id=r.task_id, repetition=r.repetition, state=r.state.value, robot_id=r.robot_id or "",
                attempt=r.attempt, assigned_at=_t(r.assigned_at), started_at=_t(r.started_at),
                finished_at=_t(r.finished_at), progress=r.progress, reason=r.reason,
            )
            for r in self._reps.values()
        )
        robots = tuple(
            {
                "robot_id": r.id, "station": r.station, "lost": r.lost, "down_reason": r.down_reason,
                "stopped": r.stopped, "battery_frac": r.battery_frac,
                "task": self._goals[r.goal_id] if r.goal_id is not None else "",
            }
            for r in self._robots.values()
        )
        return TrialStateView(
            trial_id=str(self.trial_id), scenario_id=self.plan.scenario_id, site_id=self.plan.site_id,
            phase=self._phase.value, finish_reason=self._finish_reason, repetitions=reps, robots=robots,
        )

    # ----------------------------------------------------------------- snapshot

    def snapshot(self) -> dict[str, Any]:
        """The whole state as JSON-able data (plan included); `TrialMachine.restore` rebuilds it exactly."""
        return {
            "version": SNAPSHOT_VERSION,
            "plan": self.plan.to_dict(),
            "weights": vars(self.weights).copy(),
            "phase": self._phase.value,
            "started_at": _t(self._started_at),
            "info": self._info.to_payload() if self._info is not None else None,
            "finished_at": _t(self._finished_at),
            "finish_reason": self._finish_reason,
            "seq": self._seq,
            "reps": [
                {
                    "task_id": r.task_id, "repetition": r.repetition, "state": r.state.value, "attempt": r.attempt,
                    "failures": r.failures, "robot_id": r.robot_id, "goal_id": r.goal_id,
                    "assigned_at": _t(r.assigned_at), "started_at": _t(r.started_at),
                    "finished_at": _t(r.finished_at), "progress": r.progress, "paused_s": r.paused_s,
                    "reason": r.reason,
                }
                for r in self._reps.values()
            ],
            "robots": [
                {
                    "id": r.id, "xy_m": list(r.xy_m), "station": r.station, "lost": r.lost,
                    "down_reason": r.down_reason, "stopped": r.stopped,
                    "stopped_since": _t(r.stopped_since), "stop_reason": r.stop_reason,
                    "battery_frac": r.battery_frac, "goal_id": r.goal_id,
                }
                for r in self._robots.values()
            ],
            "goals": dict(self._goals),
            "waiting": dict(self._waiting),
            "outbox": [e.to_json() for e in self._outbox.values()],
        }

    @classmethod
    def restore(cls, snapshot: Mapping[str, Any]) -> TrialMachine:
        """Rebuild a machine from `snapshot()` output (possibly after a JSON round trip)."""
        version = snapshot.get("version") if isinstance(snapshot, Mapping) else None
        if version != SNAPSHOT_VERSION:
            raise SnapshotError(f"trial snapshot version {version!r} is not supported (expected {SNAPSHOT_VERSION})")
        try:
            machine = cls(TrialPlan.from_dict(snapshot["plan"]), CostWeights(**snapshot["weights"]))
            machine._phase = Phase(snapshot["phase"])
            machine._started_at = _parse_t(snapshot["started_at"])
            info = snapshot.get("info")  # absent in snapshots written before start() took the trial info
            machine._info = TrialInfo.from_payload(info) if info is not None else None
            machine._finished_at = _parse_t(snapshot["finished_at"])
            machine._finish_reason = snapshot["finish_reason"]
            machine._seq = int(snapshot["seq"])
            for data in snapshot["reps"]:
                rep = _Rep(
                    task_id=data["task_id"], repetition=int(data["repetition"]), state=RepState(data["state"]),
                    attempt=int(data["attempt"]), failures=int(data["failures"]), robot_id=data["robot_id"],
                    goal_id=data["goal_id"], assigned_at=_parse_t(data["assigned_at"]),
                    started_at=_parse_t(data["started_at"]), finished_at=_parse_t(data["finished_at"]),
                    progress=float(data["progress"]), paused_s=float(data["paused_s"]), reason=data["reason"],
                )
                if rep.key not in machine._reps:
                    raise SnapshotError(f"trial snapshot has repetition {rep.key!r} that its plan does not have")
                machine._reps[rep.key] = rep
            for data in snapshot["robots"]:
                x, y = data["xy_m"]
                robot = _Robot(
                    id=data["id"], xy_m=(float(x), float(y)), station=data["station"], lost=bool(data["lost"]),
                    down_reason=str(data.get("down_reason", "")), stopped=bool(data["stopped"]),
                    stopped_since=_parse_t(data["stopped_since"]),
                    stop_reason=data["stop_reason"], battery_frac=float(data["battery_frac"]),
                    goal_id=data["goal_id"],
                )
                if robot.id not in machine._robots:
                    raise SnapshotError(f"trial snapshot has robot {robot.id!r} that its plan does not have")
                machine._robots[robot.id] = robot
            machine._recount()
            machine._goals = {str(k): str(v) for k, v in snapshot["goals"].items()}
            machine._waiting = {str(k): str(v) for k, v in snapshot["waiting"].items()}
            for text in snapshot["outbox"]:
                event = TrialEvent.from_json(text)
                machine._outbox[str(event.event_id)] = event
                machine._fresh.append(event)
        except SnapshotError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise SnapshotError(f"trial snapshot is malformed: {type(exc).__name__}: {exc}") from exc
        return machine

    # ----------------------------------------------------------------- internals

    def _rep(self, key: str) -> _Rep:
        try:
            return self._reps[key]
        except KeyError as exc:
            raise TrialStateError(f"trial {self.trial_id} has no task repetition {key!r}") from exc

    def _robot(self, robot_id: str) -> _Robot:
        try:
            return self._robots[robot_id]
        except KeyError as exc:
            known = ", ".join(self._robots)
            raise UnknownRobotError(f"robot {robot_id!r} is not deployed in trial {self.trial_id} ({known})") from exc

    def _current(self, goal_id: str, now: datetime) -> _Rep | None:
        """The repetition whose current attempt is `goal_id`, or None for a stale goal (logged)."""
        _check_now(now)
        key = self._goals.get(str(goal_id))
        if key is None:
            raise UnknownGoalError(f"goal {goal_id} was not sent by trial {self.trial_id}")
        rep = self._reps[key]
        if self._phase is not Phase.RUNNING or rep.goal_id != str(goal_id) or rep.state not in ACTIVE:
            log.info("ignoring message for stale goal %s (%s, state %s)", goal_id, key, rep.state.value)
            return None
        return rep

    def _emit(self, kind: EventKind, now: datetime, payload: Mapping[str, Any]) -> TrialEvent:
        """Queue an event. Its id is derived from the trial id, a sequence number and the content: a replay of the
        same input gives the same id (stored once), a different event after a restore from an older snapshot
        gets a new one."""
        self._seq += 1
        body = json.dumps(dict(payload), sort_keys=True, separators=(",", ":"))
        event = TrialEvent(
            trial_id=self.trial_id, kind=kind, payload=dict(payload), stamp=now,
            event_id=uuid.uuid5(self.trial_id, f"event:{self._seq}:{kind.value}:{now.isoformat()}:{body}"),
        )
        self._outbox[str(event.event_id)] = event
        self._fresh.append(event)
        return event

    def _attempt_ref(self, rep: _Rep) -> dict[str, Any]:
        return {
            "task_id": rep.task_id, "task_type": self._tasks[rep.task_id].type, "repetition": rep.repetition,
            "attempt": rep.attempt, "robot_id": rep.robot_id, "goal_id": rep.goal_id,
        }

    def _cancel(self, rep: _Rep, reason: str) -> CancelGoal:
        if rep.goal_id is None or rep.robot_id is None:
            raise TrialStateError(f"{rep.key} has no goal to cancel")
        return CancelGoal(rep.goal_id, rep.task_id, rep.repetition, rep.attempt, rep.robot_id, reason)

    def _finish_attempt(self, rep: _Rep, outcome: Outcome, reason: str, now: datetime, *, counts: bool = True) -> None:
        """Record the end of the current attempt and move the repetition on (done, retry, failed, cancelled).
        A failed or timed-out attempt uses a retry unless `counts` is False (robot down)."""
        if rep.robot_id is None or rep.goal_id is None or rep.assigned_at is None:
            raise TrialStateError(f"{rep.key} has no attempt under way")
        robot = self._robots[rep.robot_id]
        task = self._tasks[rep.task_id]
        attempt = Attempt(
            trial_id=self.trial_id, task_id=rep.task_id, task_type=task.type, robot_id=robot.id,
            robot_model=self.plan.robot(robot.id).model_id, attempt_no=rep.attempt,
            started_at=rep.started_at or rep.assigned_at, finished_at=now, outcome=outcome, reason=reason,
            attempt_id=uuid.UUID(rep.goal_id),
        )
        event = attempt.to_event()
        payload = dict(event.payload)
        payload.update(repetition=rep.repetition, goal_id=rep.goal_id)
        finished = TrialEvent(
            trial_id=event.trial_id, kind=event.kind, payload=payload, stamp=event.stamp, event_id=event.event_id
        )
        self._outbox[str(finished.event_id)] = finished
        self._fresh.append(finished)
        robot.goal_id = None
        rep.reason = reason
        if outcome is Outcome.SUCCESS:
            robot.xy_m, robot.station = task.end_xy_m, task.end_station
            self._terminate(rep, RepState.DONE, now)
            return
        robot.xy_m, robot.station = task.demand.station_xy_m, task.demand.station_id
        if outcome is Outcome.CANCELLED:
            self._terminate(rep, RepState.CANCELLED, now)
            return
        if counts and outcome in (Outcome.FAILED, Outcome.TIMEOUT):
            rep.failures += 1
        if rep.failures > task.max_retries:
            self._terminate(rep, RepState.FAILED, now,
                            f"{reason} (failed {rep.failures} times; max_retries {task.max_retries})")
            return
        rep.state = RepState.QUEUED
        rep.robot_id = rep.goal_id = None
        rep.assigned_at = rep.started_at = None
        rep.progress, rep.paused_s = 0.0, 0.0

    def _recount(self) -> None:
        """Per-task counters derived from the repetitions: open (not terminal), done, failed or cancelled."""
        self._by_task = {
            t.id: [self._reps[f"{t.id}#{n}"] for n in range(1, t.repetitions + 1)] for t in self.plan.tasks
        }
        self._n_open = {t.id: 0 for t in self.plan.tasks}
        self._n_done = {t.id: 0 for t in self.plan.tasks}
        self._n_bad = {t.id: 0 for t in self.plan.tasks}
        for rep in self._reps.values():
            if rep.state is RepState.DONE:
                self._n_done[rep.task_id] += 1
            elif rep.state in TERMINAL:
                self._n_bad[rep.task_id] += 1
            else:
                self._n_open[rep.task_id] += 1

    def _terminate(self, rep: _Rep, state: RepState, now: datetime, reason: str | None = None) -> None:
        """Move an open repetition to a terminal state (keeps the counters right)."""
        if rep.state in TERMINAL or state not in TERMINAL:
            raise TrialStateError(f"{rep.key}: cannot go from {rep.state.value} to {state.value}")
        rep.state, rep.finished_at = state, now
        if reason is not None:
            rep.reason = reason
        self._n_open[rep.task_id] -= 1
        if state is RepState.DONE:
            self._n_done[rep.task_id] += 1
        else:
            self._n_bad[rep.task_id] += 1

    def _fail_impossible(self, now: datetime) -> None:
        """Fail every repetition of tasks that no deployed robot can do, with the allocator's explanation."""
        for item in self.plan.unassignable():
            self._emit(EventKind.TASK_UNASSIGNABLE, now, {
                "task_id": item.task_key, "reason": item.reason, "permanent": True,
                "repetitions": self._tasks[item.task_key].repetitions,
            })
            for rep in self._reps_of(item.task_key):
                self._terminate(rep, RepState.FAILED, now, f"unassignable: {item.reason}")

    def _cancel_orphans(self, now: datetime) -> None:
        """Cancel queued repetitions whose dependencies can no longer all be done (repeat until stable)."""
        changed = True
        while changed:
            changed = False
            broken = {task_id for task_id, count in self._n_bad.items() if count}
            if not broken:
                return
            for task in self.plan.tasks:
                bad = [d for d in task.depends_on if d in broken]
                if not bad:
                    continue
                cancelled = 0
                for rep in self._reps_of(task.id):
                    if rep.state is RepState.QUEUED:
                        self._terminate(rep, RepState.CANCELLED, now, f"dependency {bad[0]!r} did not complete")
                        cancelled += 1
                if cancelled:
                    changed = True
                    self._emit(EventKind.TASK_UNASSIGNABLE, now, {
                        "task_id": task.id, "reason": f"dependency {bad[0]!r} did not complete", "permanent": True,
                        "repetitions": cancelled,
                    })

    def _reps_of(self, task_id: str) -> list[_Rep]:
        """The repetitions of a task in order (1, 2, …)."""
        return self._by_task[task_id]

    def _step(self, now: datetime) -> list[Command]:
        """After every input: cancel orphans, assign ready work to idle robots, finish when all is terminal."""
        if self._phase is not Phase.RUNNING:
            return []
        self._cancel_orphans(now)
        commands = self._assign(now)
        if not any(self._n_open.values()):
            self._finish(now, "complete")
        return commands

    def _ready_tasks(self) -> list[PlannedTask]:
        """Tasks whose dependencies are all done and that still have open repetitions."""
        return [
            t for t in self.plan.tasks
            if self._n_open[t.id] and all(self._n_done[d] == self._tasks[d].repetitions for d in t.depends_on)
        ]

    def _robot_state(self, robot: _Robot) -> RobotState:
        unavailable = ""
        if robot.lost:
            unavailable = f"down: {robot.down_reason}" if robot.down_reason else "lost"
        elif robot.stopped:
            unavailable = "in protective stop"
        return self.plan.robot(robot.id).state(robot.xy_m, battery_frac=robot.battery_frac, unavailable=unavailable)

    def _assign(self, now: datetime) -> list[Command]:
        idle = {
            r.id for r in self._robots.values()
            if not r.lost and not r.stopped and r.goal_id is None and r.battery_frac >= self.weights.min_battery_frac
        }
        demands: list[TaskDemand] = []
        for task in self._ready_tasks():
            takers = idle.intersection(self._capable[task.id])
            if not takers:
                self._report_waiting(task, now)
                continue
            self._waiting.pop(task.id, None)
            # at most one repetition per robot that could take it can be assigned this round: lowest numbers first
            queued = [r for r in self._reps_of(task.id) if r.state is RepState.QUEUED][: len(takers)]
            for rep in queued:
                demand = self._demands.get(rep.key)
                if demand is None:
                    demand = self._demands[rep.key] = task.demand_for(rep.repetition)
                demands.append(demand)
        if not demands:
            return []
        robots = [self._robot_state(self._robots[r.id]) for r in self.plan.robots if r.id in idle]
        result = allocate(demands, robots, self.weights)
        commands: list[Command] = []
        for item in result.assignments:
            rep = self._reps[item.task_key]
            robot = self._robots[item.robot_id]
            rep.attempt += 1
            rep.state, rep.robot_id, rep.assigned_at = RepState.ASSIGNED, robot.id, now
            rep.started_at = rep.finished_at = None
            rep.progress, rep.paused_s, rep.reason = 0.0, 0.0, ""
            rep.goal_id = str(uuid.uuid5(self.trial_id, f"attempt:{rep.key}:{rep.attempt}"))
            robot.goal_id = rep.goal_id
            self._goals[rep.goal_id] = rep.key
            task = self._tasks[rep.task_id]
            self._emit(EventKind.TASK_ASSIGNED, now, {
                **self._attempt_ref(rep), "cost_s": item.cost_s, "travel_s": item.travel_s,
            })
            commands.append(SendGoal(rep.goal_id, task.id, task.type, rep.repetition, rep.attempt, robot.id,
                                     task.timeout_s))
        return commands

    def _report_waiting(self, task: PlannedTask, now: datetime) -> None:
        """Tell once (per distinct reason) why ready work of `task` waits: its capable robots are unavailable."""
        reasons = []
        for robot_id in self._capable[task.id]:
            robot = self._robots[robot_id]
            if robot.lost:
                reasons.append(f"{robot_id} down: {robot.down_reason}" if robot.down_reason else f"{robot_id} lost")
            elif robot.stopped:
                reasons.append(f"{robot_id} in protective stop")
            elif robot.battery_frac < self.weights.min_battery_frac:
                reasons.append(
                    f"{robot_id} battery {robot.battery_frac:.0%} < reserve {self.weights.min_battery_frac:.0%}"
                )
        if not reasons or not any(r.state is RepState.QUEUED for r in self._reps_of(task.id)):
            self._waiting.pop(task.id, None)
            return
        reason = "no capable robot available: " + "; ".join(reasons)
        if self._waiting.get(task.id) == reason:
            return
        self._waiting[task.id] = reason
        self._emit(EventKind.TASK_UNASSIGNABLE, now, {"task_id": task.id, "reason": reason, "permanent": False})

    def _end(self, now: datetime, reason: str) -> list[Command]:
        """Cancel active attempts (outcome cancelled) and queued repetitions, then finish the trial."""
        commands: list[Command] = []
        for rep in self._reps.values():
            if rep.state in ACTIVE:
                commands.append(self._cancel(rep, reason))
                self._finish_attempt(rep, Outcome.CANCELLED, reason, now)
            elif rep.state is RepState.QUEUED:
                self._terminate(rep, RepState.CANCELLED, now, reason)
        self._finish(now, reason)
        return commands

    def _finish(self, now: datetime, reason: str) -> None:
        self._phase = Phase.FINISHED
        self._finished_at = now
        self._finish_reason = reason
        counts = {state.value: 0 for state in RepState}
        for rep in self._reps.values():
            counts[rep.state.value] += 1
        self._emit(EventKind.TRIAL_FINISHED, now, {
            "reason": reason, "counts": counts, "repetitions": len(self._reps),
            "duration_s": (now - self._started_at).total_seconds() if self._started_at else 0.0,
        })
