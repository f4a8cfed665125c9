"""Robot backends: the plug-in interface a robot node drives (execute / stop / resume / status) and its registry.

A vendor SDK adapter implements `RobotBackend`. Two backends ship:
- `sim`: plays the task's motion as computed by the pre-validation layer (`humanoid_trials.sim`, PyBullet) with its
  simulated phase durations, `time_scale` times faster than real time;
- `scripted`: a test backend with fixed phase durations and outcomes injected by parameter.

`execute` blocks: the robot node runs it in a worker thread, never in an executor callback. Times in a
`TaskOutcome` are simulated seconds (real seconds × time_scale). Poses are in the site frame (m, rad).
"""

from __future__ import annotations

import math
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from humanoid_trials.model import RobotMalfunction, RobotProfile, RobotTrip, Scenario, Site, TaskSpec
from humanoid_trials.model.events import Outcome
from humanoid_trials.ros.errors import BackendError, NodeConfigError

PLAY_STEP_S = 0.05
"""Longest real-time step (s) of the phase player between progress reports and stop/cancel checks."""
TRIP_TILT_RAD = 1.4
"""Base tilt (rad) reported after a `robot_trip` perturbation: the robot lies on the floor."""


@dataclass(frozen=True)
class BasePose:
    """Robot base pose in the site frame: x, y (m), heading yaw (rad)."""

    x_m: float
    y_m: float
    yaw_rad: float


@dataclass(frozen=True)
class Phase:
    """One phase of a task: name, simulated duration (s), and where the base ends up (None: it stays)."""

    name: str
    duration_s: float
    base_to: BasePose | None = None


@dataclass(frozen=True)
class TaskRequest:
    """One attempt of one task repetition, as the robot receives it."""

    trial_id: str
    task: TaskSpec
    repetition: int
    attempt: int
    time_scale: float


@dataclass(frozen=True)
class Progress:
    """Progress of the running attempt: phase name, fraction 0..1, simulated elapsed time (s)."""

    phase: str
    progress: float
    elapsed_s: float


@dataclass(frozen=True)
class TaskOutcome:
    """How an attempt ended; cycle_time_s is simulated seconds. robot_fault: the robot itself is out of order."""

    outcome: Outcome
    reason: str
    cycle_time_s: float
    robot_fault: bool = False


@dataclass(frozen=True)
class BackendStatus:
    """What a backend reports for robot_status. Site frame; m, m/s, rad; battery 0..1; fault '' when healthy."""

    pose: BasePose
    z_m: float = 0.0
    vx_m_s: float = 0.0
    vy_m_s: float = 0.0
    tilt_rad: float = 0.0
    com_x_m: float = 0.0
    com_y_m: float = 0.0
    battery_fraction: float = 1.0
    fault: str = ""


@dataclass(frozen=True)
class BackendContext:
    """Everything a backend factory gets: the robot, its model, the site (with every profile it deploys), the
    scenario (perturbations, seed) and the node's parameters."""

    robot_id: str
    profile: RobotProfile
    site: Site
    scenario: Scenario | None = None
    time_scale: float = 1.0
    options: dict[str, str] = field(default_factory=dict)
    site_profiles: Mapping[str, RobotProfile] = field(default_factory=dict)


ProgressCallback = Callable[[Progress], None]
CancelCheck = Callable[[], bool]


class RobotBackend(ABC):
    """What a robot node drives. Thread-safe: `execute` runs in a worker thread, the rest in executor threads."""

    @abstractmethod
    def execute(self, request: TaskRequest, on_progress: ProgressCallback, cancelled: CancelCheck) -> TaskOutcome:
        """Run one attempt to its end (blocking); return early with CANCELLED when `cancelled()` turns true."""

    @abstractmethod
    def stop(self, cause: str) -> None:
        """Protective stop: halt motion now and hold until `resume`."""

    @abstractmethod
    def resume(self) -> None:
        """Leave the protective stop; a paused attempt continues."""

    @abstractmethod
    def status(self) -> BackendStatus:
        """Current pose, motion, battery and fault."""

    @abstractmethod
    def close(self) -> None:
        """Release resources (simulation clients, SDK connections); a running `execute` returns soon after."""


def station_path(site: Site, task: TaskSpec) -> list[BasePose]:
    """Stations (site frame) a task's base visits in order: the stations of its objects or its named stations."""
    poses: list[BasePose] = []
    station_ids = [site.object(obj_id).station for _, obj_id in task.params.object_refs()]
    station_ids += [station_id for _, station_id in task.params.station_refs()]
    for station_id in station_ids:
        pose = site.station(station_id).pose
        base = BasePose(pose.x_m, pose.y_m, pose.yaw_rad)
        if not poses or poses[-1] != base:
            poses.append(base)
    return poses


def travel_phases(profile: RobotProfile, start: BasePose, stops: Sequence[BasePose]) -> list[Phase]:
    """Straight-line base moves between stations at the model's max base speed (s = m / (m/s))."""
    phases: list[Phase] = []
    here = start
    speed = max(profile.max_base_speed_m_s, 1e-3)
    for there in stops:
        distance = math.hypot(there.x_m - here.x_m, there.y_m - here.y_m)
        if distance > 1e-6:
            phases.append(Phase("travel", distance / speed, there))
        here = there
    return phases


class PhasePlayer(RobotBackend):
    """A backend that turns a request into timed phases and plays them in scaled real time.

    Subclasses implement `plan`. Playing handles time scaling, progress, cancel, protective stop (the clock holds
    while stopped), base motion (linear between poses), battery drain, and the scenario's `robot_malfunction` and
    `robot_trip` perturbations (simulated seconds after this robot's first goal of the trial).
    """

    def __init__(self, context: BackendContext) -> None:
        self.context = context
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._stop_cause = ""
        self._fault = ""
        home = context.site.station(context.site.robot(context.robot_id).home_station).pose
        self._pose = BasePose(home.x_m, home.y_m, home.yaw_rad)
        self._velocity = (0.0, 0.0)
        self._battery = 1.0
        self._tilt_rad = 0.0
        self._trial_id = ""
        self._trial_clock_start = 0.0
        self._time_scale = 1.0
        self._faults = self._scheduled_faults(context)

    @abstractmethod
    def plan(self, request: TaskRequest, start: BasePose) -> tuple[list[Phase], TaskOutcome | None]:
        """Phases of the attempt, and an early outcome when the attempt cannot be done (then phases are played
        up to the failure and the outcome returned)."""

    def execute(self, request: TaskRequest, on_progress: ProgressCallback, cancelled: CancelCheck) -> TaskOutcome:
        if request.time_scale <= 0.0:
            raise BackendError(f"robot {self.context.robot_id}: time_scale must be > 0, got {request.time_scale}")
        with self._lock:
            if request.trial_id != self._trial_id:
                self._trial_id = request.trial_id
                self._trial_clock_start = time.monotonic()
            self._time_scale = request.time_scale
            self._check_faults()
            if self._fault:
                return TaskOutcome(Outcome.FAILED, f"robot fault: {self._fault}", 0.0, robot_fault=True)
            start = self._pose
        phases, early = self.plan(request, start)
        total_s = sum(phase.duration_s for phase in phases) or 1e-9
        elapsed_s = 0.0
        for phase in phases:
            ended = self._play(phase, request.time_scale, elapsed_s, total_s, on_progress, cancelled)
            elapsed_s += ended[1]
            if ended[0] is not None:
                return replace(ended[0], cycle_time_s=elapsed_s)
        if early is not None:
            return replace(early, cycle_time_s=elapsed_s)
        return TaskOutcome(Outcome.SUCCESS, "", elapsed_s)

    def _play(
        self,
        phase: Phase,
        time_scale: float,
        elapsed_before_s: float,
        total_s: float,
        on_progress: ProgressCallback,
        cancelled: CancelCheck,
    ) -> tuple[TaskOutcome | None, float]:
        """Play one phase; returns (outcome if the attempt ended inside it, simulated seconds played)."""
        with self._lock:
            start_pose = self._pose
        done_s = 0.0
        last = time.monotonic()
        while done_s < phase.duration_s:
            if cancelled():
                self._set_motion(None, (0.0, 0.0))
                return TaskOutcome(Outcome.CANCELLED, "cancelled", 0.0), done_s
            with self._lock:
                stopped, fault = self._stopped, self._fault
            if fault:
                self._set_motion(None, (0.0, 0.0))
                return TaskOutcome(Outcome.FAILED, f"robot fault: {fault}", 0.0, robot_fault=True), done_s
            remaining_real = (phase.duration_s - done_s) / time_scale
            self._wake.wait(min(PLAY_STEP_S, remaining_real))
            self._wake.clear()
            now = time.monotonic()
            step_s = 0.0 if stopped else (now - last) * time_scale
            last = now
            step_s = min(step_s, phase.duration_s - done_s)
            done_s += step_s
            self._advance(phase, start_pose, done_s, step_s)
            elapsed_s = elapsed_before_s + done_s
            on_progress(Progress(phase.name, min(1.0, elapsed_s / total_s), elapsed_s))
        with self._lock:
            fault = self._fault
        if fault:  # raised during the last step of the phase
            self._set_motion(None, (0.0, 0.0))
            return TaskOutcome(Outcome.FAILED, f"robot fault: {fault}", 0.0, robot_fault=True), done_s
        self._set_motion(phase.base_to, (0.0, 0.0))
        return None, done_s

    def _advance(self, phase: Phase, start: BasePose, done_s: float, step_s: float) -> None:
        fraction = min(1.0, done_s / phase.duration_s) if phase.duration_s > 0 else 1.0
        velocity = (0.0, 0.0)
        pose = start
        if phase.base_to is not None and phase.duration_s > 0:
            target = phase.base_to
            pose = BasePose(
                start.x_m + (target.x_m - start.x_m) * fraction,
                start.y_m + (target.y_m - start.y_m) * fraction,
                target.yaw_rad if fraction >= 1.0 else start.yaw_rad,
            )
            if step_s > 0 and fraction < 1.0:
                velocity = ((target.x_m - start.x_m) / phase.duration_s, (target.y_m - start.y_m) / phase.duration_s)
        runtime_s = self.context.profile.battery_runtime_h * 3600.0
        with self._lock:
            self._pose = pose
            self._velocity = velocity
            self._battery = max(0.0, self._battery - step_s / runtime_s)
            self._check_faults()

    def trial_time_s(self) -> float:
        """Simulated seconds since this robot's first goal of the current trial (0 before any)."""
        with self._lock:
            if not self._trial_id:
                return 0.0
            return (time.monotonic() - self._trial_clock_start) * self._time_scale

    def _check_faults(self) -> None:
        """Raise scheduled faults whose time has come (call with the lock held)."""
        if self._fault or not self._trial_id:
            return
        trial_s = (time.monotonic() - self._trial_clock_start) * self._time_scale
        for at_s, fault, tilt_rad in self._faults:
            if trial_s >= at_s:
                self._fault = fault
                self._tilt_rad = tilt_rad
                self._velocity = (0.0, 0.0)
                return

    def _set_motion(self, pose: BasePose | None, velocity: tuple[float, float]) -> None:
        with self._lock:
            if pose is not None:
                self._pose = pose
            self._velocity = velocity

    @staticmethod
    def _scheduled_faults(context: BackendContext) -> list[tuple[float, str, float]]:
        """(at_s, fault, tilt rad) of this robot's malfunction/trip perturbations, earliest first."""
        faults: list[tuple[float, str, float]] = []
        for perturbation in context.scenario.perturbations if context.scenario else ():
            if isinstance(perturbation, RobotMalfunction) and perturbation.robot == context.robot_id:
                faults.append((perturbation.at_s, "malfunction (scenario perturbation)", 0.0))
            elif isinstance(perturbation, RobotTrip) and perturbation.robot == context.robot_id:
                faults.append((perturbation.at_s, "fell (robot_trip perturbation)", TRIP_TILT_RAD))
        return sorted(faults)

    def stop(self, cause: str) -> None:
        with self._lock:
            self._stopped = True
            self._stop_cause = cause
            self._velocity = (0.0, 0.0)
        self._wake.set()

    def resume(self) -> None:
        with self._lock:
            self._stopped = False
            self._stop_cause = ""
        self._wake.set()

    def close(self) -> None:
        with self._lock:
            self._fault = self._fault or "backend closed"
        self._wake.set()

    def status(self) -> BackendStatus:
        with self._lock:
            self._check_faults()
            return BackendStatus(
                pose=self._pose,
                vx_m_s=self._velocity[0],
                vy_m_s=self._velocity[1],
                tilt_rad=self._tilt_rad,
                com_x_m=self._pose.x_m,
                com_y_m=self._pose.y_m,
                battery_fraction=self._battery,
                fault=self._fault,
            )


class ScriptedBackend(PhasePlayer):
    """Test backend: travel at max base speed, then one `work` phase of `work_s` simulated seconds.

    Options (robot node parameter `backend_options`, `key=value;...`): `work_s` (default 2.0),
    `fail` (comma-separated `task_id:attempt` pairs that end FAILED with reason 'scripted failure').
    """

    def __init__(self, context: BackendContext) -> None:
        super().__init__(context)
        try:
            self.work_s = float(context.options.get("work_s", "2.0"))
        except ValueError as exc:
            raise NodeConfigError(
                f"robot {context.robot_id}: backend option work_s={context.options['work_s']!r} is not a number"
            ) from exc
        pairs = [item for item in context.options.get("fail", "").split(",") if item]
        self.failures = {(task, int(attempt)) for task, _, attempt in (p.partition(":") for p in pairs)}

    def plan(self, request: TaskRequest, start: BasePose) -> tuple[list[Phase], TaskOutcome | None]:
        phases = travel_phases(self.context.profile, start, station_path(self.context.site, request.task))
        phases.append(Phase("work", self.work_s))
        if (request.task.id, request.attempt) in self.failures:
            return phases, TaskOutcome(Outcome.FAILED, "scripted failure", 0.0)
        return phases, None


def parse_options(text: str) -> dict[str, str]:
    """`key=value;key=value` -> dict (the robot node's `backend_options` parameter)."""
    options: dict[str, str] = {}
    for item in text.split(";"):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep:
            raise NodeConfigError(f"backend_options item {item!r} is not key=value")
        options[key.strip()] = value.strip()
    return options


def _sim_backend(context: BackendContext) -> RobotBackend:
    from humanoid_trials.ros.sim_backend import SimBackend  # imports pybullet only when this backend is chosen

    return SimBackend(context)


BACKENDS: dict[str, Callable[[BackendContext], RobotBackend]] = {
    "sim": _sim_backend,
    "scripted": ScriptedBackend,
}


def make_backend(name: str, context: BackendContext) -> RobotBackend:
    """The backend registered as `name`; NodeConfigError naming the known ones otherwise."""
    factory = BACKENDS.get(name)
    if factory is None:
        raise NodeConfigError(f"robot {context.robot_id}: unknown backend {name!r}; known: {', '.join(BACKENDS)}")
    return factory(context)
