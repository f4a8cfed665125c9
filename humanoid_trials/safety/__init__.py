"""Safety checks: separation, contact force, falls and stops (ISO 10218-2:2025, ISO/TS 15066:2016, ISO 13855).

Pure Python: no rclpy, no pybullet, no clock reads (times are passed in). Every finding is a
`humanoid_trials.model.events.SafetyEvent`.

- `separation`: protective separation distance S_p and `SeparationMonitor` (protective stop, explicit resume).
- `force`: body-region limit tables (`sites/safety/<name>.yaml`) and contact checks (power and force limiting).
- `balance`: `BalanceMonitor` for tilt, CoM outside the support polygon and height drops; `fall_reason`.
- `stops`: `StopLedger` for emergency / protective stops of a site or a robot, time to stopped, explicit resume.
- `worker`: simulated workers of `human_enters_zone` perturbations and the body regions of a standing worker.
"""
