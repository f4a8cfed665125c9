"""The ament_python package installs what `ros2 launch` and `ros2 run` look for."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    [wheel] = out.glob("humanoid_trials-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


def data(names: set[str], rel: str) -> bool:
    return any(name.endswith(f".data/data/{rel}") for name in names)


def test_ament_index_marker_and_manifest(wheel_names: set[str]) -> None:
    assert data(wheel_names, "share/ament_index/resource_index/packages/humanoid_trials")
    assert data(wheel_names, "share/humanoid_trials/package.xml")


def test_node_executables_in_lib(wheel_names: set[str]) -> None:
    for node in ("trial_dispatcher", "robot_node", "trial_recorder", "safety_monitor"):
        assert data(wheel_names, f"lib/humanoid_trials/{node}"), node


def test_bundled_data_is_installed(wheel_names: set[str]) -> None:
    for rel in (
        "share/humanoid_trials/sites/ulsan-door-assembly.yaml",
        "share/humanoid_trials/sites/safety/iso_ts_15066.yaml",
        "share/humanoid_trials/tasks/scenarios/ulsan-door-bolts.yaml",
        "share/humanoid_trials/sim/robots/rby1-class/rby1_class.urdf",
        "share/humanoid_trials/sim/robots/biped-class/profile.yaml",
    ):
        assert data(wheel_names, rel), rel
    launch = [n for n in wheel_names if n.endswith(".launch.py")]
    assert any(n.endswith("share/humanoid_trials/ros_launch/sim_trial.launch.py") for n in launch)


def test_node_wrappers_import_their_node_modules() -> None:
    for wrapper in (ROOT / "ros_launch/nodes").iterdir():
        text = wrapper.read_text()
        assert f"from humanoid_trials.ros.{wrapper.name} import main" in text
        assert (ROOT / "humanoid_trials/ros" / f"{wrapper.name}.py").is_file(), wrapper.name
