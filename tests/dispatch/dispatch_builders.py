"""Builders for dispatch tests: small sites, robot profiles, scenarios and plans made with the domain model."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from humanoid_trials.dispatch.plan import TrialPlan
from humanoid_trials.model import RobotProfile, Scenario, Site

T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
TRIAL_ID = uuid.UUID("00000000-0000-0000-0000-00000000a11c")

ALL_CAPS = ("pick_place", "kitting", "carry", "machine_tend", "fasten", "inspect", "press")


def at(seconds: float) -> datetime:
    """T0 + seconds."""
    return T0 + timedelta(seconds=seconds)


def make_profile(
    profile_id: str,
    *,
    capabilities: Sequence[str] = ALL_CAPS,
    per_arm: float = 3.0,
    total: float = 6.0,
    reach: float = 0.8,
    height: float = 1.4,
    speed: float = 1.0,
) -> RobotProfile:
    """A wheeled robot profile (m, kg, m/s)."""
    return RobotProfile.model_validate(
        {
            "id": profile_id, "name": f"{profile_id} test robot", "maker": "tests", "kind": "wheeled", "dof": 16,
            "mass_kg": 100.0, "height_m": height, "payload_kg": {"per_arm": per_arm, "total": total},
            "reach_m": reach, "max_joint_speed_rad_s": 2.0, "max_drive_speed_m_s": speed,
            "battery_runtime_h": 4.0, "urdf": "/dev/null", "base_link": "base_link",
            "arms": [{"name": "right", "joints": ["j1"], "end_effector_link": "tcp"}],
            "support": {"footprint_m": [[0.3, 0.25], [0.3, -0.25], [-0.3, -0.25], [-0.3, 0.25]]},
            "capabilities": list(capabilities),
        },
        strict=False,
    )


def make_site(robots: Sequence[tuple[str, str, str]], site_id: str = "test-site") -> Site:
    """A site with stations a (0, 0), b (10, 0), c (0, 10) and one table per station; robots (id, profile, home)."""
    stations = {"a": (0.0, 0.0), "b": (10.0, 0.0), "c": (0.0, 10.0)}
    return Site.model_validate(
        {
            "id": site_id, "name": "Test cell", "company": "Tests", "industry": "other",
            "location": {"city": "Ulsan", "country": "KR"}, "takt_time_s": 60.0,
            "layout": {
                "floor_m": [30.0, 30.0],
                "stations": [{"id": s, "pose": {"x_m": x, "y_m": y, "yaw_deg": 0}} for s, (x, y) in stations.items()],
                "objects": [
                    {"id": f"table_{s}", "kind": "table", "station": s,
                     "pose": {"x_m": x + 0.6, "y_m": y, "z_m": 0.0, "yaw_deg": 0}, "size_m": [0.6, 0.8, 0.75]}
                    for s, (x, y) in stations.items()
                ] + [
                    {"id": "far_shelf", "kind": "shelf", "station": "c",
                     "pose": {"x_m": 3.0, "y_m": 10.0, "z_m": 0.0, "yaw_deg": 0}, "size_m": [0.4, 0.4, 1.0]},
                ],
            },
            "robots": [{"id": r, "profile": p, "home_station": h} for r, p, h in robots],
        },
        strict=False,
    )


def pick(task_id: str, source: str = "table_a", target: str = "table_a", mass: float = 1.0,
         **extra: Any) -> dict[str, Any]:
    """A pick_place task dict."""
    task: dict[str, Any] = {
        "id": task_id, "type": "pick_place",
        "params": {"part": {"name": "part", "mass_kg": mass, "size_m": [0.1, 0.1, 0.1]},
                   "source": source, "target": target},
    }
    task.update(extra)
    return task


def make_scenario(tasks: list[dict[str, Any]], *, site_id: str = "test-site", time_limit_s: float = 600.0) -> Scenario:
    return Scenario.model_validate(
        {"id": "test-scenario", "site": site_id, "description": "dispatch test", "time_limit_s": time_limit_s,
         "tasks": tasks},
        strict=False,
    )


def plan_of(
    tasks: list[dict[str, Any]],
    robots: Sequence[tuple[str, str, str]] = (("r1", "std", "a"), ("r2", "std", "b")),
    profiles: dict[str, RobotProfile] | None = None,
    time_limit_s: float = 600.0,
) -> TrialPlan:
    """A TrialPlan of `tasks` on the test site; robots (id, profile id, home station); profiles by id."""
    profiles = profiles or {"std": make_profile("std")}
    return TrialPlan.build(make_scenario(tasks, time_limit_s=time_limit_s), make_site(robots), profiles,
                           trial_id=TRIAL_ID)
