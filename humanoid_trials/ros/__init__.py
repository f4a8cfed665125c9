"""ROS 2 nodes of humanoid-trials: the only package that imports rclpy or *_msgs.

Nodes (one Node subclass per module, each with `main(args=None)`; run as
`python -m humanoid_trials.ros.<module> --ros-args ...` or as `lib/humanoid_trials/<module>`):
- `trial_dispatcher`: services start_trial / stop_trial, latched trial_state, trial_events, execute_task clients,
  robot-lost detection (liveliness + heartbeat), validation gate in field mode.
- `robot_node`: one per robot, namespaced by robot id: execute_task action server over a backend plug-in
  (`backends.BACKENDS`: sim, scripted), robot_status heartbeat with liveliness, protective_stop service.
- `trial_recorder`: trial_events + safety_events -> results store (idempotent by event id), acks on events_stored.
- `safety_monitor`: separation, falls, e-stops (safety helper's node).
Support: `names` (graph names), `qos` (QoS profiles), `convert` (message <-> model), `graph` (the node list of a
trial, shared by launch files and the CLI), `processes` (start/stop node processes), `monitor` (follow a trial from
a tool), `runtime` (spin + clean shutdown). The nodes are thin: they translate messages and call the pure layers.
"""
