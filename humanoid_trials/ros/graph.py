"""The node graph of a trial, described once: which nodes run, in which namespace, with which parameters.

Used by the launch files (through `robot_nodes`), by `humanoid-trials run` (which starts the same nodes as processes)
and by the tests and benchmarks. Pure Python: no rclpy, no launch imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from humanoid_trials.model import Site
from humanoid_trials.ros.names import robot_namespace


@dataclass(frozen=True)
class NodeSpec:
    """One node to start: executable / module name, ROS namespace ('' = root), node name and parameters."""

    executable: str
    namespace: str
    name: str
    parameters: Mapping[str, Any] = field(default_factory=dict)

    @property
    def module(self) -> str:
        """Python module to run with `python -m`."""
        return f"humanoid_trials.ros.{self.executable}"

    @property
    def fqn(self) -> str:
        """Fully qualified node name, e.g. /rby1_01/robot_node."""
        return f"/{self.namespace}/{self.name}" if self.namespace else f"/{self.name}"


def robot_nodes(site: Site, parameters: Mapping[str, Any] | None = None) -> list[NodeSpec]:
    """One robot_node per robot deployed at `site`, namespaced by robot id (see `robot_namespace`)."""
    common = dict(parameters or {})
    return [
        NodeSpec(
            "robot_node", robot_namespace(robot.id), "robot_node", {**common, "robot_id": robot.id, "site": site.id}
        )
        for robot in site.robots
    ]


def trial_nodes(
    site: Site,
    *,
    scenario: str = "",
    mode: str = "sim",
    time_scale: float = 1.0,
    db: str = "",
    backend: str = "sim",
    backend_options: str = "",
    extra_files: str = "",
    with_robots: bool = True,
    auto_start: bool = True,
    safety_params: Mapping[str, Any] | None = None,
) -> list[NodeSpec]:
    """Recorder, robot nodes (unless `with_robots` is false: real robots bring their own), safety monitor and
    dispatcher, all told about `scenario` (perturbations); the dispatcher starts its trial by itself when
    `auto_start`, else it waits for a start_trial call. `safety_params` are extra safety_monitor parameters
    (e.g. auto_resume_after_s)."""
    nodes = [NodeSpec("trial_recorder", "", "trial_recorder", {"db": db})]
    if with_robots:
        nodes += robot_nodes(
            site,
            {
                "scenario": scenario,
                "backend": backend,
                "backend_options": backend_options,
                "time_scale": time_scale,
                "extra_files": extra_files,
            },
        )
    nodes.append(
        NodeSpec(
            "safety_monitor",
            "",
            "safety_monitor",
            {
                "site": site.id,
                "scenario": scenario,
                "mode": mode,
                "time_scale": time_scale,
                "extra_files": extra_files,
                **(safety_params or {}),
            },
        )
    )
    nodes.append(
        NodeSpec(
            "trial_dispatcher",
            "",
            "trial_dispatcher",
            {
                "scenario": scenario if auto_start else "",
                "site": site.id,
                "mode": mode,
                "time_scale": time_scale,
                "db": db,
                "extra_files": extra_files,
            },
        )
    )
    return nodes


def write_params_file(nodes: list[NodeSpec], path: Path) -> Path:
    """One ROS 2 params file for `nodes`, keyed by fully qualified node name (`/ns/name: ros__parameters: ...`)."""
    document = {node.fqn: {"ros__parameters": dict(node.parameters)} for node in nodes}
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path
