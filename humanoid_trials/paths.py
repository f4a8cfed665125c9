"""Where installed data lives: the one helper that finds `share/humanoid_trials/`.

In a source checkout the data folders sit beside the package; in an installed package (pip or colcon) they are
under ``<prefix>/share/humanoid_trials/``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PACKAGE = "humanoid_trials"
_SOURCE_ROOT = Path(__file__).resolve().parent.parent


def share_dir() -> Path:
    """Root of the bundled data (`sim/`, `sites/`, `tasks/`, `ros_launch/`, `results/`)."""
    override = os.environ.get("HUMANOID_TRIALS_SHARE")
    if override:
        return Path(override)
    if (_SOURCE_ROOT / "package.xml").is_file() and (_SOURCE_ROOT / "sites").is_dir():
        return _SOURCE_ROOT
    for prefix in _prefixes():
        candidate = prefix / "share" / PACKAGE
        if (candidate / "package.xml").is_file():
            return candidate
    return _SOURCE_ROOT


def _prefixes() -> list[Path]:
    found = [Path(p) for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    found.append(Path(sys.prefix))
    return found


def robots_dir() -> Path:
    return share_dir() / "sim" / "robots"


def sites_dir() -> Path:
    return share_dir() / "sites"


def scenarios_dir() -> Path:
    return share_dir() / "tasks" / "scenarios"


def launch_dir() -> Path:
    return share_dir() / "ros_launch"


def params_dir() -> Path:
    return launch_dir() / "params"


def results_dir() -> Path:
    """Default place for trial databases, MCAP logs, validation files and reports (created on demand)."""
    override = os.environ.get("HUMANOID_TRIALS_RESULTS")
    path = Path(override) if override else Path.cwd() / "results"
    path.mkdir(parents=True, exist_ok=True)
    return path
