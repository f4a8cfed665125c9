"""Trial with simulated robots.

    ros2 launch humanoid_trials sim_trial.launch.py scenario:=ulsan-door-bolts [site:=...] [db:=...] [time_scale:=10]

Starts trial_recorder, one robot_node per robot of the site (namespaced by robot id, backend sim), safety_monitor
and trial_dispatcher, which starts the trial once every robot reports. Parameters: params/sim_trial.yaml.
"""

from __future__ import annotations

from launch import LaunchDescription
from launch.actions import OpaqueFunction

from humanoid_trials.ros.launch_support import arguments, nodes


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription(
        [*arguments("10.0"), OpaqueFunction(function=lambda context: nodes(context, "sim", "sim_trial.yaml"))]
    )
