"""Field trial: real robots on the wall clock, behind the validation gate.

    ros2 launch humanoid_trials field_trial.launch.py scenario:=ulsan-door-bolts backend:=<vendor adapter> [db:=...]

Starts trial_recorder, one robot_node per robot of the site (namespaced by robot id; `backend` selects the vendor
adapter registered in humanoid_trials.ros.backends.BACKENDS), safety_monitor and trial_dispatcher in field mode:
the trial is refused unless the scenario's latest pre-validation passed for its current content hash.
`time_scale` is accepted for symmetry with sim_trial.launch.py and ignored (field trials run at 1.0).
Parameters: params/field_trial.yaml.
"""

from __future__ import annotations

from launch import LaunchDescription
from launch.actions import OpaqueFunction

from humanoid_trials.ros.launch_support import arguments, nodes


def generate_launch_description() -> LaunchDescription:
    return LaunchDescription(
        [*arguments("1.0"), OpaqueFunction(function=lambda context: nodes(context, "field", "field_trial.yaml"))]
    )
