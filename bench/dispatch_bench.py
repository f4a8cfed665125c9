"""Dispatch benchmark: each figure next to a raw baseline measured in the same run.

1. Round trip per task: a one-robot trial of N back-to-back zero-length tasks through dispatcher + robot node
   (separate processes) vs raw rclpy ExecuteTask round trips between two processes (target: ratio <= 2).
2. Throughput: a sim trial with R robots x T short tasks at a high time scale (default 20 x 1000; --tasks/--robots
   for fewer), tasks/s vs the raw round-trip rate.
3. Allocation: plan_all for 1000 tasks x 100 robots (dispatch.allocation) vs one raw scipy linear_sum_assignment of
   the same size (target: < 0.5 s).
4. Robot lost: wall time from kill -9 of a busy robot's process to its robot_lost event, vs the DDS liveliness
   lease (target: <= 2 s).

    .venv/bin/python bench/dispatch_bench.py [--round-trips 200] [--robots 20] [--tasks 1000] [--skip-throughput]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from humanoid_trials import paths  # noqa: E402
from humanoid_trials.dispatch.allocation import plan_all, synthetic_problem  # noqa: E402
from humanoid_trials.model import load_catalog  # noqa: E402
from humanoid_trials.ros.graph import trial_nodes, write_params_file  # noqa: E402
from humanoid_trials.ros.monitor import MonitorSession  # noqa: E402
from humanoid_trials.ros.names import robot_namespace  # noqa: E402
from humanoid_trials.ros.processes import NodeProcesses, node_environment  # noqa: E402

HANG_GUARD_S = 900.0

RAW_SERVER = textwrap.dedent(
    """
    import rclpy
    from rclpy.action import ActionServer
    from humanoid_trials_interfaces.action import ExecuteTask

    def execute(goal_handle):
        goal_handle.succeed()
        return ExecuteTask.Result(outcome="success")

    rclpy.init()
    node = rclpy.create_node("raw_server")
    ActionServer(node, ExecuteTask, "/raw/execute_task", execute)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, rclpy.executors.ExternalShutdownException):
        pass
    """
)

RAW_CLIENT = textwrap.dedent(
    """
    import sys, time
    import rclpy
    from rclpy.action import ActionClient
    from humanoid_trials_interfaces.action import ExecuteTask

    n = int(sys.argv[1])
    rclpy.init()
    node = rclpy.create_node("raw_client")
    client = ActionClient(node, ExecuteTask, "/raw/execute_task")
    client.wait_for_server()
    def once():
        future = client.send_goal_async(ExecuteTask.Goal(task_id="t", task_json="{}", time_scale=1.0))
        rclpy.spin_until_future_complete(node, future)
        result = future.result().get_result_async()
        rclpy.spin_until_future_complete(node, result)
    for _ in range(10):
        once()
    start = time.perf_counter()
    for _ in range(n):
        once()
    print((time.perf_counter() - start) / n)
    node.destroy_node()
    rclpy.shutdown()
    """
)


def raw_round_trip_s(n: int, domain: int) -> float:
    """Mean raw ExecuteTask round trip (s) between two processes (goal, accept, execute, result)."""
    env = node_environment(domain)
    server = subprocess.Popen([sys.executable, "-c", RAW_SERVER], env=env, start_new_session=True)
    try:
        out = subprocess.run(
            [sys.executable, "-c", RAW_CLIENT, str(n)],
            env=env,
            capture_output=True,
            text=True,
            timeout=HANG_GUARD_S,
            check=True,
        )
    finally:
        server.send_signal(2)
        server.wait(timeout=10)
    return float(out.stdout.strip().splitlines()[-1])


def write_bench_data(folder: Path, robots: int, tasks: int, timeout_s: float = 1e6) -> tuple[Path, Path]:
    """A site with `robots` wheeled robots at one station by a panel, and a scenario of `tasks` press repetitions.
    The timeout is in trial (simulated) seconds: at a time scale of 1000 even the real message latency would count
    a thousandfold, so it is set out of reach."""
    folder.mkdir(parents=True, exist_ok=True)
    robot_lines = "\n".join(
        f"  - {{id: bench-{i:02d}, profile: rby1-class, home_station: cell}}" for i in range(1, robots + 1)
    )
    site = folder / "bench-site.yaml"
    site.write_text(
        textwrap.dedent("""\
        id: bench-site
        name: Dispatch benchmark cell
        company: humanoid-trials
        industry: other
        location: {city: Seoul, country: KR}
        takt_time_s: 60
        layout:
          floor_m: [10.0, 10.0]
          stations:
            - {id: cell, pose: {x_m: 5.0, y_m: 5.0, yaw_deg: 0}}
          objects:
            - {id: panel, kind: panel, station: cell, pose: {x_m: 5.5, y_m: 5.0}, size_m: [0.20, 0.30, 1.00]}
        robots:
        """)
        + robot_lines
        + "\n",
        encoding="utf-8",
    )
    scenario = folder / "bench-press.yaml"
    scenario.write_text(
        textwrap.dedent(f"""\
        id: bench-press
        site: bench-site
        description: Back-to-back button presses, for the dispatch benchmark.
        time_limit_s: 1000000
        tasks:
          - id: press_button
            type: press
            params: {{panel: panel, button_m: [-0.05, 0.0, 0.05], force_n: 10.0, hold_s: 0.0}}
            repetitions: {tasks}
            timeout_s: {timeout_s}
            max_retries: 1
        """),
        encoding="utf-8",
    )
    return site, scenario


def run_trial(
    robots: int,
    tasks: int,
    work_s: float,
    time_scale: float,
    domain: int,
    folder: Path,
    observers: bool = True,
    backend: str = "scripted",
) -> dict[str, float]:
    """Run the bench scenario (plus recorder and safety monitor when `observers`); returns the trial's wall seconds,
    its span on the trial clock in wall seconds, and the task counts. `work_s` applies to scripted robots."""
    site_file, scenario_file = write_bench_data(folder, robots, tasks)
    extra = f"{site_file}:{scenario_file}"
    catalog = load_catalog(extra=[site_file, scenario_file])
    site = catalog.site("bench-site")
    nodes = trial_nodes(
        site,
        scenario="bench-press",
        time_scale=time_scale,
        backend=backend,
        backend_options=f"work_s={work_s}",
        extra_files=extra,
        auto_start=False,
    )
    if not observers:
        nodes = [node for node in nodes if node.executable in ("trial_dispatcher", "robot_node")]
    params = [paths.params_dir() / "sim_trial.yaml", write_params_file(nodes, folder / "params.yaml")]
    with (
        NodeProcesses(domain, folder / "logs", params) as procs,
        MonitorSession(domain, [r.id for r in site.robots]) as monitor,
    ):
        for node in nodes:
            procs.start(node)
        if not monitor.wait_for_dispatcher(120.0):
            raise SystemExit("trial_dispatcher did not come up; logs in " + str(folder / "logs"))
        wait_for_robots(monitor, robots)
        accepted, trial_id, reason = monitor.start_trial("bench-site", "bench-press", "sim", 60.0)
        if not accepted:
            raise SystemExit(f"bench trial refused: {reason}")
        start = time.perf_counter()
        deadline = time.monotonic() + HANG_GUARD_S
        while time.monotonic() < deadline:
            view = monitor.view()
            if view.trial_id == trial_id and view.finished:
                break
            monitor.wait(0.05)
        wall_s = time.perf_counter() - start
        view = monitor.view()
    counts = view.counts()
    started = [t.started for t in view.tasks if t.started is not None]
    finished = [t.finished for t in view.tasks if t.finished is not None]
    span_s = (max(finished) - min(started)).total_seconds() / time_scale if started and finished else float("nan")
    return {"wall_s": wall_s, "span_s": span_s, "done": counts.get("done", 0), "total": len(view.tasks)}


def lost_detection_s(domain: int, folder: Path) -> float:
    """Wall seconds from SIGKILL of a busy robot's process to its robot_lost event (2 robots, long tasks)."""
    site_file, scenario_file = write_bench_data(folder, 2, 4)
    catalog = load_catalog(extra=[site_file, scenario_file])
    site = catalog.site("bench-site")
    nodes = trial_nodes(
        site,
        scenario="bench-press",
        time_scale=1.0,
        backend="scripted",
        backend_options="work_s=30",
        extra_files=f"{site_file}:{scenario_file}",
        auto_start=False,
    )
    nodes = [node for node in nodes if node.executable in ("trial_dispatcher", "robot_node")]
    params = [paths.params_dir() / "sim_trial.yaml", write_params_file(nodes, folder / "params.yaml")]
    with (
        NodeProcesses(domain, folder / "logs", params) as procs,
        MonitorSession(domain, [r.id for r in site.robots]) as monitor,
    ):
        for node in nodes:
            procs.start(node)
        if not monitor.wait_for_dispatcher(120.0):
            raise SystemExit("trial_dispatcher did not come up; logs in " + str(folder / "logs"))
        wait_for_robots(monitor, 2)
        accepted, _, reason = monitor.start_trial("bench-site", "bench-press", "sim", 60.0)
        if not accepted:
            raise SystemExit(f"bench trial refused: {reason}")
        deadline = time.monotonic() + 60.0
        busy = None
        while busy is None and time.monotonic() < deadline:
            busy = next((r for r in monitor.view().robots if r.state == "busy"), None)
            monitor.wait(0.05)
        if busy is None:
            raise SystemExit("no robot became busy")
        victim = procs.find(f"/{robot_namespace(busy.robot_id)}/robot_node").process
        killed = time.monotonic()
        victim.kill()
        while monitor.robot_lost_at(busy.robot_id) is None and time.monotonic() < killed + 30.0:
            monitor.wait(0.05)
        lost = monitor.robot_lost_at(busy.robot_id)
    return float("nan") if lost is None else lost - killed


def wait_for_robots(monitor: MonitorSession, robots: int) -> None:
    deadline = time.monotonic() + 300.0
    while time.monotonic() < deadline and len(monitor.view().robots) < robots:
        monitor.wait(0.2)


def allocation_figures(n_tasks: int, n_robots: int, repeats: int = 5) -> tuple[float, float]:
    """(plan_all s, raw linear_sum_assignment s): medians of `repeats` runs."""
    tasks, robots, durations = synthetic_problem(n_tasks, n_robots, 0)
    plan_times, raw_times = [], []
    rng = np.random.default_rng(0)
    cost = rng.random((n_tasks, n_robots))
    for _ in range(repeats):
        start = time.perf_counter()
        plan_all(tasks, robots, durations)
        plan_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        linear_sum_assignment(cost)
        raw_times.append(time.perf_counter() - start)
    return statistics.median(plan_times), statistics.median(raw_times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--round-trips", type=int, default=200, help="tasks / raw goals for the round-trip figure")
    parser.add_argument("--robots", type=int, default=20, help="robots in the throughput trial")
    parser.add_argument("--tasks", type=int, default=1000, help="tasks in the throughput trial")
    parser.add_argument("--time-scale", type=float, default=1000.0, help="time scale of the throughput trial")
    parser.add_argument(
        "--backend",
        choices=("scripted", "sim"),
        default="scripted",
        help="robot backend of the throughput trial (sim: PyBullet executes every press)",
    )
    parser.add_argument("--skip-throughput", action="store_true", help="skip the R x T throughput trial")
    parser.add_argument("--only-throughput", action="store_true", help="run the throughput trial only")
    parser.add_argument("--domain-id", type=int, default=150 + os.getpid() % 40)
    args = parser.parse_args()
    os.environ["HUMANOID_TRIALS_RESULTS"] = tempfile.mkdtemp(prefix="dispatch-bench-")
    work = Path(os.environ["HUMANOID_TRIALS_RESULTS"])
    print(f"dispatch_bench: domain {args.domain_id}, work dir {work}")

    raw_s = raw_round_trip_s(args.round_trips, args.domain_id)
    print(f"raw rclpy ExecuteTask round trip (2 processes, {args.round_trips} goals): {raw_s * 1e3:.2f} ms")
    if not args.only_throughput:
        latency_figures(args, raw_s, work)
    if not args.skip_throughput:
        trial = run_trial(
            args.robots, args.tasks, 0.5, args.time_scale, args.domain_id, work / "throughput", backend=args.backend
        )
        rate = trial["done"] / trial["wall_s"]
        what = "scripted robots, 0.5 sim s per task" if args.backend == "scripted" else "PyBullet sim robots"
        print(
            f"sim trial throughput: {args.robots} robots x {args.tasks} tasks ({what}, time scale "
            f"{args.time_scale:g}): {trial['done']}/{trial['total']} done in {trial['wall_s']:.1f} s wall "
            f"= {rate:.0f} tasks/s; raw single-client round-trip rate {1 / raw_s:.0f} goals/s: ratio "
            f"{rate * raw_s:.2f}x"
        )


def latency_figures(args: argparse.Namespace, raw_s: float, work: Path) -> None:
    plan_s, raw_lsa_s = allocation_figures(1000, 100)
    print(
        f"allocation 1000 tasks x 100 robots: plan_all {plan_s * 1e3:.1f} ms (all rounds) vs raw "
        f"linear_sum_assignment {raw_lsa_s * 1e3:.1f} ms (one 1000x100 solve): ratio {plan_s / raw_lsa_s:.1f}x; "
        f"target < 500 ms: {'met' if plan_s < 0.5 else 'NOT met'}"
    )

    for observers, label in (
        (False, "dispatcher + robot node"),
        (True, "full graph: + trial_recorder + safety_monitor"),
    ):
        trial = run_trial(1, args.round_trips, 0.0, 1.0, args.domain_id, work / f"round_trip_{observers}", observers)
        per_task = trial["span_s"] / max(trial["done"], 1)
        print(
            f"dispatch round trip per task ({label}; 1 robot, {trial['done']}/{trial['total']} tasks back to back): "
            f"{per_task * 1e3:.2f} ms; ratio to raw {per_task / raw_s:.2f}x "
            f"(target <= 2x: {'met' if per_task / raw_s <= 2.0 else 'NOT met'})"
        )

    lost_s = lost_detection_s(args.domain_id, work / "robot_lost")
    print(
        f"robot lost after kill -9 of a busy robot: detected in {lost_s:.2f} s (target <= 2 s: "
        f"{'met' if lost_s <= 2.0 else 'NOT met'}); ratio to the 1 s DDS liveliness lease {lost_s / 1.0:.2f}x"
    )


if __name__ == "__main__":
    main()
