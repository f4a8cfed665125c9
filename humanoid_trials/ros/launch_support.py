"""Shared by ros_launch/sim_trial.launch.py and field_trial.launch.py: launch arguments -> launch_ros Node actions.

The node list comes from `humanoid_trials.ros.graph.trial_nodes` (one robot_node per robot of the site, namespaced
by robot id), the same list `humanoid-trials run` starts as processes. Imports `launch` and `launch_ros`, which
only a ROS 2 install has: nothing else in the package imports this module.
"""

from __future__ import annotations

from launch.actions import DeclareLaunchArgument
from launch.launch_context import LaunchContext
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from humanoid_trials import paths
from humanoid_trials.model import load_catalog
from humanoid_trials.ros.graph import trial_nodes

PACKAGE = "humanoid_trials"


def arguments(default_time_scale: str) -> list[DeclareLaunchArgument]:
    return [
        DeclareLaunchArgument("scenario", description="Scenario id (tasks/scenarios/<id>.yaml)."),
        DeclareLaunchArgument("site", default_value="", description="Site id; default: the scenario's site."),
        DeclareLaunchArgument("db", default_value="", description="Results store URL; default: SQLite in results/."),
        DeclareLaunchArgument(
            "time_scale",
            default_value=default_time_scale,
            description="Simulated robots run this many times faster than real time.",
        ),
        DeclareLaunchArgument(
            "backend",
            default_value="sim",
            description="Robot backend plug-in of the robot nodes (sim | scripted | vendor).",
        ),
    ]


def nodes(context: LaunchContext, mode: str, params_file: str) -> list[Node]:
    """Node actions for the trial described by the launch arguments (OpaqueFunction body)."""
    scenario_id = LaunchConfiguration("scenario").perform(context)
    site_id = LaunchConfiguration("site").perform(context)
    catalog = load_catalog()
    if scenario_id not in catalog.scenarios:
        known = ", ".join(catalog.scenarios)
        raise RuntimeError(f"scenario:={scenario_id!r} is not a bundled scenario; known: {known}")
    scenario = catalog.scenarios[scenario_id]
    if site_id and site_id != scenario.site:
        raise RuntimeError(f"scenario {scenario_id!r} is written for site {scenario.site!r}, not site:={site_id!r}")
    site = catalog.site(scenario.site)
    time_scale = float(LaunchConfiguration("time_scale").perform(context)) if mode == "sim" else 1.0
    specs = trial_nodes(
        site,
        scenario=scenario.id,
        mode=mode,
        time_scale=time_scale,
        db=LaunchConfiguration("db").perform(context),
        backend=LaunchConfiguration("backend").perform(context),
    )
    params = str(paths.params_dir() / params_file)
    return [
        Node(
            package=PACKAGE,
            executable=spec.executable,
            name=spec.name,
            namespace=spec.namespace or None,
            parameters=[params, dict(spec.parameters)],
            output="screen",
        )
        for spec in specs
    ]
