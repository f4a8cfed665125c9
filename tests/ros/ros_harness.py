"""Starting a trial's node graph as real processes for the ROS tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from humanoid_trials import paths
from humanoid_trials.model import Catalog
from humanoid_trials.ros.graph import NodeSpec, trial_nodes, write_params_file
from humanoid_trials.ros.monitor import MonitorSession
from humanoid_trials.ros.processes import NodeProcesses


@contextmanager
def running_graph(
    catalog: Catalog,
    scenario_id: str,
    domain: int,
    workdir: Path,
    *,
    backend: str = "scripted",
    backend_options: str = "",
    time_scale: float = 20.0,
    db: str = "",
) -> Iterator[tuple[NodeProcesses, MonitorSession, list[NodeSpec]]]:
    """Start a trial's nodes as processes (dispatcher waits for start_trial) plus a monitor; stop all on exit."""
    scenario = catalog.scenario(scenario_id)
    site = catalog.site(scenario.site)
    nodes = trial_nodes(
        site,
        scenario=scenario.id,
        time_scale=time_scale,
        db=db,
        backend=backend,
        backend_options=backend_options,
        auto_start=False,
    )
    params = [paths.params_dir() / "sim_trial.yaml", write_params_file(nodes, workdir / "params.yaml")]
    with (
        NodeProcesses(domain, workdir / "logs", params) as procs,
        MonitorSession(domain, [robot.id for robot in site.robots]) as monitor,
    ):
        for node in nodes:
            procs.start(node)
        yield procs, monitor, nodes
