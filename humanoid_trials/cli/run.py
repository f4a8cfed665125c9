"""`humanoid-trials run SCENARIO --sim`: start the trial's ROS 2 nodes as processes, follow the trial live, summarise.

The nodes are the ones `ros2 launch humanoid_trials sim_trial.launch.py` starts (`humanoid_trials.ros.graph`), run as
`python -m humanoid_trials.ros.<node> --ros-args --params-file …` in one new session with a private ROS_DOMAIN_ID.
Every process is stopped on exit and on Ctrl-C (SIGINT, then the process group is killed).
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Group
from rich.live import Live
from rich.panel import Panel
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from humanoid_trials import paths
from humanoid_trials.cli.common import CheckFailed, UserError, catalog, console, emit_json, err_console
from humanoid_trials.model import Scenario
from humanoid_trials.model.errors import UnknownNameError

DISPATCHER_WAIT_S = 60.0
"""Wall seconds to wait for the dispatcher's start_trial service (node start-up, discovery)."""
STORE_WAIT_S = 15.0
"""Wall seconds to wait, after the trial finished, for the recorder to acknowledge every event."""
REFRESH_S = 0.25
TERMINAL = ("done", "failed", "cancelled")
STATE_STYLE = {
    "queued": "dim",
    "assigned": "cyan",
    "underway": "yellow",
    "done": "green",
    "failed": "red",
    "cancelled": "magenta",
    "idle": "green",
    "busy": "yellow",
    "stopped": "red",
    "fault": "bold red",
    "lost": "bold red",
}


def register(cli: click.Group) -> None:
    cli.add_command(run)


@click.command("run")
@click.argument("scenario_id", metavar="SCENARIO")
@click.option(
    "--sim/--field",
    "sim",
    default=True,
    show_default=True,
    help="Simulated robots (started here) or field mode (real robots already on the graph; the "
    "validation gate applies).",
)
@click.option(
    "--time-scale",
    type=click.FloatRange(min=0.01, max=10_000.0),
    default=10.0,
    show_default=True,
    help="Sim only: how many times faster than real time the simulated robots run.",
)
@click.option("--db", "db_url", default="", help="Results store URL (default: SQLite file under results/).")
@click.option(
    "--domain-id",
    type=click.IntRange(0, 232),
    default=None,
    help="ROS_DOMAIN_ID for this run (default: a private one derived from the process id).",
)
@click.option(
    "--backend",
    type=click.Choice(["sim", "scripted"]),
    default="sim",
    show_default=True,
    help="Robot backend of the simulated robots.",
)
@click.option("--override-by", default="", help="Field only: person overriding a refused validation gate.")
@click.option("--override-reason", default="", help="Field only: why the gate is overridden.")
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(min=1.0),
    default=None,
    help="Wall-clock limit (s) for the run (default: scenario time limit / time scale + 120 s).",
)
@click.option(
    "--auto-resume-after",
    "auto_resume_s",
    type=click.FloatRange(min=0.0),
    default=2.0,
    show_default=True,
    help="Sim only: resume a robot held for separation once nobody has been too close for this many trial "
    "seconds (0: wait for an explicit `humanoid-trials safety resume`). Field trials always need a person.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (no live display).")
def run(
    scenario_id: str,
    sim: bool,
    time_scale: float,
    db_url: str,
    domain_id: int | None,
    backend: str,
    override_by: str,
    override_reason: str,
    timeout_s: float | None,
    auto_resume_s: float,
    as_json: bool,
) -> None:
    """Run a trial of SCENARIO: start the ROS 2 nodes, show live progress, print a summary and the trial id.

    \b
    Example:
      humanoid-trials run ulsan-door-bolts --sim --time-scale 20
    """
    from humanoid_trials.ros.graph import trial_nodes, write_params_file
    from humanoid_trials.ros.monitor import MonitorSession
    from humanoid_trials.ros.processes import NodeProcesses

    if bool(override_by) != bool(override_reason):
        raise UserError("--override-by and --override-reason go together: say who overrides the gate and why")
    cat = catalog()
    try:
        scenario = cat.scenario(scenario_id)
    except UnknownNameError as exc:
        raise UserError(str(exc)) from exc
    site = cat.site(scenario.site)
    mode = "sim" if sim else "field"
    scale = time_scale if sim else 1.0
    domain = domain_id if domain_id is not None else 20 + os.getpid() % 80
    limit_s = timeout_s or scenario.time_limit_s / scale + 120.0
    run_dir = paths.results_dir() / "runs" / f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{scenario.id}"
    run_dir.mkdir(parents=True, exist_ok=True)
    nodes = trial_nodes(
        site,
        scenario=scenario.id,
        mode=mode,
        time_scale=scale,
        db=db_url,
        backend=backend,
        with_robots=sim,
        auto_start=False,
        safety_params={"auto_resume_after_s": auto_resume_s} if sim and auto_resume_s > 0 else None,
    )
    params = [paths.params_dir() / f"{mode}_trial.yaml", write_params_file(nodes, run_dir / "params.yaml")]
    robot_ids = [robot.id for robot in site.robots]

    outcome: dict[str, Any] = {}
    with NodeProcesses(domain, run_dir / "logs", params) as procs, MonitorSession(domain, robot_ids) as monitor:
        for node in nodes:
            procs.start(node)
        if not monitor.wait_for_dispatcher(DISPATCHER_WAIT_S):
            dispatcher = procs.find("/trial_dispatcher")
            raise CheckFailed(
                f"trial_dispatcher did not come up within {DISPATCHER_WAIT_S:g} s; its log "
                f"({dispatcher.log_path}):\n{procs.log_tail(dispatcher)}"
            )
        accepted, trial_id, reason = monitor.start_trial(site.id, scenario.id, mode, 30.0, override_by, override_reason)
        if not accepted:
            raise CheckFailed(f"trial of {scenario.id} not started: {reason}")
        outcome = _follow(monitor, procs, trial_id, scenario, mode, scale, limit_s, live=not as_json)
    view = outcome["view"]
    summary = _summary(view, scenario, mode, scale, db_url, run_dir, outcome["interrupted"], outcome["timed_out"])
    if as_json:
        emit_json(summary)
    else:
        _print_summary(summary)
    if summary["status"] != "complete":
        raise click.exceptions.Exit(1)


def _follow(
    monitor: Any, procs: Any, trial_id: str, scenario: Scenario, mode: str, scale: float, limit_s: float, live: bool
) -> dict[str, Any]:
    """Follow the trial until it finishes, the wall-clock limit passes or Ctrl-C; then wait for the recorder."""
    started = time.monotonic()
    interrupted = timed_out = False
    reported_dead: set[str] = set()
    display_cm = Live(console=console, auto_refresh=False) if live else _NoLive()
    with display_cm as display:
        try:
            while True:
                view = monitor.view()
                mine = view.trial_id == trial_id
                display.update(
                    _render(view if mine else None, scenario, mode, scale, time.monotonic() - started), refresh=True
                )
                if mine and view.finished:
                    break
                for running in procs.dead():
                    if running.node.fqn not in reported_dead:
                        reported_dead.add(running.node.fqn)
                        code = running.process.returncode
                        err_console.print(
                            f"[yellow]node {running.node.fqn} exited (code {code}); log: {running.log_path}[/]"
                        )
                if "/trial_dispatcher" in reported_dead:
                    raise CheckFailed("trial_dispatcher exited; see " + str(procs.find("/trial_dispatcher").log_path))
                if time.monotonic() - started > limit_s:
                    timed_out = True
                    monitor.stop_trial(trial_id, f"wall-clock limit {limit_s:g} s of `run` reached", 10.0)
                    break
                monitor.wait(REFRESH_S)
        except KeyboardInterrupt:
            interrupted = True
            err_console.print("[yellow]Ctrl-C: stopping the trial…[/]")
            monitor.stop_trial(trial_id, "interrupted (Ctrl-C)", 10.0)
        deadline = time.monotonic() + STORE_WAIT_S
        while time.monotonic() < deadline:
            view = monitor.view()
            if view.trial_id == trial_id and view.finished and monitor.all_events_stored():
                break
            monitor.wait(REFRESH_S)
        view = monitor.view()
        display.update(_render(view, scenario, mode, scale, time.monotonic() - started), refresh=True)
    return {"view": view, "interrupted": interrupted, "timed_out": timed_out}


class _NoLive:
    """Stand-in for rich.live.Live when output is JSON."""

    def __enter__(self) -> _NoLive:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def update(self, _renderable: Any, refresh: bool = False) -> None:
        return None


def _render(view: Any, scenario: Scenario, mode: str, scale: float, elapsed_s: float) -> Panel:
    title = f"{scenario.id} at {scenario.site} · {mode}" + (f" ×{scale:g}" if mode == "sim" else "")
    if view is None:
        return Panel(Text(f"starting nodes, waiting for the robots… {elapsed_s:4.0f} s"), title=title)
    counts = view.counts()
    total = len(view.tasks)
    finished = sum(counts.get(state, 0) for state in TERMINAL)
    head = Table.grid(padding=(0, 2))
    head.add_row(
        Text(f"trial {view.trial_id}"),
        Text(f"{finished}/{total} terminal"),
        Text(
            "  ".join(
                f"{state} {counts.get(state, 0)}"
                for state in ("done", "failed", "cancelled", "underway", "assigned", "queued")
            )
        ),
        Text(f"{elapsed_s:5.0f} s wall"),
    )
    bar = ProgressBar(total=max(total, 1), completed=finished, width=60)
    robots = Table(title="robots", show_edge=False, pad_edge=False)
    for column in ("robot", "state", "task", "battery"):
        robots.add_column(column)
    for robot in view.robots:
        robots.add_row(
            robot.robot_id,
            Text(robot.state, style=STATE_STYLE.get(robot.state, "")),
            robot.task_id,
            f"{robot.battery_fraction:.0%}",
        )
    safety = Text(f"safety events: {len(view.safety)}")
    for event in view.safety[-3:]:
        safety.append(
            f"\n  {event.type} ({event.severity}) {event.robot_id}: {event.measured:.3g} / "
            f"{event.limit:.3g} {event.unit}"
        )
    status = Text(f"{view.state}" + (f": {view.reason}" if view.reason else ""))
    return Panel(Group(head, bar, robots, safety, status), title=title)


def _summary(
    view: Any,
    scenario: Scenario,
    mode: str,
    scale: float,
    db_url: str,
    run_dir: Path,
    interrupted: bool,
    timed_out: bool,
) -> dict[str, Any]:
    tasks: dict[str, dict[str, Any]] = {}
    for row in view.tasks:
        entry = tasks.setdefault(
            row.task_id,
            {
                "task_type": row.task_type,
                "repetitions": 0,
                "done": 0,
                "failed": 0,
                "cancelled": 0,
                "other": 0,
                "cycle_times_s": [],
                "reasons": [],
            },
        )
        entry["repetitions"] += 1
        entry[row.state if row.state in TERMINAL else "other"] += 1
        if row.state == "done" and row.cycle_time_s is not None:
            entry["cycle_times_s"].append(round(row.cycle_time_s, 3))
        if row.state in ("failed", "cancelled") and row.reason:
            entry["reasons"].append(row.reason)
    for entry in tasks.values():
        cycles = entry["cycle_times_s"]
        entry["mean_cycle_s"] = round(statistics.fmean(cycles), 3) if cycles else None
        entry["max_cycle_s"] = max(cycles) if cycles else None
    if view.finished and view.reason == "complete":
        status = "complete"
    elif interrupted:
        status = "interrupted"
    elif timed_out:
        status = "timed_out"
    else:
        status = view.reason or "unfinished"
    safety: dict[str, int] = {}
    for event in view.safety:
        safety[event.type] = safety.get(event.type, 0) + 1
    return {
        "trial_id": view.trial_id,
        "scenario_id": scenario.id,
        "site_id": scenario.site,
        "mode": mode,
        "time_scale": scale,
        "status": status,
        "finish_reason": view.reason,
        "counts": view.counts(),
        "repetitions": len(view.tasks),
        "tasks": tasks,
        "safety_events": safety,
        "events_stored": view.events_stored,
        "events_seen": view.events_seen,
        "db": db_url or "default (results/ SQLite file)",
        "run_dir": str(run_dir),
    }


def _print_summary(summary: dict[str, Any]) -> None:
    table = Table(title=f"trial {summary['trial_id']} — {summary['scenario_id']} ({summary['status']})")
    for column in ("task", "type", "reps", "done", "failed", "cancelled", "mean cycle s", "max cycle s"):
        table.add_column(column, justify="right" if column not in ("task", "type") else "left")
    for task_id, entry in summary["tasks"].items():
        table.add_row(
            task_id,
            entry["task_type"],
            str(entry["repetitions"]),
            str(entry["done"]),
            str(entry["failed"]),
            str(entry["cancelled"]),
            _num(entry["mean_cycle_s"]),
            _num(entry["max_cycle_s"]),
        )
    console.print(table)
    for task_id, entry in summary["tasks"].items():
        for reason in sorted(set(entry["reasons"])):
            console.print(f"  [red]{task_id}[/]: {reason}", highlight=False)
    safety = ", ".join(f"{kind} {count}" for kind, count in summary["safety_events"].items()) or "none"
    console.print(f"safety events: {safety}")
    console.print(f"events stored: {summary['events_stored']}/{summary['events_seen']} in {summary['db']}")
    console.print(f"node logs: {summary['run_dir']}/logs")
    console.print(f"trial id: [bold]{summary['trial_id']}[/]  ({summary['finish_reason'] or summary['status']})")


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"
